// folder_sink.h — where pop3_fetch puts downloaded messages.
//
// One file per message, "<uid>.eml", holding exactly the bytes of the
// message as the server stores it (CRLF line ends, dot-unstuffed). The
// uid is made safe for a file name by a reversible escape (letters,
// digits, "-", "_" and non-leading "." kept, every other octet written as
// "%XX"), so two distinct uids never share a file and no uid can name a
// path outside the folder. A message that has a file already is not
// downloaded again (re-runs fetch only new mail) and counts as stored for
// --delete. Messages without a usable uid get a fresh
// "nouid-<seconds>-<pid>-<number>.eml" name each run.
//
// Each message is written to a hidden temporary ".tmp-<pid>-<number>" in
// the same folder (O_EXCL, O_NOFOLLOW, mode 0600), fsynced, renamed into
// place, and the folder is fsynced before End() returns OK: only then may
// the message be deleted from the server.

#ifndef POSTHORN_EXAMPLES_POP3_FETCH_FOLDER_SINK_H_
#define POSTHORN_EXAMPLES_POP3_FETCH_FOLDER_SINK_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posthorn/net/pop3_fetch.h"

namespace posthorn::examples {

// "a/b" -> "a%2Fb", ".x" -> "%2Ex"; injective.
std::string FileNameForUid(std::string_view uid);

class FolderSink final : public net::FetchSink {
 public:
  // The folder must exist and be a directory.
  static absl::StatusOr<FolderSink> Open(std::string path);
  FolderSink(FolderSink&& other) noexcept;
  FolderSink& operator=(FolderSink&&) = delete;
  ~FolderSink() override;

  Decision Consider(const net::MessageInfo& message) override;
  absl::Status Begin(const net::MessageInfo& message) override;
  absl::Status Write(std::string_view chunk) override;
  absl::Status End() override;
  void Abort(const absl::Status& why) override;

  // The final file name of the last message begun (for the report).
  const std::string& last_name() const { return final_name_; }

 private:
  FolderSink(std::string path, int dir_fd)
      : path_(std::move(path)), dir_fd_(dir_fd) {}
  void Discard();

  std::string path_;
  int dir_fd_ = -1;
  int file_fd_ = -1;
  std::string temp_name_;
  std::string final_name_;
};

}  // namespace posthorn::examples

#endif  // POSTHORN_EXAMPLES_POP3_FETCH_FOLDER_SINK_H_
