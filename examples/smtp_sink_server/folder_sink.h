// folder_sink.h — where smtp_sink_server puts messages.
//
// One file per message, "<name>.eml", holding exactly the bytes received
// after dot-unstuffing (optionally after a Received: line), plus a sidecar
// "<name>.eml.env" with the envelope as JSON:
//   {"mail_from": "a@example.org", "recipients": ["b@example.net"],
//    "helo": "client.example", "peer": "127.0.0.1", "size": 1234,
//    "protocol": "ESMTPS"}
// Both are written under a hidden temporary name (".tmp.<name>...") in the
// same folder, fsynced, renamed into place (the sidecar first, so a
// message file never appears without its envelope), and the folder is
// fsynced before the client hears 250 — a 250 means "on disk".

#ifndef POSTHORN_EXAMPLES_SMTP_SINK_SERVER_FOLDER_SINK_H_
#define POSTHORN_EXAMPLES_SMTP_SINK_SERVER_FOLDER_SINK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::examples {

class Folder {
 public:
  // Opens (creating one level if missing) the folder.
  static absl::StatusOr<std::unique_ptr<Folder>> Open(const std::string& path);
  ~Folder();
  Folder(const Folder&) = delete;
  Folder& operator=(const Folder&) = delete;

  // "<seconds>.<microseconds>.<pid>.<counter>.eml": unique per process
  // and, with the pid and the clock, across restarts.
  std::string NewName();
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  Folder(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  std::atomic<std::uint64_t> counter_{0};
};

// A message being written to the folder.
class FolderMessage final : public net::MessageSink {
 public:
  // `prefix` (a Received: line, or empty) is written first.
  static absl::StatusOr<std::unique_ptr<FolderMessage>> Create(
      Folder* folder, std::string_view prefix, std::string envelope_extra);
  ~FolderMessage() override;

  absl::Status Write(std::string_view chunk) override;
  absl::StatusOr<std::string> Commit(const smtp::Envelope& envelope) override;
  void Abort() override;

 private:
  FolderMessage(Folder* folder, std::string name, int fd,
                std::string envelope_extra);
  void Discard();

  Folder* folder_;
  std::string name_;
  std::string temp_name_;
  int fd_;
  std::uint64_t size_ = 0;
  // JSON members added to the sidecar ("helo", "peer", "protocol").
  std::string envelope_extra_;
};

// --no-store: counts and forgets.
class DiscardMessage final : public net::MessageSink {
 public:
  absl::Status Write(std::string_view chunk) override;
  absl::StatusOr<std::string> Commit(const smtp::Envelope& envelope) override;
  void Abort() override {}
};

}  // namespace posthorn::examples

#endif  // POSTHORN_EXAMPLES_SMTP_SINK_SERVER_FOLDER_SINK_H_
