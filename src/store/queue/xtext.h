// store/queue/xtext.h — one string as one space-free, line-free token.
//
// The envelope file holds addresses and replies that may contain any byte
// (a hostile RCPT TO, a remote reply with CR LF or NUL). Each is written
// as RFC 3461 xtext: bytes '!'..'~' except '+' and '=' stand for
// themselves, every other byte is "+HH" (two uppercase hex digits). A
// token therefore never holds a space, CR, LF or control byte, so no value
// can end its field or its line early. The empty string, which xtext cannot
// spell, is the lone token "=" ('=' never appears literally in xtext).
//
// Decoding is strict: lowercase hex, a short "+H", a literal '=' or '+'
// anywhere else, or any byte outside '!'..'~' is an error.

#ifndef POSTHORN_SRC_STORE_QUEUE_XTEXT_H_
#define POSTHORN_SRC_STORE_QUEUE_XTEXT_H_

#include <optional>
#include <string>
#include <string_view>

namespace posthorn::store::queue {

// Appends the token for `value` to `out`.
void AppendXtextToken(std::string_view value, std::string& out);

// The value of `token`, or nullopt when it is not a well-formed token.
std::optional<std::string> DecodeXtextToken(std::string_view token);

}  // namespace posthorn::store::queue

#endif  // POSTHORN_SRC_STORE_QUEUE_XTEXT_H_
