// mta::detail::AresChannel: c-ares queries answered by a poll() loop.
#include "mta/remote/ares_channel.h"

#include <arpa/nameser.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

namespace posthorn::mta::detail {
namespace {

// ares_library_init is not thread-safe; it runs once for the process (and
// never cleans up: other threads may still resolve at exit).
absl::Status InitLibrary() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (status != ARES_SUCCESS) {
    return absl::InternalError(
        fmt::format("c-ares initialisation failed: {}", ares_strerror(status)));
  }
  return absl::OkStatus();
}

struct Slot {
  AresQueryResult* result;
  std::size_t* pending;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AresChannel>> AresChannel::Create(
    const std::vector<DnsServer>& servers, std::chrono::milliseconds timeout,
    int tries) {
  if (absl::Status status = InitLibrary(); !status.ok()) return status;
  ares_options options;
  std::memset(&options, 0, sizeof options);
  // No search domains (an MX lookup is for a complete domain) and no
  // HOSTALIASES file: the answer depends only on the DNS.
  options.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  options.timeout = static_cast<int>(std::max<long long>(timeout.count(), 1));
  options.tries = std::max(tries, 1);
  options.ndomains = 0;
  options.domains = nullptr;
  const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                   ARES_OPT_DOMAINS;
  ares_channel channel = nullptr;
  int status = ares_init_options(&channel, &options, mask);
  if (status != ARES_SUCCESS) {
    return absl::UnavailableError(
        fmt::format("c-ares channel: {}", ares_strerror(status)));
  }
  std::unique_ptr<AresChannel> result(new AresChannel(channel));
  if (!servers.empty()) {
    std::vector<ares_addr_port_node> nodes(servers.size());
    for (std::size_t i = 0; i < servers.size(); ++i) {
      ares_addr_port_node& node = nodes[i];
      std::memset(&node, 0, sizeof node);
      node.next = i + 1 < servers.size() ? &nodes[i + 1] : nullptr;
      if (servers[i].v6) {
        node.family = AF_INET6;
        std::memcpy(&node.addr.addr6, &servers[i].addr6,
                    sizeof servers[i].addr6);
      } else {
        node.family = AF_INET;
        node.addr.addr4 = servers[i].addr4;
      }
      node.udp_port = servers[i].port;
      node.tcp_port = servers[i].port;
    }
    status = ares_set_servers_ports(channel, nodes.data());
    if (status != ARES_SUCCESS) {
      return absl::InvalidArgumentError(
          fmt::format("c-ares servers: {}", ares_strerror(status)));
    }
  }
  return result;
}

AresChannel::~AresChannel() {
  // Wait() leaves nothing pending, but a query submitted without a Wait()
  // gets its callback here (ARES_EDESTRUCTION) while results_ still lives.
  ares_destroy(channel_);
}

void AresChannel::OnAnswer(void* arg, int status, int /*timeouts*/,
                           unsigned char* abuf, int alen) {
  std::unique_ptr<Slot> slot(static_cast<Slot*>(arg));
  AresQueryResult& result = *slot->result;
  result.done = true;
  result.status = status;
  if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) {
    // A DNS message is at most 65535 bytes (the TCP length field).
    result.answer.assign(reinterpret_cast<const char*>(abuf),
                         static_cast<std::size_t>(std::min(alen, 65535)));
  }
  --*slot->pending;
}

absl::StatusOr<const AresQueryResult*> AresChannel::Query(
    const std::string& name, int type) {
  if (results_.size() >= kMaxQueriesPerChannel) {
    return absl::ResourceExhaustedError("too many DNS queries in one lookup");
  }
  AresQueryResult& result = results_.emplace_back();
  ++pending_;
  // c-ares may answer at once (a bad name), calling OnAnswer right here.
  ares_query(channel_, name.c_str(), ns_c_in, type, &AresChannel::OnAnswer,
             new Slot{&result, &pending_});
  return &result;
}

void AresChannel::Wait(std::chrono::milliseconds budget) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + budget;
  // Bounded by the deadline; the count is a second guard against a loop
  // that makes no progress without blocking.
  for (int round = 0; pending_ > 0 && round < 100000; ++round) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(channel_, sockets, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    nfds_t count = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      const bool readable = ARES_GETSOCK_READABLE(bits, i) != 0;
      const bool writable = ARES_GETSOCK_WRITABLE(bits, i) != 0;
      if (!readable && !writable) continue;
      fds[count].fd = sockets[i];
      fds[count].events = static_cast<short>((readable ? POLLIN : 0) |
                                             (writable ? POLLOUT : 0));
      fds[count].revents = 0;
      ++count;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
    timeval max_wait{static_cast<time_t>(left.count() / 1000000),
                     static_cast<suseconds_t>(left.count() % 1000000)};
    timeval wait_buffer{};
    const timeval* wait = ares_timeout(channel_, &max_wait, &wait_buffer);
    // Rounded up so a sub-millisecond timeout does not spin.
    const long long wait_ms =
        static_cast<long long>(wait->tv_sec) * 1000 + (wait->tv_usec + 999) / 1000;
    const int ready =
        ::poll(fds, count, static_cast<int>(std::min<long long>(wait_ms, 60000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
      continue;
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      const bool in = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      const bool out = (fds[i].revents & POLLOUT) != 0;
      ares_process_fd(channel_, in ? fds[i].fd : ARES_SOCKET_BAD,
                      out ? fds[i].fd : ARES_SOCKET_BAD);
    }
  }
  // Whatever is left ran out of time: its callbacks run now with
  // ARES_ECANCELLED.
  if (pending_ > 0) ares_cancel(channel_);
}

}  // namespace posthorn::mta::detail
