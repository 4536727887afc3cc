// Tests of mta::MakeAresResolver against a real DNS server: dnsmasq started
// by the test on 127.0.0.1 and a free port, with a fixed set of records
// (--local=/test/ makes every other name in .test NXDOMAIN). Skipped when
// /usr/sbin/dnsmasq is not installed. Also: a server port nobody answers
// on, a socket that never replies, the server list parser, and lookups
// from several threads at once.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mta/remote/dns_server_list.h"
#include "posthorn/mta/dns.h"

extern char** environ;

namespace posthorn::mta {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using Clock = std::chrono::steady_clock;

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

// A loopback port free for UDP and TCP right now (0 when none found).
std::uint16_t FreePort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(udp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(udp);
      continue;
    }
    int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
    const bool ok =
        ::bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(tcp);
    ::close(udp);
    if (ok) return ntohs(addr.sin_port);
  }
  return 0;
}

// Asks for "amx.test" A over UDP once; true when any answer came.
bool Answers(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const unsigned char query[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0,
                                 0,    0,    3,    'a',  'm', 'x', 4, 't',
                                 'e',  's',  't',  0,    0, 1, 0, 1};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::sendto(fd, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&addr),
           sizeof addr);
  unsigned char answer[512];
  const ssize_t n = ::recv(fd, answer, sizeof answer, 0);
  ::close(fd);
  return n > 12;
}

// dnsmasq in the foreground, stopped and reaped (bounded) at the end.
class Dnsmasq {
 public:
  bool Start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = FreePort();
      if (port_ == 0) continue;
      std::vector<std::string> args = {
          kDnsmasq,
          "--keep-in-foreground",
          "--port=" + std::to_string(port_),
          "--listen-address=127.0.0.1",
          "--bind-interfaces",
          "--no-resolv",
          "--no-hosts",
          "--conf-file=/dev/null",
          "--pid-file=",
          "--local=/test/",
          "--mx-host=mx.test,mail.mx.test,10",
          "--host-record=mail.mx.test,127.0.0.1,::1",
          "--host-record=amx.test,127.0.0.2",
          "--mx-host=multi.test,a.multi.test,10",
          "--mx-host=multi.test,b.multi.test,20",
          "--mx-host=multi.test,c.multi.test,10",
          "--host-record=a.multi.test,127.0.0.11",
          "--host-record=b.multi.test,127.0.0.12",
          "--host-record=c.multi.test,127.0.0.13",
          "--mx-host=null.test,.,0",
          "--mx-host=ghost.test,nothing.ghost.test,10",
      };
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
      const int rc = posix_spawn(&pid_, kDnsmasq, &actions, nullptr,
                                 argv.data(), environ);
      posix_spawn_file_actions_destroy(&actions);
      if (rc != 0) {
        pid_ = -1;
        return false;
      }
      // Ready when it answers; gone when it could not bind (port raced).
      const auto deadline = Clock::now() + std::chrono::seconds(5);
      while (Clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        if (Answers(port_)) return true;
      }
      Stop();
    }
    return false;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }
  ~Dnsmasq() { Stop(); }
  std::string server() const {
    return "127.0.0.1:" + std::to_string(port_);
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

class DnsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::access(kDnsmasq, X_OK) != 0) return;
    dns_ = new Dnsmasq;
    if (!dns_->Start()) {
      delete dns_;
      dns_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete dns_;
    dns_ = nullptr;
  }
  void SetUp() override {
    if (::access(kDnsmasq, X_OK) != 0) {
      GTEST_SKIP() << kDnsmasq << " (dnsmasq-base) is not installed";
    }
    ASSERT_NE(dns_, nullptr) << "dnsmasq did not start";
    auto resolver = MakeAresResolver(
        {.servers = {dns_->server()},
         .timeout = std::chrono::milliseconds(1000),
         .tries = 2});
    ASSERT_TRUE(resolver.ok()) << resolver.status();
    resolver_ = *std::move(resolver);
  }
  static Dnsmasq* dns_;
  std::unique_ptr<Resolver> resolver_;
};
Dnsmasq* DnsTest::dns_ = nullptr;

TEST_F(DnsTest, MxWithAddresses) {
  auto hosts = resolver_->LookupMx("mx.test");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].name, "mail.mx.test");
  EXPECT_EQ((*hosts)[0].preference, 10);
  // IPv4 first.
  EXPECT_THAT((*hosts)[0].addresses, ElementsAre("127.0.0.1", "::1"));
}

TEST_F(DnsTest, MxCaseAndTrailingDot) {
  auto hosts = resolver_->LookupMx("MX.Test.");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].name, "mail.mx.test");
}

TEST_F(DnsTest, MxSortedByPreferenceEqualOnesShuffled) {
  bool a_first = false, c_first = false;
  for (int i = 0; i < 40 && !(a_first && c_first); ++i) {
    auto hosts = resolver_->LookupMx("multi.test");
    ASSERT_TRUE(hosts.ok()) << hosts.status();
    ASSERT_EQ(hosts->size(), 3u);
    EXPECT_EQ((*hosts)[0].preference, 10);
    EXPECT_EQ((*hosts)[1].preference, 10);
    EXPECT_EQ((*hosts)[2].name, "b.multi.test");
    EXPECT_THAT((*hosts)[2].addresses, ElementsAre("127.0.0.12"));
    if ((*hosts)[0].name == "a.multi.test") a_first = true;
    if ((*hosts)[0].name == "c.multi.test") c_first = true;
  }
  // 40 lookups: both orders appear unless the shuffle is broken
  // (chance of a false failure 2 * 2^-40).
  EXPECT_TRUE(a_first);
  EXPECT_TRUE(c_first);
}

TEST_F(DnsTest, NoMxFallsBackToAddress) {
  auto hosts = resolver_->LookupMx("amx.test");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].name, "amx.test");
  EXPECT_EQ((*hosts)[0].preference, 0);
  EXPECT_THAT((*hosts)[0].addresses, ElementsAre("127.0.0.2"));
}

TEST_F(DnsTest, NxdomainIsNotFound) {
  auto hosts = resolver_->LookupMx("nowhere.test");
  ASSERT_FALSE(hosts.ok());
  EXPECT_TRUE(absl::IsNotFound(hosts.status())) << hosts.status();
  EXPECT_THAT(std::string(hosts.status().message()),
              ::testing::HasSubstr("Host or domain name not found"));
  auto addresses = resolver_->LookupAddresses("nowhere.test");
  EXPECT_TRUE(absl::IsNotFound(addresses.status())) << addresses.status();
}

TEST_F(DnsTest, MxHostWithoutAddressIsNotFound) {
  auto hosts = resolver_->LookupMx("ghost.test");
  EXPECT_TRUE(absl::IsNotFound(hosts.status())) << hosts.status();
}

TEST_F(DnsTest, NullMxIsFailedPrecondition) {
  auto hosts = resolver_->LookupMx("null.test");
  EXPECT_TRUE(absl::IsFailedPrecondition(hosts.status())) << hosts.status();
}

TEST_F(DnsTest, LookupAddresses) {
  auto addresses = resolver_->LookupAddresses("mail.mx.test");
  ASSERT_TRUE(addresses.ok()) << addresses.status();
  EXPECT_THAT(*addresses, ElementsAre("127.0.0.1", "::1"));
}

TEST_F(DnsTest, ManyThreadsAtOnce) {
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto hosts = resolver_->LookupMx(i % 2 ? "mx.test" : "amx.test");
        if (hosts.ok() && hosts->size() == 1) ++good;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(good.load(), 40);
}

TEST_F(DnsTest, InvalidNames) {
  EXPECT_TRUE(absl::IsInvalidArgument(resolver_->LookupMx("").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(resolver_->LookupMx("a..b").status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(resolver_->LookupMx("bad name.test").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      resolver_->LookupMx(std::string(64, 'a') + ".test").status()));
}

// No DNS traffic needed for these.
TEST(ResolverTest, IpLiteralsAsTheyAre) {
  auto resolver = MakeAresResolver({.servers = {"127.0.0.1:9"}});
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  auto a = (*resolver)->LookupAddresses("127.0.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(*a, ElementsAre("127.0.0.1"));
  auto b = (*resolver)->LookupAddresses("[::1]");
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(*b, ElementsAre("::1"));
  auto mx = (*resolver)->LookupMx("[IPv6:::1]");
  ASSERT_TRUE(mx.ok()) << mx.status();
  ASSERT_EQ(mx->size(), 1u);
  EXPECT_THAT((*mx)[0].addresses, ElementsAre("::1"));
}

TEST(ResolverTest, ClosedPortIsUnavailable) {
  const std::uint16_t port = FreePort();
  ASSERT_NE(port, 0);
  auto resolver = MakeAresResolver(
      {.servers = {"127.0.0.1:" + std::to_string(port)},
       .timeout = std::chrono::milliseconds(300),
       .tries = 2});
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  const auto start = Clock::now();
  auto hosts = (*resolver)->LookupMx("example.test");
  EXPECT_TRUE(absl::IsUnavailable(hosts.status())) << hosts.status();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

TEST(ResolverTest, SilentServerIsUnavailableWithinTheTimeout) {
  // A UDP socket that receives the queries and never answers.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto resolver = MakeAresResolver(
      {.servers = {"127.0.0.1:" + std::to_string(ntohs(addr.sin_port))},
       .timeout = std::chrono::milliseconds(300),
       .tries = 2});
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  const auto start = Clock::now();
  auto hosts = (*resolver)->LookupMx("example.test");
  const auto elapsed = Clock::now() - start;
  ::close(fd);
  EXPECT_TRUE(absl::IsUnavailable(hosts.status())) << hosts.status();
  EXPECT_THAT(std::string(hosts.status().message()),
              ::testing::HasSubstr("lookup failed"));
  // timeout x tries = 600 ms, plus scheduling slack.
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
}

TEST(ResolverTest, BadServerOption) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      MakeAresResolver({.servers = {"dns.example"}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      MakeAresResolver({.servers = {"127.0.0.1:0"}}).status()));
}

TEST(DnsServerListTest, Forms) {
  using detail::ParseDnsServer;
  auto a = ParseDnsServer("127.0.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(a->port, 53);
  auto b = ParseDnsServer("127.0.0.1:5353");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 5353);
  auto c = ParseDnsServer("[::1]:53");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->v6);
  EXPECT_EQ(c->port, 53);
  auto d = ParseDnsServer("::1");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->v6);
  EXPECT_EQ(d->port, 53);
  auto e = ParseDnsServer("[2001:db8::1]");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, 53);
  for (const char* bad : {"", "[::1", "[::1]x", "1.2.3.4:", "1.2.3.4:70000",
                          "1.2.3.4:x", "host.example", "[1.2.3]:53"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseDnsServer(bad).status())) << bad;
  }
}

}  // namespace
}  // namespace posthorn::mta
