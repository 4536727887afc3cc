// mta::MakeAresResolver: MX and address lookups with c-ares (RFC 5321 5.1,
// RFC 7505 null MX). Each lookup has its own channel (ares_channel.h), so
// the resolver is safe from any number of threads.
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "absl/strings/ascii.h"
#include "mta/remote/ares_channel.h"
#include "mta/remote/dns_server_list.h"
#include "posthorn/mta/dns.h"
#include "posthorn/mta/log.h"

namespace posthorn::mta {
namespace {

using detail::AresChannel;
using detail::AresQueryResult;

// MX hosts kept per domain (after sorting): more are never tried.
constexpr std::size_t kMaxMxHosts = 20;
// Addresses kept per host and family.
constexpr int kMaxAddressesPerFamily = 16;
// RFC 1035 2.3.4.
constexpr std::size_t kMaxDomainLength = 253;
constexpr std::size_t kMaxLabelLength = 63;

std::string StripBrackets(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  // "IPv6:" is the RFC 5321 address-literal tag.
  if (text.size() > 5 &&
      absl::AsciiStrToLower(std::string(text.substr(0, 5))) == "ipv6:") {
    text.remove_prefix(5);
  }
  return std::string(text);
}

// The literal in canonical form when `text` is an IPv4 / IPv6 address
// (with or without brackets); empty otherwise.
std::string IpLiteral(std::string_view text) {
  const std::string bare = StripBrackets(text);
  if (bare.empty() || bare.size() >= INET6_ADDRSTRLEN) return "";
  unsigned char buffer[sizeof(in6_addr)];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, bare.c_str(), buffer) == 1) {
    return inet_ntop(AF_INET, buffer, out, sizeof out) ? out : "";
  }
  if (inet_pton(AF_INET6, bare.c_str(), buffer) == 1) {
    return inet_ntop(AF_INET6, buffer, out, sizeof out) ? out : "";
  }
  return "";
}

absl::Status BadName(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format(
      "invalid domain name \"{}\": {}", EscapeForLog(name), why));
}

// A name we may put in a query: printable ASCII without spaces, labels of
// 1..63 octets, 253 in all; lowercased, the trailing dot removed.
absl::StatusOr<std::string> QueryName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return BadName(name, "empty");
  if (name.size() > kMaxDomainLength) {
    return BadName(name.substr(0, 64), "longer than 253 octets");
  }
  std::size_t label = 0;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '\\') {
      return BadName(name, "bad character");
    }
    if (c == '.') {
      if (label == 0) return BadName(name, "empty label");
      label = 0;
    } else if (++label > kMaxLabelLength) {
      return BadName(name, "label longer than 63 octets");
    }
  }
  return absl::AsciiStrToLower(std::string(name));
}

// NXDOMAIN and "no such data" are answers; the rest means the DNS could
// not be asked (or did not answer in time).
absl::Status LookupFailure(std::string_view name, int status) {
  if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
    return absl::NotFoundError(
        fmt::format("{}: Host or domain name not found", EscapeForLog(name)));
  }
  const char* reason =
      status == ARES_ECANCELLED ? "timed out" : ares_strerror(status);
  return absl::UnavailableError(
      fmt::format("{}: Host or domain name lookup failed: {}",
                  EscapeForLog(name), reason));
}

// The addresses in an A or AAAA answer, as text.
std::vector<std::string> ParseAddresses(const AresQueryResult& result,
                                        int type) {
  std::vector<std::string> out;
  if (!result.done || result.status != ARES_SUCCESS) return out;
  const auto* abuf =
      reinterpret_cast<const unsigned char*>(result.answer.data());
  const int alen = static_cast<int>(result.answer.size());
  char text[INET6_ADDRSTRLEN];
  if (type == ns_t_a) {
    ares_addrttl ttls[kMaxAddressesPerFamily];
    int count = kMaxAddressesPerFamily;
    if (ares_parse_a_reply(abuf, alen, nullptr, ttls, &count) != ARES_SUCCESS) {
      return out;
    }
    for (int i = 0; i < count; ++i) {
      if (inet_ntop(AF_INET, &ttls[i].ipaddr, text, sizeof text)) {
        out.emplace_back(text);
      }
    }
  } else {
    ares_addr6ttl ttls[kMaxAddressesPerFamily];
    int count = kMaxAddressesPerFamily;
    if (ares_parse_aaaa_reply(abuf, alen, nullptr, ttls, &count) !=
        ARES_SUCCESS) {
      return out;
    }
    for (int i = 0; i < count; ++i) {
      if (inet_ntop(AF_INET6, &ttls[i].ip6addr, text, sizeof text)) {
        out.emplace_back(text);
      }
    }
  }
  return out;
}

// The pair of A and AAAA queries for one name.
struct AddressQueries {
  const AresQueryResult* a = nullptr;
  const AresQueryResult* aaaa = nullptr;

  // IPv4 first: a host without IPv6 routes fails fast on AAAA addresses,
  // but still, the common case should be the first tried.
  std::vector<std::string> Addresses() const {
    std::vector<std::string> out = ParseAddresses(*a, ns_t_a);
    for (std::string& address : ParseAddresses(*aaaa, ns_t_aaaa)) {
      out.push_back(std::move(address));
    }
    return out;
  }
  // Why there are no addresses: NotFound when the DNS said so for both,
  // Unavailable when one of them could not be answered.
  absl::Status Failure(std::string_view name) const {
    for (const AresQueryResult* r : {a, aaaa}) {
      if (r->status != ARES_SUCCESS && r->status != ARES_ENODATA &&
          r->status != ARES_ENOTFOUND) {
        return LookupFailure(name, r->status);
      }
    }
    return LookupFailure(name, ARES_ENOTFOUND);
  }
};

absl::StatusOr<AddressQueries> SubmitAddressQueries(AresChannel& channel,
                                                    const std::string& name) {
  AddressQueries queries;
  absl::StatusOr<const AresQueryResult*> a = channel.Query(name, ns_t_a);
  if (!a.ok()) return a.status();
  absl::StatusOr<const AresQueryResult*> aaaa = channel.Query(name, ns_t_aaaa);
  if (!aaaa.ok()) return aaaa.status();
  queries.a = *a;
  queries.aaaa = *aaaa;
  return queries;
}

// Sorted by preference; hosts of equal preference shuffled (RFC 5321
// 5.1: spread the load).
void SortMx(std::vector<MxHost>& hosts) {
  thread_local std::mt19937 random(std::random_device{}());
  std::shuffle(hosts.begin(), hosts.end(), random);
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const MxHost& x, const MxHost& y) {
                     return x.preference < y.preference;
                   });
}

class AresResolver final : public Resolver {
 public:
  AresResolver(std::vector<detail::DnsServer> servers,
               const ResolverOptions& options)
      : servers_(std::move(servers)),
        timeout_(options.timeout),
        tries_(std::max(options.tries, 1)) {}

  absl::StatusOr<std::vector<MxHost>> LookupMx(
      std::string_view domain) override;
  absl::StatusOr<std::vector<std::string>> LookupAddresses(
      std::string_view host) override;

 private:
  absl::StatusOr<std::unique_ptr<AresChannel>> NewChannel() const {
    return AresChannel::Create(servers_, timeout_, tries_);
  }
  // One round of queries may take every try on every server.
  std::chrono::milliseconds Budget() const {
    const auto servers = static_cast<long long>(std::max<std::size_t>(
        servers_.size(), 1));
    return timeout_ * (tries_ * servers);
  }
  absl::StatusOr<std::vector<MxHost>> ImplicitMx(AresChannel& channel,
                                                 const std::string& domain);
  absl::StatusOr<std::vector<MxHost>> ParseMx(const AresQueryResult& result,
                                              const std::string& domain);

  std::vector<detail::DnsServer> servers_;
  std::chrono::milliseconds timeout_;
  int tries_;
};

absl::StatusOr<std::vector<std::string>> AresResolver::LookupAddresses(
    std::string_view host) {
  if (std::string literal = IpLiteral(host); !literal.empty()) {
    return std::vector<std::string>{literal};
  }
  absl::StatusOr<std::string> name = QueryName(host);
  if (!name.ok()) return name.status();
  absl::StatusOr<std::unique_ptr<AresChannel>> channel = NewChannel();
  if (!channel.ok()) return channel.status();
  absl::StatusOr<AddressQueries> queries =
      SubmitAddressQueries(**channel, *name);
  if (!queries.ok()) return queries.status();
  (*channel)->Wait(Budget());
  std::vector<std::string> addresses = queries->Addresses();
  if (addresses.empty()) return queries->Failure(*name);
  return addresses;
}

// No MX record: the domain itself is the mail host (RFC 5321 5.1).
absl::StatusOr<std::vector<MxHost>> AresResolver::ImplicitMx(
    AresChannel& channel, const std::string& domain) {
  absl::StatusOr<AddressQueries> queries = SubmitAddressQueries(channel, domain);
  if (!queries.ok()) return queries.status();
  channel.Wait(Budget());
  std::vector<std::string> addresses = queries->Addresses();
  if (addresses.empty()) return queries->Failure(domain);
  return std::vector<MxHost>{MxHost{domain, 0, std::move(addresses)}};
}

absl::StatusOr<std::vector<MxHost>> AresResolver::ParseMx(
    const AresQueryResult& result, const std::string& domain) {
  ares_mx_reply* replies = nullptr;
  const int status = ares_parse_mx_reply(
      reinterpret_cast<const unsigned char*>(result.answer.data()),
      static_cast<int>(result.answer.size()), &replies);
  if (status != ARES_SUCCESS) {
    return absl::UnavailableError(fmt::format(
        "{}: Host or domain name lookup failed: bad MX answer: {}",
        EscapeForLog(domain), ares_strerror(status)));
  }
  std::vector<MxHost> hosts;
  bool null_mx = false;
  for (const ares_mx_reply* mx = replies; mx != nullptr; mx = mx->next) {
    std::string_view name = mx->host != nullptr ? mx->host : "";
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty()) {
      null_mx = true;
      continue;
    }
    hosts.push_back(MxHost{absl::AsciiStrToLower(std::string(name)),
                           mx->priority, {}});
  }
  ares_free_data(replies);
  // RFC 7505 3: a null MX is the only MX of its domain; mixed with others
  // it is ignored (3.3 says such a set is not a null MX).
  if (null_mx && hosts.empty()) {
    return absl::FailedPreconditionError(fmt::format(
        "{}: Domain does not accept mail (null MX)", EscapeForLog(domain)));
  }
  SortMx(hosts);
  // One entry per name (the best preference wins), at most kMaxMxHosts.
  std::vector<MxHost> unique;
  for (MxHost& host : hosts) {
    if (unique.size() >= kMaxMxHosts) break;
    if (std::none_of(unique.begin(), unique.end(), [&](const MxHost& u) {
          return u.name == host.name;
        })) {
      unique.push_back(std::move(host));
    }
  }
  return unique;
}

absl::StatusOr<std::vector<MxHost>> AresResolver::LookupMx(
    std::string_view domain) {
  if (std::string literal = IpLiteral(domain); !literal.empty()) {
    return std::vector<MxHost>{MxHost{literal, 0, {literal}}};
  }
  absl::StatusOr<std::string> name = QueryName(domain);
  if (!name.ok()) return name.status();
  absl::StatusOr<std::unique_ptr<AresChannel>> channel = NewChannel();
  if (!channel.ok()) return channel.status();
  absl::StatusOr<const AresQueryResult*> mx = (*channel)->Query(*name, ns_t_mx);
  if (!mx.ok()) return mx.status();
  (*channel)->Wait(Budget());
  if ((*mx)->status == ARES_ENODATA) return ImplicitMx(**channel, *name);
  if ((*mx)->status != ARES_SUCCESS) return LookupFailure(*name, (*mx)->status);

  absl::StatusOr<std::vector<MxHost>> hosts = ParseMx(**mx, *name);
  if (!hosts.ok()) return hosts.status();
  // Every host's A and AAAA at once; an IP literal in an MX record is
  // wrong (RFC 5321 5.1) but common enough to take as it is.
  std::vector<std::optional<AddressQueries>> queries(hosts->size());
  for (std::size_t i = 0; i < hosts->size(); ++i) {
    MxHost& host = (*hosts)[i];
    if (std::string literal = IpLiteral(host.name); !literal.empty()) {
      host.addresses = {literal};
      continue;
    }
    absl::StatusOr<std::string> host_name = QueryName(host.name);
    if (!host_name.ok()) continue;  // a name we cannot ask for: skipped
    absl::StatusOr<AddressQueries> q = SubmitAddressQueries(**channel,
                                                            *host_name);
    if (!q.ok()) break;
    queries[i] = *q;
  }
  (*channel)->Wait(Budget());
  std::vector<MxHost> result;
  absl::Status why = absl::NotFoundError(fmt::format(
      "{}: Host or domain name not found: no MX host has an address",
      EscapeForLog(*name)));
  for (std::size_t i = 0; i < hosts->size(); ++i) {
    MxHost& host = (*hosts)[i];
    if (queries[i].has_value()) {
      host.addresses = queries[i]->Addresses();
      if (host.addresses.empty()) {
        absl::Status failure = queries[i]->Failure(host.name);
        // A host that could not be looked up makes "no address at all"
        // a temporary failure, not a bounce.
        if (absl::IsUnavailable(failure)) why = failure;
      }
    }
    if (!host.addresses.empty()) result.push_back(std::move(host));
  }
  if (result.empty()) return why;
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Resolver>> MakeAresResolver(
    const ResolverOptions& options) {
  absl::StatusOr<std::vector<detail::DnsServer>> servers =
      detail::ParseDnsServers(options.servers);
  if (!servers.ok()) return servers.status();
  if (options.timeout <= std::chrono::milliseconds(0)) {
    return absl::InvalidArgumentError("DNS timeout must be positive");
  }
  // Try the settings once so a bad resolv.conf shows at startup.
  absl::StatusOr<std::unique_ptr<detail::AresChannel>> probe =
      detail::AresChannel::Create(*servers, options.timeout, options.tries);
  if (!probe.ok()) return probe.status();
  return std::unique_ptr<Resolver>(
      std::make_unique<AresResolver>(*std::move(servers), options));
}

}  // namespace posthorn::mta
