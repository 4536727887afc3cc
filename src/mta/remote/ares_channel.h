// mta/remote/ares_channel.h — one c-ares channel driven by a blocking loop.
//
// A lookup creates a channel, submits its queries (they run in parallel:
// the A and AAAA queries of every MX host at once), and Wait()s: poll() on
// the channel's sockets, ares_process_fd(), until every query has
// finished or the deadline passes (the rest are then cancelled and report
// ARES_ECANCELLED). The channel belongs to one thread; lookups on other
// threads make their own, so nothing is shared.

#ifndef POSTHORN_SRC_MTA_REMOTE_ARES_CHANNEL_H_
#define POSTHORN_SRC_MTA_REMOTE_ARES_CHANNEL_H_

#include <ares.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/remote/dns_server_list.h"

namespace posthorn::mta::detail {

// Queries submitted to one channel at most (MX hosts x 2 + slack).
inline constexpr std::size_t kMaxQueriesPerChannel = 64;

struct AresQueryResult {
  bool done = false;
  int status = ARES_ECANCELLED;  // ARES_SUCCESS, ARES_ENODATA, ...
  std::string answer;            // the raw DNS answer when ARES_SUCCESS
};

class AresChannel {
 public:
  // Empty `servers`: the system's (/etc/resolv.conf).
  static absl::StatusOr<std::unique_ptr<AresChannel>> Create(
      const std::vector<DnsServer>& servers, std::chrono::milliseconds timeout,
      int tries);
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  // Submits a class IN query of `type` (ns_t_mx, ns_t_a, ns_t_aaaa) for
  // `name`; returns its result slot (filled by Wait()). ResourceExhausted
  // past kMaxQueriesPerChannel.
  absl::StatusOr<const AresQueryResult*> Query(const std::string& name,
                                               int type);
  // Runs the queries until all are done or `budget` has passed.
  void Wait(std::chrono::milliseconds budget);

 private:
  explicit AresChannel(ares_channel channel) : channel_(channel) {}
  static void OnAnswer(void* arg, int status, int timeouts,
                       unsigned char* abuf, int alen);

  ares_channel channel_;
  std::deque<AresQueryResult> results_;  // stable addresses
  std::size_t pending_ = 0;
};

}  // namespace posthorn::mta::detail

#endif  // POSTHORN_SRC_MTA_REMOTE_ARES_CHANNEL_H_
