// tools/sendmail/routing_setup.cpp — the Router and the trusted networks
// from posthorn.conf (local_domains, transport_map, relay_host,
// trusted_networks).

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "fmt/format.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

// A transport map is a small hand-written table.
constexpr std::size_t kMaxTransportMapBytes = 4 << 20;

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return StatusFromErrno(errno, path);
  std::string text;
  char buffer[8192];
  absl::Status status;
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = StatusFromErrno(errno, path);
      break;
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > limit) {
      status = absl::InvalidArgumentError(
          fmt::format("{}: larger than {} bytes", path, limit));
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!status.ok()) return status;
  return text;
}

}  // namespace

std::optional<Failure> MakeRouter(const Config& config,
                                  std::unique_ptr<mta::Router>* router) {
  mta::RouterOptions options;
  options.local_domains = config.local_domains;
  if (!config.transport_map.empty()) {
    auto text = ReadSmallFile(config.transport_map, kMaxTransportMapBytes);
    if (!text.ok()) {
      return Failure{kExitConfig, fmt::format("transport_map {}",
                                              StatusText(text.status()))};
    }
    auto entries = mta::ParseTransportMap(*text, config.transport_map);
    if (!entries.ok()) {
      return Failure{kExitConfig, StatusText(entries.status())};
    }
    options.transport = *std::move(entries);
  }
  if (!config.relay_host.empty()) {
    auto hop = mta::ParseNextHop(config.relay_host);
    if (!hop.ok()) {
      return Failure{kExitConfig,
                     fmt::format("{}: relay_host \"{}\": {}", config.path,
                                 config.relay_host, StatusText(hop.status()))};
    }
    options.relay_host = *hop;
  }
  *router = std::make_unique<mta::Router>(std::move(options));
  return std::nullopt;
}

std::optional<Failure> MakeTrustedNetworks(const Config& config,
                                           mta::NetworkList* networks) {
  auto parsed = mta::NetworkList::Parse(config.trusted_networks);
  if (!parsed.ok()) {
    return Failure{kExitConfig,
                   fmt::format("{}: trusted_networks: {}", config.path,
                               StatusText(parsed.status()))};
  }
  *networks = *std::move(parsed);
  return std::nullopt;
}

}  // namespace posthorn::tools
