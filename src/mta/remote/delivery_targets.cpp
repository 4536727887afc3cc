// mta::detail::FindTargets: a next hop turned into addresses to try.
#include "mta/remote/delivery_targets.h"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace posthorn::mta::detail {
namespace {

bool IsIpAddress(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// The reply for a lookup error (dns.h ERRORS).
TargetFailure FromLookupError(const absl::Status& status) {
  const std::string why(status.message());
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return {DeliveryStatus::kBounced, "550 5.1.2 " + why};
    case absl::StatusCode::kFailedPrecondition:
      // RFC 7505 4.2.
      return {DeliveryStatus::kBounced, "556 5.1.10 " + why};
    case absl::StatusCode::kInvalidArgument:
      return {DeliveryStatus::kBounced, "550 5.1.2 " + why};
    default:
      return {DeliveryStatus::kDeferred, "451 4.4.3 " + why};
  }
}

}  // namespace

std::string DeliveryTarget::Relay() const {
  return fmt::format("{}[{}]:{}", name, address, port);
}

std::variant<std::vector<DeliveryTarget>, TargetFailure> FindTargets(
    const NextHop& hop, Resolver* resolver) {
  std::vector<DeliveryTarget> targets;
  if (!hop.mx_lookup) {
    const std::string key = FormatNextHop(hop);
    if (IsIpAddress(hop.host)) {
      targets.push_back(DeliveryTarget{"", hop.host, hop.port, key});
      return targets;
    }
    if (resolver == nullptr) {
      return TargetFailure{DeliveryStatus::kDeferred,
                           "451 4.3.5 no DNS resolver configured"};
    }
    absl::StatusOr<std::vector<std::string>> addresses =
        resolver->LookupAddresses(hop.host);
    if (!addresses.ok()) return FromLookupError(addresses.status());
    for (const std::string& address : *addresses) {
      targets.push_back(DeliveryTarget{hop.host, address, hop.port, key});
    }
  } else {
    if (resolver == nullptr) {
      return TargetFailure{DeliveryStatus::kDeferred,
                           "451 4.3.5 no DNS resolver configured"};
    }
    absl::StatusOr<std::vector<MxHost>> hosts = resolver->LookupMx(hop.host);
    if (!hosts.ok()) return FromLookupError(hosts.status());
    for (const MxHost& host : *hosts) {
      // An MX that is an IP literal names itself as "[addr]".
      const bool literal = IsIpAddress(host.name);
      for (const std::string& address : host.addresses) {
        targets.push_back(DeliveryTarget{
            literal ? "" : host.name, address, hop.port,
            literal ? fmt::format("[{}]:{}", address, hop.port) : host.name});
      }
    }
  }
  if (targets.empty()) {
    return TargetFailure{
        DeliveryStatus::kDeferred,
        fmt::format("451 4.4.3 {}: no address to deliver to", hop.host)};
  }
  return targets;
}

}  // namespace posthorn::mta::detail
