// mta/deliver/local_targets.cpp — see local_targets.h.

#include "mta/deliver/local_targets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "fmt/format.h"
#include "posthorn/store/aliases.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::mta::deliver {
namespace {

// The local part to look up again, or nullopt for a remote address.
std::optional<std::string> LocalPartOf(const Router& router,
                                       std::string_view address) {
  absl::StatusOr<Route> route = router.RouteAddress(address);
  if (!route.ok() || route->kind != RouteKind::kLocal) return std::nullopt;
  return route->local_part;
}

LocalTarget ClassifyName(const LocalAgentOptions& options, std::string name,
                         std::string owner) {
  bool exists = store::ValidateUserName(name).ok() &&
                (!options.user_exists || options.user_exists(name));
  return LocalTarget{exists ? TargetKind::kUser : TargetKind::kUnknownUser,
                     std::move(name), std::move(owner)};
}

}  // namespace

absl::StatusOr<std::string> ReadIncludeFile(std::string_view path) {
  std::string file(path);
  if (file.empty() || file.front() != '/') {
    return absl::InvalidArgumentError(
        fmt::format("{}: an include file needs an absolute path", file));
  }
  // O_NONBLOCK: a FIFO planted as an include file must not hang delivery
  // (it is refused below as not a regular file).
  int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(
        fmt::format("open {}: {}", file, std::strerror(errno)));
  }
  struct stat st;
  std::string text;
  absl::Status status = absl::OkStatus();
  if (::fstat(fd, &st) != 0) {
    status = absl::UnavailableError(
        fmt::format("fstat {}: {}", file, std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::PermissionDeniedError(
        fmt::format("{}: not a regular file", file));
  } else {
    char buffer[16384];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = absl::UnavailableError(
            fmt::format("read {}: {}", file, std::strerror(errno)));
        break;
      }
      if (n == 0) break;
      if (text.size() + static_cast<std::size_t>(n) > kMaxIncludeBytes) {
        status = absl::ResourceExhaustedError(fmt::format(
            "{}: larger than {} bytes", file, kMaxIncludeBytes));
        break;
      }
      text.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return text;
}

absl::StatusOr<TargetList> ExpandLocal(const LocalAgentOptions& options,
                                       std::string_view name) {
  TargetList out;
  if (options.aliases == nullptr) {
    out.targets.push_back(ClassifyName(options, std::string(name), ""));
    return out;
  }
  const Router& router = *options.router;
  store::ExpandOptions expand;
  expand.allow_file_targets = true;     // refused per target by the agent
  expand.allow_program_targets = true;  // (with a bounce that says why)
  expand.allow_include = true;
  expand.local_part = [&router](std::string_view address) {
    return LocalPartOf(router, address);
  };
  expand.read_include = ReadIncludeFile;
  absl::StatusOr<store::Expansion> expansion =
      store::ExpandAlias(*options.aliases, name, expand);
  if (!expansion.ok()) return expansion.status();

  for (std::string& problem : expansion->problems) {
    if (problem.rfind("alias loop", 0) == 0) out.loop = true;
    out.problems.push_back(std::move(problem));
  }
  for (store::ExpandedRecipient& r : expansion->recipients) {
    switch (r.kind) {
      case store::AliasTargetKind::kFile:
        out.targets.push_back(
            {TargetKind::kFile, std::move(r.value), std::move(r.owner)});
        break;
      case store::AliasTargetKind::kProgram:
        out.targets.push_back(
            {TargetKind::kProgram, std::move(r.value), std::move(r.owner)});
        break;
      case store::AliasTargetKind::kAddress:
      case store::AliasTargetKind::kInclude: {
        std::optional<std::string> local = LocalPartOf(router, r.value);
        if (local) {
          out.targets.push_back(
              ClassifyName(options, *std::move(local), std::move(r.owner)));
        } else {
          out.targets.push_back(
              {TargetKind::kRemote, std::move(r.value), std::move(r.owner)});
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace posthorn::mta::deliver
