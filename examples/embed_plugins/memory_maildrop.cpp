// memory_maildrop — a custom maildrop behind the POP3 service.
//
// SYNOPSIS
//   memory_maildrop PORT [FILE.eml...]
//
// DESCRIPTION
//   Keeps the maildrops in a std::map (user -> messages) instead of mbox
//   or Maildir files, and serves them over POP3 on 127.0.0.1:PORT (0 picks
//   a free port) with the same pop3d::Pop3Service that popper runs. The
//   one account is "alice", password "wonderland"; her maildrop starts
//   with the given .eml files. Deletions (DELE,
//   then QUIT) are applied to the map, so the next session no longer sees
//   them. Prints "listening on 127.0.0.1:PORT", then serves until SIGTERM
//   or SIGINT. USER/PASS without TLS is allowed: run it on loopback only.
//
//   Two interfaces are plugged in: store::Mailstore (the maildrops) and
//   store::AuthDb (the passwords), both in include/posthorn/store/.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "fmt/format.h"
#include "posthorn/net/pop3_server.h"
#include "posthorn/pop3d/pop3_service.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/mailstore.h"
#include "posthorn/store/status.h"

namespace store = posthorn::store;

namespace {

constexpr std::string_view kUser = "alice";
constexpr std::string_view kPassword = "wonderland";

struct Message {
  std::string uid;   // stable for the message's life (RFC 1939 UIDL)
  std::string text;  // CRLF line ends: POP3 sizes count those octets
};

std::string ToCrlf(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) out += '\r';
    out += in[i];
  }
  if (!out.empty() && out.back() != '\n') out += "\r\n";
  return out;
}

// A reader that owns its copy, so it stays valid whatever the store does.
class CopyReader : public store::MessageReader {
 public:
  explicit CopyReader(std::string text) : text_(std::move(text)) {}
  absl::StatusOr<std::size_t> Read(std::span<char> buffer) override {
    std::size_t n = std::min(buffer.size(), text_.size() - pos_);
    std::copy_n(text_.data() + pos_, n, buffer.data());
    pos_ += n;
    return n;
  }

 private:
  std::string text_;
  std::size_t pos_ = 0;
};

class MapStore;

// One POP session: a snapshot of the maildrop taken at login. The store
// marks the user locked until Commit() or destruction.
class MapSession : public store::MaildropSession {
 public:
  MapSession(MapStore* store, std::string user, std::vector<Message> snapshot)
      : store_(store), user_(std::move(user)), snapshot_(std::move(snapshot)) {
    for (const Message& m : snapshot_) infos_.push_back({m.text.size(), m.uid});
  }
  ~MapSession() override;  // without Commit(): removes nothing, unlocks

  std::span<const store::MessageInfo> messages() const override {
    return infos_;
  }
  absl::StatusOr<std::unique_ptr<store::MessageReader>> Read(
      std::size_t index) override {
    if (index >= snapshot_.size()) return absl::OutOfRangeError("no message");
    return std::make_unique<CopyReader>(snapshot_[index].text);
  }
  // TOP (ReadTop) is left to MaildropSession's default: Read() cut by
  // store::TopReader.
  absl::Status Commit(std::span<const std::size_t> deleted) override;

 private:
  MapStore* store_;
  std::string user_;
  std::vector<Message> snapshot_;
  std::vector<store::MessageInfo> infos_;
  bool finished_ = false;
};

// The maildrops. Thread-safe: the POP3 server calls it from worker threads.
class MapStore : public store::Mailstore {
 public:
  absl::Status Deliver(std::string_view user, const store::DeliveryInfo&,
                       store::MessageReader& source) override {
    if (absl::Status s = store::ValidateUserName(user); !s.ok()) return s;
    absl::StatusOr<std::string> bytes = store::ReadAll(source);
    if (!bytes.ok()) return bytes.status();
    std::lock_guard lock(mu_);
    drops_[std::string(user)].push_back(
        {fmt::format("msg{}", ++last_uid_), ToCrlf(*bytes)});
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<store::MaildropSession>> OpenSession(
      std::string_view user) override {
    if (absl::Status s = store::ValidateUserName(user); !s.ok()) return s;
    std::lock_guard lock(mu_);
    // InUseError makes Pop3Service answer "-ERR [IN-USE] ...".
    if (!locked_.insert(std::string(user)).second) {
      return store::InUseError("maildrop in use");
    }
    return std::make_unique<MapSession>(this, std::string(user),
                                        drops_[std::string(user)]);
  }

  // Notes only serve bulletins (ServiceOptions::bulletin_dir), unused here.
  absl::StatusOr<std::string> ReadUserNote(std::string_view,
                                           std::string_view) override {
    return absl::NotFoundError("no notes");
  }
  absl::Status WriteUserNote(std::string_view, std::string_view,
                             std::string_view) override {
    return absl::UnimplementedError("no notes");
  }

  // The end of a session: drop the deleted messages (by uid, so mail
  // delivered during the session stays) and unlock.
  void EndSession(const std::string& user, const std::set<std::string>& uids) {
    std::lock_guard lock(mu_);
    std::erase_if(drops_[user],
                  [&](const Message& m) { return uids.contains(m.uid); });
    locked_.erase(user);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<Message>> drops_;
  std::set<std::string> locked_;
  std::uint64_t last_uid_ = 0;
};

MapSession::~MapSession() {
  if (!finished_) store_->EndSession(user_, {});
}

absl::Status MapSession::Commit(std::span<const std::size_t> deleted) {
  std::set<std::string> uids;
  for (std::size_t i : deleted) uids.insert(snapshot_.at(i).uid);
  store_->EndSession(user_, uids);
  finished_ = true;
  return absl::OkStatus();
}

// One fixed account. Pop3Service only calls the two Check functions; a
// real one would compare in constant time (see auth_db.h).
class FixedAccount : public store::AuthDb {
 public:
  absl::Status SetSecret(std::string_view, std::string_view) override {
    return absl::UnimplementedError("read-only");
  }
  absl::Status SetPasswordOnly(std::string_view, std::string_view) override {
    return absl::UnimplementedError("read-only");
  }
  absl::Status Delete(std::string_view) override {
    return absl::UnimplementedError("read-only");
  }
  absl::StatusOr<std::vector<store::AuthUser>> List() const override {
    return std::vector<store::AuthUser>{{std::string(kUser), true, false}};
  }
  absl::StatusOr<bool> CheckPassword(std::string_view user,
                                     std::string_view password) const override {
    return user == kUser && password == kPassword;
  }
  // The POP3 session has lower-cased the client's hex digits already.
  absl::StatusOr<bool> CheckApop(std::string_view user,
                                 std::string_view timestamp,
                                 std::string_view digest) const override {
    return user == kUser && digest == store::ApopDigest(timestamp, kPassword);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: memory_maildrop PORT [FILE.eml...]\n");
    return 64;
  }
  MapStore drops;
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "memory_maildrop: cannot read %s\n", argv[i]);
      return 66;
    }
    std::stringstream text;
    text << in.rdbuf();
    store::StringReader source(text.view());  // as the MTA would deliver
    store::DeliveryInfo info;
    info.arrival = absl::Now();
    if (absl::Status s = drops.Deliver(kUser, info, source); !s.ok()) {
      std::fprintf(stderr, "memory_maildrop: %s\n", s.ToString().c_str());
      return 70;
    }
  }

  FixedAccount account;
  posthorn::pop3d::ServiceOptions service_options;
  service_options.mailstore = &drops;
  service_options.auth_db = &account;
  posthorn::pop3d::Pop3Service service(service_options);

  posthorn::net::Pop3ServerOptions options;
  options.listen = {fmt::format("127.0.0.1:{}", argv[1])};
  options.session.allow_plaintext_auth = true;  // loopback demo only
  auto server = posthorn::net::Pop3Server::Create(options, &service);
  if (!server.ok()) {
    std::fprintf(stderr, "memory_maildrop: %s\n",
                 server.status().ToString().c_str());
    return 69;
  }
  for (const std::string& endpoint : (*server)->local_endpoints()) {
    std::printf("listening on %s\n", endpoint.c_str());
  }
  std::fflush(stdout);
  absl::Status run = (*server)->Run();  // until SIGTERM / SIGINT
  return run.ok() ? 0 : 1;
}
