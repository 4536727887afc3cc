// mta/deliver/describe_delivery.cpp — mta::DescribeDelivery
// (local_delivery.h): what `sendmail -bv` prints, one line per final
// target, without delivering anything.
//
//   alice... deliverable: mailer local, user alice
//   bob@example.net... deliverable: mailer esmtp, host [127.0.0.1]:2526
//   /var/mail/archive... deliverable: mailer file, file /var/mail/archive
//   "|/usr/bin/prog"... deliverable: mailer prog, command /usr/bin/prog
//   "|/usr/bin/prog"... program targets not allowed
//   nobody... User unknown
//   list... Alias loop

#include <string>
#include <vector>

#include "fmt/format.h"
#include "mta/deliver/local_targets.h"
#include "posthorn/mta/local_delivery.h"

namespace posthorn::mta {
namespace {

std::string DescribeRemote(const Router& router, const std::string& address) {
  auto route = router.RouteAddress(address);
  if (!route.ok()) {
    return fmt::format("{}... {}", address,
                       std::string(route.status().message()));
  }
  return fmt::format("{}... deliverable: mailer esmtp, host {}", address,
                     FormatNextHop(route->hop));
}

}  // namespace

std::vector<std::string> DescribeDelivery(const LocalAgentOptions& options,
                                          std::string_view address) {
  std::vector<std::string> lines;
  std::string text(address);
  if (options.router == nullptr) {
    lines.push_back(fmt::format("{}... no router configured", text));
    return lines;
  }
  auto route = options.router->RouteAddress(text);
  if (!route.ok()) {
    lines.push_back(
        fmt::format("{}... {}", text, std::string(route.status().message())));
    return lines;
  }
  if (route->kind == RouteKind::kRemote) {
    lines.push_back(DescribeRemote(*options.router, text));
    return lines;
  }
  auto targets = deliver::ExpandLocal(options, route->local_part);
  if (!targets.ok()) {
    lines.push_back(fmt::format("{}... {}", text,
                                std::string(targets.status().message())));
    return lines;
  }
  if (targets->targets.empty()) {
    lines.push_back(fmt::format("{}... {}", text,
                                targets->loop ? "Alias loop"
                                              : "alias has no usable target"));
    return lines;
  }
  for (const deliver::LocalTarget& t : targets->targets) {
    switch (t.kind) {
      case deliver::TargetKind::kUser:
        lines.push_back(fmt::format("{}... deliverable: mailer local, user {}",
                                    t.value, t.value));
        break;
      case deliver::TargetKind::kUnknownUser:
        lines.push_back(fmt::format("{}... User unknown", t.value));
        break;
      case deliver::TargetKind::kRemote:
        lines.push_back(DescribeRemote(*options.router, t.value));
        break;
      case deliver::TargetKind::kFile:
        lines.push_back(
            options.allow_file_targets
                ? fmt::format("{}... deliverable: mailer file, file {}",
                              t.value, t.value)
                : fmt::format("{}... file targets not allowed", t.value));
        break;
      case deliver::TargetKind::kProgram:
        lines.push_back(
            options.allow_program_targets
                ? fmt::format("\"|{}\"... deliverable: mailer prog, command {}",
                              t.value, t.value)
                : fmt::format("\"|{}\"... program targets not allowed",
                              t.value));
        break;
    }
  }
  return lines;
}

}  // namespace posthorn::mta
