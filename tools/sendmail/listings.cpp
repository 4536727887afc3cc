// tools/sendmail/listings.cpp — the read-only views: mailq (-bp),
// praliases, hoststat (-bh), purgestat (-bH), mailstats. Each prints to
// stdout and exits 0, or names what it could not read (exit by the
// error's kind).

#include <cstdio>
#include <string>

#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "posthorn/mta/host_status.h"
#include "tools/common/exit_codes.h"
#include "tools/sendmail/mailq_format.h"
#include "tools/sendmail/modes.h"
#include "tools/sendmail/setup.h"

namespace posthorn::tools {
namespace {

std::string FormatTargets(const std::vector<store::AliasTarget>& targets) {
  std::string out;
  for (const store::AliasTarget& t : targets) {
    if (!out.empty()) out += ',';
    switch (t.kind) {
      case store::AliasTargetKind::kAddress: out += t.value; break;
      case store::AliasTargetKind::kFile: out += t.value; break;
      case store::AliasTargetKind::kProgram:
        out += fmt::format("\"|{}\"", t.value);
        break;
      case store::AliasTargetKind::kInclude:
        out += fmt::format(":include:{}", t.value);
        break;
    }
  }
  return out;
}

Failure ReadFailure(const absl::Status& s, std::string_view what) {
  const int code = absl::IsPermissionDenied(s) ? kExitNoPerm
                   : absl::IsNotFound(s)       ? kExitNoInput
                                               : kExitIoErr;
  return {code, fmt::format("{}: {}", what, StatusText(s))};
}

std::string HostStatusDir(const Config& config) {
  return fmt::format("{}/.hoststat", config.queue_dir);
}

}  // namespace

int RunListQueue(const SendmailFlags& flags, const Config& config) {
  Stores stores;
  if (auto failure = OpenQueue(config, &stores)) return Report(flags, *failure);
  auto queue = stores.queue->List();
  if (!queue.ok()) {
    return Report(flags, ReadFailure(queue.status(), config.queue_dir));
  }
  for (const std::string& problem : stores.queue->Problems()) {
    fmt::print(stderr, "{}: warning: {}\n", flags.program, problem);
  }
  std::fflush(stderr);
  fmt::print("{}", FormatQueueListing(config.queue_dir, *queue,
                                      absl::LocalTimeZone()));
  return kExitOk;
}

int RunPrintAliases(const SendmailFlags& flags, const Config& config) {
  Stores stores;
  if (auto failure = OpenAliases(config, &stores)) {
    return Report(flags, *failure);
  }
  for (const std::string& warning : stores.aliases->warnings()) {
    fmt::print(stderr, "{}: warning: {}\n", flags.program, warning);
  }
  std::fflush(stderr);
  if (flags.arguments.empty()) {
    auto all = stores.aliases->All();
    if (!all.ok()) {
      return Report(flags, ReadFailure(all.status(), config.alias_file));
    }
    std::string out;
    for (const store::AliasEntry& entry : *all) {
      out += fmt::format("{}:{}\n", entry.name, FormatTargets(entry.targets));
    }
    fmt::print("{}", out);
    return kExitOk;
  }
  // praliases name...: just those, in the order given.
  int code = kExitOk;
  for (const std::string& name : flags.arguments) {
    auto targets = stores.aliases->Lookup(name);
    if (!targets.ok()) {
      return Report(flags, ReadFailure(targets.status(), config.alias_file));
    }
    if (!targets->has_value()) {
      std::fflush(stdout);
      fmt::print(stderr, "{}: {}: no such alias\n", flags.program, name);
      std::fflush(stderr);
      code = kExitNoUser;
      continue;
    }
    fmt::print("{}:{}\n", absl::AsciiStrToLower(name),
               FormatTargets(**targets));
  }
  return code;
}

int RunHostStat(const SendmailFlags& flags, const Config& config) {
  Stores stores;  // creates queue_dir, where .hoststat lives
  if (auto failure = OpenQueue(config, &stores)) return Report(flags, *failure);
  auto table = mta::HostStatusTable::Open(HostStatusDir(config));
  if (!table.ok()) {
    return Report(flags, ReadFailure(table.status(), HostStatusDir(config)));
  }
  auto hosts = (*table)->List();
  if (!hosts.ok()) {
    return Report(flags, ReadFailure(hosts.status(), HostStatusDir(config)));
  }
  fmt::print("{}", mta::FormatHostStatus(*hosts, absl::Now()));
  return kExitOk;
}

int RunPurgeStat(const SendmailFlags& flags, const Config& config) {
  Stores stores;
  if (auto failure = OpenQueue(config, &stores)) return Report(flags, *failure);
  auto table = mta::HostStatusTable::Open(HostStatusDir(config));
  if (!table.ok()) {
    return Report(flags, ReadFailure(table.status(), HostStatusDir(config)));
  }
  if (absl::Status s = (*table)->Purge(); !s.ok()) {
    return Report(flags, ReadFailure(s, HostStatusDir(config)));
  }
  return kExitOk;
}

int RunMailStats(const SendmailFlags& flags, const Config& config) {
  const std::string path = fmt::format("{}/.mailstats", config.queue_dir);
  mta::MailStats stats(path);
  absl::Time since = absl::Now();
  auto counters = stats.Read(&since);
  if (!counters.ok()) return Report(flags, ReadFailure(counters.status(), path));
  std::string text = mta::FormatMailStats(*counters, since);
  if (!text.empty() && text.back() != '\n') text += '\n';
  fmt::print("{}", text);
  return kExitOk;
}

}  // namespace posthorn::tools
