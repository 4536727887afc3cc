// posthorn/mta/host_status.h — per-host delivery status and mailer counters.
//
// PURPOSE
//   What sendmail's hoststat / purgestat / mailstats show:
//   - HostStatusTable: the result of the last connection to each remote
//     host ("mx.example.net", "[127.0.0.1]:2526"): time, reply, and
//     whether it was up. Kept in <queue_dir>/.hoststat/<host>, one small
//     text file per host written by write-temp + rename (safe with several
//     runner processes; last writer wins).
//   - MailStats: messages and bytes from and to each mailer ("local",
//     "esmtp", "prog", "file"), and messages rejected / discarded, in
//     <queue_dir>/.mailstats (a fixed-layout text file updated under an
//     fcntl lock, so concurrent processes add up correctly).
//
// OUTPUT FORMATS
//   FormatHostStatus (hoststat):
//     -------------- Hostname ---------- How long ago ---------Results---------
//     [127.0.0.1]:2526                        00:00:12 250 2.0.0 Ok: queued as X
//   FormatMailStats (mailstats, the layout of sendmail 8.8):
//     Statistics from Thu Nov 26 09:00:45 2026
//      M   msgsfr  bytes_from   msgsto    bytes_to  msgsrej msgsdis  Mailer
//      3        2          4K        1          2K        0       0  local
//     =====================================================================
//      T        2          4K        1          2K        0       0

#ifndef POSTHORN_MTA_HOST_STATUS_H_
#define POSTHORN_MTA_HOST_STATUS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace posthorn::mta {

struct HostStatus {
  std::string host;
  absl::Time when = absl::InfinitePast();
  bool up = true;
  std::string reply;  // "250 2.0.0 Ok", "421 4.4.1 Connection refused"
};

class HostStatusTable {
 public:
  // dir is created when missing.
  static absl::StatusOr<std::unique_ptr<HostStatusTable>> Open(
      std::string dir);
  absl::Status Record(const HostStatus& status);
  absl::StatusOr<std::vector<HostStatus>> List() const;  // sorted by host
  absl::Status Purge();  // purgestat
  // A host marked down less than `for_how_long` ago (skip it this run).
  bool RecentlyDown(std::string_view host, absl::Duration for_how_long) const;

 private:
  explicit HostStatusTable(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

std::string FormatHostStatus(const std::vector<HostStatus>& hosts,
                             absl::Time now);

struct MailerCounters {
  std::string mailer;
  std::uint64_t msgs_from = 0, bytes_from = 0;
  std::uint64_t msgs_to = 0, bytes_to = 0;
  std::uint64_t msgs_rejected = 0, msgs_discarded = 0;
};

class MailStats {
 public:
  explicit MailStats(std::string path) : path_(std::move(path)) {}
  // Adds to one mailer's counters (file locked while read-modify-write).
  absl::Status Add(const MailerCounters& delta);
  absl::StatusOr<std::vector<MailerCounters>> Read(absl::Time* since) const;
  absl::Status Clear();  // mailstats -c? (sendmail: -C); used by tests

 private:
  std::string path_;
};

std::string FormatMailStats(const std::vector<MailerCounters>& counters,
                            absl::Time since);

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_HOST_STATUS_H_
