// pop3_fetch (target embed_pop3_fetch) — list a POP3 maildrop with
// net::FetchMaildrop.
//
// SYNOPSIS
//   embed_pop3_fetch [--stls] [--apop] [--plaintext-auth] [--delete]
//                    HOST:PORT USER
//
// DESCRIPTION
//   Logs in as USER with the password (or APOP secret) in $POP3_PASSWORD,
//   retrieves every message and prints one line per message:
//     1 331 Lunch?
//   (number, size in octets, decoded Subject). --stls requires STLS;
//   --apop sends an MD5 digest instead of the password; --plaintext-auth
//   allows a clear-text password without TLS (loopback only); --delete
//   removes the listed messages (the server applies it at QUIT).
//   examples/pop3_fetch is the full program that saves to a folder.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "posthorn/message/encoded_word.h"
#include "posthorn/message/header.h"
#include "posthorn/net/pop3_fetch.h"

namespace net = posthorn::net;

namespace {

// Only the header is needed for the Subject; the rest is not kept.
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

// FetchMaildrop streams each message into a sink: Begin, Write..., End.
class SubjectPrinter : public net::FetchSink {
 public:
  absl::Status Begin(const net::MessageInfo& message) override {
    message_ = message;
    head_.clear();
    return absl::OkStatus();
  }
  absl::Status Write(std::string_view chunk) override {
    std::size_t room = kMaxHeaderBytes - head_.size();
    head_.append(chunk.substr(0, room));
    return absl::OkStatus();
  }
  // OK here is what allows --delete to remove the message: printing it is
  // all this program "stores".
  absl::Status End() override {
    std::string subject = "(no subject)";
    posthorn::message::Defects defects;  // malformed mail is still listed
    auto header = posthorn::message::ParseHeaderSection(head_, &defects);
    if (header.ok()) {
      if (const auto* field = header->Find("Subject")) {
        subject = posthorn::message::DecodeUnstructured(field->Unfolded());
      }
    }
    std::printf("%llu %llu %s\n",
                static_cast<unsigned long long>(message_.number),
                static_cast<unsigned long long>(message_.size),
                subject.c_str());
    return absl::OkStatus();
  }

 private:
  net::MessageInfo message_;
  std::string head_;
};

}  // namespace

int main(int argc, char** argv) {
  net::FetchOptions options;
  options.timeout = std::chrono::seconds(20);
  int arg = 1;
  for (; arg < argc && argv[arg][0] == '-'; ++arg) {
    std::string_view flag = argv[arg];
    if (flag == "--stls") {
      options.security = net::FetchOptions::Security::kStls;
    } else if (flag == "--apop") {
      options.apop = true;
    } else if (flag == "--plaintext-auth") {
      options.allow_plaintext_auth = true;
    } else if (flag == "--delete") {
      options.delete_after = true;
    } else {
      arg = argc + 1;  // unknown flag: usage below
    }
  }
  const char* password = std::getenv("POP3_PASSWORD");
  if (argc - arg != 2 || password == nullptr) {
    std::fprintf(stderr,
                 "usage: POP3_PASSWORD=... embed_pop3_fetch [--stls] [--apop] "
                 "[--plaintext-auth] [--delete] HOST:PORT USER\n");
    return 64;
  }
  options.server = argv[arg];
  options.user = argv[arg + 1];
  options.password = password;

  SubjectPrinter printer;
  absl::StatusOr<net::FetchResult> result =
      net::FetchMaildrop(options, printer);
  if (!result.ok()) {
    std::fprintf(stderr, "embed_pop3_fetch: %s\n",
                 result.status().ToString().c_str());
    return 75;
  }
  std::printf("%zu messages, %zu deleted%s\n", result->messages,
              result->deleted, result->tls ? " (TLS)" : "");
  return result->failed == 0 ? 0 : 75;
}
