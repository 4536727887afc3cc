// NAME
//   inspect_message - print an RFC 5322 / MIME message as JSON
//
// SYNOPSIS
//   inspect_message [FILE]
//   inspect_message --help
//
// DESCRIPTION
//   Reads one message from FILE (mapped into memory) or, without FILE or
//   with "-", from standard input (read whole), parses it with
//   posthorn::message::ParseMessage and prints one JSON object on standard
//   output:
//
//   {"headers":[{"name":..,"value":<unfolded raw value>,"decoded":<UTF-8>}],
//    "subject":<decoded or null>,"date":<unix seconds or null>,
//    "message_id":"<...>" or null,
//    "from":[{"name":<decoded display name>,"address":"local@domain"}],
//    "to":[...],"cc":[...],"reply_to":[...],
//    "parts":[{"path":"1.2","content_type":"text/plain","charset":"utf-8",
//              "filename":null,"encoding":"base64","decoded_size":1234,
//              "sha256":<hex of the decoded body>}],
//    "defects":[{"kind":"boundary_never_closed","offset":123}]}
//
//   Groups are flattened into their mailboxes. Only leaves are listed in
//   "parts" (multipart containers are not), with IMAP part numbers; a
//   single-part message has one part "1". charset and filename are null when
//   absent. Strings are valid UTF-8 (invalid bytes become U+FFFD).
//
// EXIT STATUS (sysexits.h)
//   0   the input parsed as a message (defects or not)
//   64  EX_USAGE: bad arguments
//   65  EX_DATAERR: the input is not a message at all: it is empty, no
//       header field could be parsed from it, or it passes a parser limit
//       (a header line over 256 KiB, more than 10,000 fields, more than
//       10,000 MIME parts)
//   66  EX_NOINPUT: FILE cannot be opened or read
//   Errors are one line on standard error: "inspect_message: FILE: reason".
//
// SECURITY
//   The input is untrusted; the parser is bounded (see mime.h). Output is
//   proportional to the input.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "posthorn/message/mime.h"
#include "report.h"

namespace {

constexpr int kExOk = 0;
constexpr int kExUsage = 64;
constexpr int kExDataErr = 65;
constexpr int kExNoInput = 66;

constexpr char kUsage[] =
    "usage: inspect_message [FILE | -]\n"
    "Parses one RFC 5322 / MIME message (FILE, or standard input) and prints\n"
    "its headers, addresses, MIME leaves (with decoded size and SHA-256) and\n"
    "defects as JSON.\n"
    "Exit: 0 parsed, 64 bad arguments, 65 not a message (empty, no header\n"
    "field, or over a parser limit), 66 FILE cannot be read.\n";

void Fail(std::string_view name, std::string_view reason) {
  std::cerr << "inspect_message: " << name << ": " << reason << "\n";
}

// The whole input, mapped (a file) or read (standard input).
class Input {
 public:
  ~Input() {
    if (map_ != nullptr) munmap(map_, size_);
  }
  std::string_view view() const {
    return map_ != nullptr
               ? std::string_view(static_cast<const char*>(map_), size_)
               : std::string_view(buffer_);
  }

  // Returns an error text, or "" on success.
  std::string OpenFile(const char* path) {
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::strerror(errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      const std::string err = std::strerror(errno);
      close(fd);
      return err;
    }
    if (!S_ISREG(st.st_mode)) {  // a pipe or device: read it like stdin
      if (S_ISDIR(st.st_mode)) {
        close(fd);
        return "is a directory";
      }
      std::string err = ReadAll(fd);
      close(fd);
      return err;
    }
    if (st.st_size > 0) {
      void* map = mmap(nullptr, static_cast<std::size_t>(st.st_size),
                       PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED) {
        const std::string err = std::strerror(errno);
        close(fd);
        return err;
      }
      map_ = map;
      size_ = static_cast<std::size_t>(st.st_size);
    }
    close(fd);
    return "";
  }

  std::string ReadAll(int fd) {
    char chunk[64 * 1024];
    while (true) {
      const ssize_t n = read(fd, chunk, sizeof chunk);
      if (n == 0) return "";
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::strerror(errno);
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  void* map_ = nullptr;
  std::size_t size_ = 0;
  std::string buffer_;
};

}  // namespace

int main(int argc, char** argv) {
  const char* path = nullptr;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!options_done) {
      if (arg == "--help" || arg == "-h") {
        std::cout << kUsage;
        return kExOk;
      }
      if (arg == "--") {
        options_done = true;
        continue;
      }
      if (arg.size() > 1 && arg[0] == '-') {
        Fail(arg, "unknown option (try --help)");
        return kExUsage;
      }
    }
    if (path != nullptr) {
      Fail(arg, "only one FILE may be given (try --help)");
      return kExUsage;
    }
    path = argv[i];
  }

  Input input;
  const bool from_stdin = path == nullptr || std::string_view(path) == "-";
  const std::string name = from_stdin ? "<stdin>" : path;
  const std::string err =
      from_stdin ? input.ReadAll(STDIN_FILENO) : input.OpenFile(path);
  if (!err.empty()) {
    Fail(name, err);
    return kExNoInput;
  }
  if (input.view().empty()) {
    Fail(name, "empty input, not a message");
    return kExDataErr;
  }
  absl::StatusOr<posthorn::message::Message> msg =
      posthorn::message::ParseMessage(input.view());
  if (!msg.ok()) {
    Fail(name, "not a message: " + std::string(msg.status().message()));
    return kExDataErr;
  }
  if (msg->root().headers.empty()) {
    Fail(name, "not a message: no header field");
    return kExDataErr;
  }
  std::string out = posthorn::examples::MessageReport(*msg);
  out.push_back('\n');
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() ||
      std::fflush(stdout) != 0) {
    Fail("<stdout>", std::strerror(errno));
    return 74;  // EX_IOERR
  }
  return kExOk;
}
