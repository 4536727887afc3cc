// store/mbox/mbox_store.cpp — MakeMboxStore (posthorn/store/mbox.h): the
// Mailstore calls, each validating the user name, then handing over to
// delivery.h, session.h or the note files.

#include <fcntl.h>

#include "fmt/format.h"
#include "posthorn/store/mbox.h"
#include "store/fs/file_util.h"
#include "store/mbox/delivery.h"
#include "store/mbox/mbox_paths.h"
#include "store/mbox/session.h"

namespace posthorn::store {
namespace {

// Longest note value (posthorn/store/mailstore.h).
constexpr std::size_t kMaxNoteSize = 4096;

class MboxStore final : public Mailstore {
 public:
  explicit MboxStore(MboxStoreOptions options) : options_(std::move(options)) {}

  absl::Status Deliver(std::string_view user, const DeliveryInfo& info,
                       MessageReader& source) override {
    if (auto status = mbox::CheckMboxUserName(user); !status.ok()) {
      return status;
    }
    return mbox::DeliverToMbox(Paths(user), options_, info, source);
  }

  absl::StatusOr<std::unique_ptr<MaildropSession>> OpenSession(
      std::string_view user) override {
    if (auto status = mbox::CheckMboxUserName(user); !status.ok()) {
      return status;
    }
    return mbox::OpenMboxSession(Paths(user), options_);
  }

  absl::StatusOr<std::string> ReadUserNote(std::string_view user,
                                           std::string_view key) override {
    if (auto status = mbox::CheckMboxUserName(user); !status.ok()) {
      return status;
    }
    if (auto status = mbox::CheckNoteKey(key); !status.ok()) return status;
    return fs::ReadSmallFile(Paths(user).NotePath(key), kMaxNoteSize);
  }

  absl::Status WriteUserNote(std::string_view user, std::string_view key,
                             std::string_view value) override {
    if (auto status = mbox::CheckMboxUserName(user); !status.ok()) {
      return status;
    }
    if (auto status = mbox::CheckNoteKey(key); !status.ok()) return status;
    if (value.size() > kMaxNoteSize) {
      return absl::InvalidArgumentError(fmt::format("note value of {} bytes; at most {}", value.size(), kMaxNoteSize));
    }
    return fs::AtomicWriteFile(Paths(user).NotePath(key), value,
                               static_cast<mode_t>(options_.file_mode),
                               options_.fsync);
  }

 private:
  mbox::MboxPaths Paths(std::string_view user) const {
    return mbox::MboxPaths::For(options_.spool_dir, user);
  }

  MboxStoreOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Mailstore>> MakeMboxStore(
    const MboxStoreOptions& options) {
  if (options.spool_dir.empty()) {
    return absl::InvalidArgumentError("mbox store: spool_dir is empty");
  }
  auto dir = fs::OpenDir(options.spool_dir);
  if (!dir.ok()) return dir.status();
  if (options.lock_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("mbox store: negative lock_timeout");
  }
  return std::make_unique<MboxStore>(options);
}

}  // namespace posthorn::store
