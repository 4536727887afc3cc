// Tests of mta::HostStatusTable, MailStats and their listings: round
// trips through the files, host names that try to leave the folder,
// counters added from many threads at once, the sendmail layouts.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "posthorn/mta/host_status.h"

namespace posthorn::mta {
namespace {

using net::testing::TempDir;
using ::testing::ElementsAre;

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(HostStatusTableTest, RecordListPurge) {
  TempDir dir;
  const std::string folder = dir.path() + "/.hoststat";
  auto table = HostStatusTable::Open(folder);
  ASSERT_TRUE(table.ok()) << table.status();
  const absl::Time t = absl::FromUnixSeconds(1764147645);
  ASSERT_TRUE((*table)->Record({"mx.example.net", t, true, "250 2.0.0 Ok"})
                  .ok());
  ASSERT_TRUE((*table)
                  ->Record({"[127.0.0.1]:2526", t + absl::Seconds(1), false,
                            "451 4.4.1 connect to [127.0.0.1]:2526: refused"})
                  .ok());
  // Replaced, not added.
  ASSERT_TRUE((*table)
                  ->Record({"MX.example.net", t + absl::Seconds(2), false,
                            "421 4.3.2 busy\r\nsecond line"})
                  .ok());
  auto hosts = (*table)->List();
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].host, "MX.example.net");
  EXPECT_EQ((*hosts)[0].when, t + absl::Seconds(2));
  EXPECT_FALSE((*hosts)[0].up);
  EXPECT_EQ((*hosts)[0].reply, "421 4.3.2 busy  second line");
  EXPECT_EQ((*hosts)[1].host, "[127.0.0.1]:2526");
  EXPECT_FALSE((*hosts)[1].up);

  EXPECT_FALSE((*table)->RecentlyDown("mx.example.net", absl::Minutes(5)));
  ASSERT_TRUE((*table)->Record({"down.example", absl::Now(), false, "x"}).ok());
  EXPECT_TRUE((*table)->RecentlyDown("down.example", absl::Minutes(5)));
  EXPECT_FALSE((*table)->RecentlyDown("unknown.example", absl::Minutes(5)));

  ASSERT_TRUE((*table)->Purge().ok());
  hosts = (*table)->List();
  ASSERT_TRUE(hosts.ok());
  EXPECT_TRUE(hosts->empty());
  EXPECT_TRUE(FilesIn(folder).empty());
}

TEST(HostStatusTableTest, HostNamesStayInTheFolder) {
  TempDir dir;
  const std::string folder = dir.path() + "/hs";
  auto table = HostStatusTable::Open(folder);
  ASSERT_TRUE(table.ok());
  for (const char* host : {"../escape", "..", ".", "a/b", "/etc/x",
                           ".hidden", "sp ace\n"}) {
    ASSERT_TRUE((*table)->Record({host, absl::Now(), true, "250"}).ok())
        << host;
  }
  EXPECT_FALSE((*table)->Record({"", absl::Now(), true, ""}).ok());
  EXPECT_FALSE(
      (*table)->Record({std::string(400, 'a'), absl::Now(), true, ""}).ok());
  // Nothing outside the folder, one file per host inside it, none hidden.
  EXPECT_THAT(FilesIn(dir.path()), ElementsAre("hs"));
  const auto files = FilesIn(folder);
  ASSERT_EQ(files.size(), 7u);
  for (const std::string& name : files) {
    EXPECT_EQ(name.find('/'), std::string::npos);
    EXPECT_NE(name.front(), '.') << name;
  }
  auto hosts = (*table)->List();
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->size(), 7u);
}

TEST(HostStatusTableTest, DamagedFileIsSkipped) {
  TempDir dir;
  auto table = HostStatusTable::Open(dir.path());
  ASSERT_TRUE(table.ok());
  ASSERT_TRUE((*table)->Record({"good.example", absl::Now(), true, "250"}).ok());
  std::ofstream(dir.path() + "/junk") << "not a record\n";
  auto hosts = (*table)->List();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].host, "good.example");
}

TEST(FormatHostStatusTest, Layout) {
  const absl::Time now = absl::FromUnixSeconds(1764147645);
  std::vector<HostStatus> hosts = {
      {"[127.0.0.1]:2526", now - absl::Seconds(12), true,
       "250 2.0.0 Ok: queued as X"},
      {"mx.example.net", now - absl::Hours(50) - absl::Seconds(61), false,
       "451 4.4.1 connect to mx.example.net[192.0.2.1]:25: timed out"},
      {std::string(45, 'l') + ".example", now, true, "250 2.0.0 Ok"},
  };
  EXPECT_EQ(
      FormatHostStatus(hosts, now),
      "-------------- Hostname ---------- How long ago ---------Results---------\n"
      "[127.0.0.1]:2526                        00:00:12 250 2.0.0 Ok: queued as X\n"
      "mx.example.net                         2+02:01:01 451 4.4.1 connect to "
      "mx.example.net[192.0.2.1]:25: timed out\n" +
          std::string(45, 'l') + ".example\n" + std::string(38, ' ') +
          "  00:00:00 250 2.0.0 Ok\n");
}

TEST(MailStatsTest, AddReadClear) {
  TempDir dir;
  MailStats stats(dir.path() + "/.mailstats");
  absl::Time since;
  auto empty = stats.Read(&since);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());

  const absl::Time before = absl::Now() - absl::Seconds(1);
  MailerCounters local;
  local.mailer = "local";
  local.msgs_to = 1;
  local.bytes_to = 2000;
  ASSERT_TRUE(stats.Add(local).ok());
  MailerCounters esmtp;
  esmtp.mailer = "esmtp";
  esmtp.msgs_from = 2;
  esmtp.bytes_from = 4096;
  esmtp.msgs_rejected = 3;
  ASSERT_TRUE(stats.Add(esmtp).ok());
  ASSERT_TRUE(stats.Add(local).ok());
  MailerCounters custom;
  custom.mailer = "custom";
  custom.msgs_discarded = 1;
  ASSERT_TRUE(stats.Add(custom).ok());

  auto counters = stats.Read(&since);
  ASSERT_TRUE(counters.ok()) << counters.status();
  ASSERT_EQ(counters->size(), 3u);
  // sendmail's mailer order: local (3), esmtp (5), then others.
  EXPECT_EQ((*counters)[0].mailer, "local");
  EXPECT_EQ((*counters)[0].msgs_to, 2u);
  EXPECT_EQ((*counters)[0].bytes_to, 4000u);
  EXPECT_EQ((*counters)[1].mailer, "esmtp");
  EXPECT_EQ((*counters)[1].msgs_from, 2u);
  EXPECT_EQ((*counters)[1].msgs_rejected, 3u);
  EXPECT_EQ((*counters)[2].mailer, "custom");
  EXPECT_GE(since, before);
  EXPECT_LE(since, absl::Now());

  MailerCounters bad;
  bad.mailer = "bad name\n";
  EXPECT_TRUE(absl::IsInvalidArgument(stats.Add(bad)));

  ASSERT_TRUE(stats.Clear().ok());
  counters = stats.Read(&since);
  ASSERT_TRUE(counters.ok());
  EXPECT_TRUE(counters->empty());
}

TEST(MailStatsTest, ConcurrentAddsSum) {
  TempDir dir;
  const std::string path = dir.path() + "/.mailstats";
  constexpr int kThreads = 8;
  constexpr int kAdds = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MailStats stats(path);  // each thread its own object, like processes
      for (int i = 0; i < kAdds; ++i) {
        MailerCounters delta;
        delta.mailer = t % 2 ? "local" : "esmtp";
        delta.msgs_to = 1;
        delta.bytes_to = 100;
        if (!stats.Add(delta).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto counters = MailStats(path).Read(nullptr);
  ASSERT_TRUE(counters.ok()) << counters.status();
  ASSERT_EQ(counters->size(), 2u);
  for (const MailerCounters& c : *counters) {
    EXPECT_EQ(c.msgs_to, static_cast<std::uint64_t>(kThreads / 2 * kAdds))
        << c.mailer;
    EXPECT_EQ(c.bytes_to, static_cast<std::uint64_t>(kThreads / 2 * kAdds * 100));
  }
}

TEST(MailStatsTest, DamagedFileStartsAfresh) {
  TempDir dir;
  const std::string path = dir.path() + "/.mailstats";
  std::ofstream(path) << "garbage\n";
  MailStats stats(path);
  EXPECT_FALSE(stats.Read(nullptr).ok());
  MailerCounters delta;
  delta.mailer = "local";
  delta.msgs_to = 1;
  ASSERT_TRUE(stats.Add(delta).ok());
  auto counters = stats.Read(nullptr);
  ASSERT_TRUE(counters.ok()) << counters.status();
  ASSERT_EQ(counters->size(), 1u);
  EXPECT_EQ((*counters)[0].msgs_to, 1u);
}

TEST(FormatMailStatsTest, Layout) {
  MailerCounters local;
  local.mailer = "local";
  local.msgs_from = 2;
  local.bytes_from = 4000;
  local.msgs_to = 1;
  local.bytes_to = 1500;
  MailerCounters idle;
  idle.mailer = "prog";
  MailerCounters esmtp;
  esmtp.mailer = "esmtp";
  esmtp.msgs_to = 3;
  esmtp.bytes_to = 10240;
  esmtp.msgs_rejected = 1;
  const absl::Time since = absl::FromCivil(
      absl::CivilSecond(2026, 11, 26, 9, 0, 45), absl::LocalTimeZone());
  EXPECT_EQ(
      FormatMailStats({idle, local, esmtp}, since),
      "Statistics from Thu Nov 26 09:00:45 2026\n"
      " M   msgsfr  bytes_from   msgsto    bytes_to  msgsrej msgsdis  Mailer\n"
      " 3        2          4K        1          2K        0       0  local\n"
      " 5        0          0K        3         10K        1       0  esmtp\n"
      "=====================================================================\n"
      " T        2          4K        4         12K        1       0\n");
}

}  // namespace
}  // namespace posthorn::mta
