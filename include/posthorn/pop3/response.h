// posthorn/pop3/response.h — POP3 responses: status lines and their codes.
//
// PURPOSE
//   A POP3 response starts with a status line: "+OK text", "-ERR text", or
//   during a SASL exchange a continuation "+ base64". Multi-line responses
//   (LIST, UIDL, RETR, TOP, CAPA) follow the "+OK" line with dot-stuffed
//   lines ended by ".\r\n" (wire/dot_stuffing.h). AppendStatusLine()
//   writes a status line; ParseStatusLine() reads one (client side).
//
// STANDARDS
//   RFC 1939 section 3 (status indicators, 512-octet response lines,
//   multi-line responses); RFC 2449 section 8 (extended response codes in
//   brackets after "-ERR": "[IN-USE]", "[LOGIN-DELAY]"; hierarchical with
//   "/"); RFC 3206 ("[SYS/TEMP]", "[SYS/PERM]", "[AUTH]"); RFC 5034
//   section 4 (continuation "+ " base64).
//
//     status-line = ("+OK" / "-ERR") [SP [resp-code SP] text] CRLF
//     resp-code   = "[" resp-level *("/" resp-level) "]"
//     resp-level  = 1*<any VCHAR except "/" and "]">
//
// LENIENCY (parser)
//   The status indicator is matched case-sensitively as RFC 1939 writes
//   it. "+OK" / "-ERR" with nothing after them are accepted; so is a
//   line that ended in a bare LF (the caller's LineReader decides).
//   A bracketed code is split off only when it is well formed.

#ifndef POSTHORN_POP3_RESPONSE_H_
#define POSTHORN_POP3_RESPONSE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace posthorn::pop3 {

// RFC 2449 section 8.1 / RFC 3206 section 4 response codes.
inline constexpr std::string_view kCodeInUse = "IN-USE";
inline constexpr std::string_view kCodeLoginDelay = "LOGIN-DELAY";
inline constexpr std::string_view kCodeSysTemp = "SYS/TEMP";
inline constexpr std::string_view kCodeSysPerm = "SYS/PERM";
inline constexpr std::string_view kCodeAuth = "AUTH";

enum class Status : unsigned char {
  kOk,            // "+OK"
  kErr,           // "-ERR"
  kContinuation,  // "+ " (SASL challenge)
};

struct Response {
  Status status = Status::kOk;
  std::string code;  // "IN-USE", "SYS/TEMP", ... or empty
  std::string text;  // the rest of the line; the base64 of a continuation
  bool ok() const { return status == Status::kOk; }
};

// Appends "+OK text\r\n" / "-ERR [code] text\r\n". An empty text gives
// "+OK\r\n". CR, LF and NUL in code or text are written as spaces, so
// configuration or user text can never split a response line.
void AppendStatusLine(bool ok, std::string_view code, std::string_view text,
                      std::string* out);

// Parses one status line without its line end; nullopt when it starts
// with neither "+OK", "-ERR" nor "+ " ("+" alone is an empty challenge).
std::optional<Response> ParseStatusLine(std::string_view line);

// True when `code` is a well-formed resp-code body (without brackets).
bool IsResponseCode(std::string_view code);

}  // namespace posthorn::pop3

#endif  // POSTHORN_POP3_RESPONSE_H_
