// mta::FormatHostStatus / FormatMailStats: the listings of sendmail's
// hoststat and mailstats programs (the layouts in host_status.h).
#include <algorithm>

#include <fmt/format.h>

#include "mta/remote/mailer_numbers.h"
#include "posthorn/mta/host_status.h"
#include "posthorn/mta/log.h"

namespace posthorn::mta {
namespace {

// Host names up to this width share a line with their status.
constexpr std::size_t kHostColumn = 38;

// sendmail's pintvl(): "HH:MM:SS", with "D+" in front past a day.
std::string Interval(absl::Duration age) {
  if (age < absl::ZeroDuration()) age = absl::ZeroDuration();
  std::int64_t seconds = absl::ToInt64Seconds(age);
  const std::int64_t days = seconds / 86400;
  seconds %= 86400;
  std::string out = days > 0 ? fmt::format("{}+", days) : "";
  out += fmt::format("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60,
                     seconds % 60);
  return out;
}

// sendmail counts kilobytes, rounded up.
std::uint64_t Kilobytes(std::uint64_t bytes) { return (bytes + 1023) / 1024; }

}  // namespace

std::string FormatHostStatus(const std::vector<HostStatus>& hosts,
                             absl::Time now) {
  std::string out =
      "-------------- Hostname ---------- How long ago ---------Results---------\n";
  for (const HostStatus& host : hosts) {
    // The name came from DNS or a file: escaped, like any log text.
    std::string name = EscapeForLog(host.host);
    if (name.size() > kHostColumn) {
      out += name + "\n";
      name.clear();
    }
    const std::string age = host.when == absl::InfinitePast()
                                ? std::string("?")
                                : Interval(now - host.when);
    out += fmt::format("{:<{}} {:>9} {}\n", name, kHostColumn, age,
                       EscapeForLog(host.reply));
  }
  return out;
}

std::string FormatMailStats(const std::vector<MailerCounters>& counters,
                            absl::Time since) {
  std::string out = fmt::format(
      "Statistics from {}\n",
      absl::FormatTime("%a %b %e %H:%M:%S %Y", since, absl::LocalTimeZone()));
  out += " M   msgsfr  bytes_from   msgsto    bytes_to  msgsrej msgsdis  Mailer\n";
  MailerCounters total;
  int next_number = 9;  // after sendmail's usual mailers
  for (const MailerCounters& c : counters) {
    int number = detail::KnownMailerNumber(c.mailer);
    if (number < 0) number = next_number++;
    detail::AddCounters(c, &total);
    // sendmail lists only the mailers that did something.
    if (c.msgs_from == 0 && c.msgs_to == 0 && c.msgs_rejected == 0 &&
        c.msgs_discarded == 0) {
      continue;
    }
    out += fmt::format("{:>2} {:>8} {:>10}K {:>8} {:>10}K   {:>6}  {:>6}  {}\n",
                       number, c.msgs_from, Kilobytes(c.bytes_from), c.msgs_to,
                       Kilobytes(c.bytes_to), c.msgs_rejected,
                       c.msgs_discarded, EscapeForLog(c.mailer));
  }
  out += std::string(69, '=') + "\n";
  out += fmt::format(" T {:>8} {:>10}K {:>8} {:>10}K   {:>6}  {:>6}\n",
                     total.msgs_from, Kilobytes(total.bytes_from),
                     total.msgs_to, Kilobytes(total.bytes_to),
                     total.msgs_rejected, total.msgs_discarded);
  return out;
}

}  // namespace posthorn::mta
