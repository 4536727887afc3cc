// mta::NetworkList: CIDR matching for trusted_networks.
#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "posthorn/mta/routing.h"

namespace posthorn::mta {
namespace {

// Parses an address into 16 bytes; IPv4 as the first 4. False when neither.
bool ParseAddress(std::string address, bool& v6, unsigned char* bytes) {
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  std::memset(bytes, 0, 16);
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    v6 = true;
    // ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket.
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0,
                                                  0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, kMapped, 12) == 0) {
      std::memmove(bytes, bytes + 12, 4);
      std::memset(bytes + 4, 0, 12);
      v6 = false;
    }
    return true;
  }
  return false;
}

bool PrefixMatches(const unsigned char* a, const unsigned char* b,
                   int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

absl::StatusOr<NetworkList> NetworkList::Parse(
    const std::vector<std::string>& networks) {
  NetworkList list;
  for (const std::string& text : networks) {
    std::string address = text;
    int prefix = -1;
    if (std::size_t slash = text.rfind('/'); slash != std::string::npos) {
      address = text.substr(0, slash);
      std::string_view digits = std::string_view(text).substr(slash + 1);
      auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (digits.empty() || digits.front() < '0' || digits.front() > '9' ||
          error != std::errc() ||
          end != digits.data() + digits.size()) {
        return absl::InvalidArgumentError(
            fmt::format("network \"{}\": bad prefix length", text));
      }
    }
    Network network;
    if (!ParseAddress(address, network.v6, network.bytes)) {
      return absl::InvalidArgumentError(
          fmt::format("network \"{}\": not an IPv4 or IPv6 address", text));
    }
    int max_prefix = network.v6 ? 128 : 32;
    if (prefix == -1) prefix = max_prefix;
    if (prefix < 0 || prefix > max_prefix) {
      return absl::InvalidArgumentError(
          fmt::format("network \"{}\": prefix longer than the address", text));
    }
    network.prefix = prefix;
    list.networks_.push_back(network);
  }
  return list;
}

bool NetworkList::Contains(std::string_view address) const {
  bool v6 = false;
  unsigned char bytes[16];
  if (!ParseAddress(std::string(address), v6, bytes)) return false;
  for (const Network& network : networks_) {
    if (network.v6 == v6 && PrefixMatches(bytes, network.bytes, network.prefix)) {
      return true;
    }
  }
  return false;
}

}  // namespace posthorn::mta
