// Routing: next hops, trusted networks, the transport map and the router.
#include <gtest/gtest.h>

#include "posthorn/mta/log.h"
#include "posthorn/mta/routing.h"

namespace posthorn::mta {
namespace {

TEST(NextHop, Forms) {
  auto bracketed = ParseNextHop("[127.0.0.1]:2526");
  ASSERT_TRUE(bracketed.ok()) << bracketed.status();
  EXPECT_EQ(bracketed->host, "127.0.0.1");
  EXPECT_EQ(bracketed->port, 2526);
  EXPECT_FALSE(bracketed->mx_lookup);
  EXPECT_EQ(FormatNextHop(*bracketed), "[127.0.0.1]:2526");

  auto name = ParseNextHop("Mail.Example.NET.");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "mail.example.net");
  EXPECT_EQ(name->port, 25);
  EXPECT_TRUE(name->mx_lookup);
  EXPECT_EQ(FormatNextHop(*name), "mail.example.net");

  auto v6 = ParseNextHop("[::1]:2525");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(v6->mx_lookup);

  auto ip_without_brackets = ParseNextHop("10.0.0.2:587");
  ASSERT_TRUE(ip_without_brackets.ok());
  EXPECT_FALSE(ip_without_brackets->mx_lookup);  // an IP has no MX
}

TEST(NextHop, Refused) {
  for (const char* bad : {"", "[127.0.0.1", "[127.0.0.1]x", "host:0",
                          "host:65536", "host:", "host:2x", "::1:25",
                          "bad host", "-host", "[]:25", "ho/st"}) {
    EXPECT_FALSE(ParseNextHop(bad).ok()) << bad;
  }
}

TEST(NetworkList, MatchesPrefixes) {
  auto list = NetworkList::Parse(
      {"127.0.0.0/8", "[::1]/128", "10.1.2.3", "192.168.16.0/20", "2001:db8::/32"});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->Contains("127.0.0.1"));
  EXPECT_TRUE(list->Contains("127.255.0.9"));
  EXPECT_TRUE(list->Contains("::1"));
  EXPECT_TRUE(list->Contains("::ffff:127.0.0.2"));  // dual-stack socket
  EXPECT_TRUE(list->Contains("10.1.2.3"));
  EXPECT_FALSE(list->Contains("10.1.2.4"));
  EXPECT_TRUE(list->Contains("192.168.31.255"));
  EXPECT_FALSE(list->Contains("192.168.32.0"));
  EXPECT_TRUE(list->Contains("2001:db8:ffff::1"));
  EXPECT_FALSE(list->Contains("2001:db9::1"));
  EXPECT_FALSE(list->Contains("::2"));
  EXPECT_FALSE(list->Contains(""));
  EXPECT_FALSE(list->Contains("not an address"));
}

TEST(NetworkList, NarrowListExcludesSecondLoopback) {
  auto list = NetworkList::Parse({"127.0.0.1/32"});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->Contains("127.0.0.1"));
  EXPECT_FALSE(list->Contains("127.0.0.2"));
}

TEST(NetworkList, RefusesBadEntries) {
  for (const char* bad : {"127.0.0.0/33", "::1/129", "127.0.0.1/", "x/8",
                          "127.0.0.1/-1", "300.0.0.1"}) {
    EXPECT_FALSE(NetworkList::Parse({bad}).ok()) << bad;
  }
}

TEST(TransportMap, ParsesAndReportsLines) {
  auto map = ParseTransportMap(
      "# comment\n"
      "b.test        [127.0.0.1]:2526\n"
      "\n"
      ".Example.NET  [10.0.0.2]   # subdomains\n"
      "other.example mail.other.example\n",
      "transport");
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->size(), 3u);
  EXPECT_EQ((*map)[0].domain, "b.test");
  EXPECT_EQ((*map)[0].hop.port, 2526);
  EXPECT_EQ((*map)[0].line, 2);
  EXPECT_EQ((*map)[1].domain, ".example.net");
  EXPECT_TRUE((*map)[2].hop.mx_lookup);

  auto missing = ParseTransportMap("ok.test [127.0.0.1]\nlonely\n", "tm");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message().substr(0, 5), "tm:2:");

  auto extra = ParseTransportMap("a.test [127.0.0.1] more\n", "tm");
  EXPECT_FALSE(extra.ok());
  auto duplicate = ParseTransportMap("a.test x\nA.TEST y\n", "tm");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.status().message().find("line 1"), std::string::npos);
}

Router MakeRouter(std::optional<NextHop> relay = std::nullopt) {
  RouterOptions options;
  options.local_domains = {"Example.ORG", "localhost"};
  options.transport = *ParseTransportMap(
      "b.test [127.0.0.1]:2526\n.sub.test [127.0.0.1]:2527\n", "tm");
  options.relay_host = relay;
  return Router(options);
}

TEST(Router, LocalAddresses) {
  Router router = MakeRouter();
  auto local = router.RouteAddress("Alice@example.org");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->kind, RouteKind::kLocal);
  EXPECT_EQ(local->local_part, "alice");
  EXPECT_EQ(local->domain, "example.org");
  auto bare = router.RouteAddress("root");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->kind, RouteKind::kLocal);
  EXPECT_EQ(bare->local_part, "root");
  EXPECT_TRUE(router.IsLocalDomain("LOCALHOST."));
  EXPECT_FALSE(router.IsLocalDomain("example.net"));
}

TEST(Router, RemoteAddresses) {
  Router router = MakeRouter();
  auto mapped = router.RouteAddress("<bob@B.test>");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->kind, RouteKind::kRemote);
  EXPECT_EQ(FormatNextHop(mapped->hop), "[127.0.0.1]:2526");

  auto sub = router.RouteAddress("x@deep.a.sub.test");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->hop.port, 2527);
  // ".sub.test" matches subdomains only, not sub.test itself.
  auto parent = router.RouteAddress("x@sub.test");
  ASSERT_TRUE(parent.ok());
  EXPECT_TRUE(parent->hop.mx_lookup);
  EXPECT_EQ(parent->hop.host, "sub.test");

  auto literal = router.RouteAddress("x@[127.0.0.1]");
  ASSERT_TRUE(literal.ok());
  EXPECT_FALSE(literal->hop.mx_lookup);
  EXPECT_EQ(literal->hop.host, "127.0.0.1");
  auto literal6 = router.RouteAddress("x@[IPv6:::1]");
  ASSERT_TRUE(literal6.ok());
  EXPECT_EQ(literal6->hop.host, "::1");

  Router relayed = MakeRouter(*ParseNextHop("[127.0.0.1]:2600"));
  auto smart = relayed.RouteAddress("y@elsewhere.example");
  ASSERT_TRUE(smart.ok());
  EXPECT_EQ(smart->hop.port, 2600);
  // The transport map still wins over relay_host.
  EXPECT_EQ(relayed.RouteAddress("y@b.test")->hop.port, 2526);
}

TEST(Router, RefusesNonMailboxes) {
  Router router = MakeRouter();
  for (const char* bad : {"", "@example.org", "user@", "x@[bogus]"}) {
    EXPECT_FALSE(router.RouteAddress(bad).ok()) << bad;
  }
}

TEST(EscapeForLog, NoControlBytes) {
  EXPECT_EQ(EscapeForLog("a\r\nb\\c\x7f\xc3"), "a\\x0d\\x0ab\\x5cc\\x7f\\xc3");
  EXPECT_EQ(EscapeForLog("plain <x@y>"), "plain <x@y>");
}

}  // namespace
}  // namespace posthorn::mta

namespace posthorn::mta {
namespace {

TEST(NormalizeDomain, LowercasesAndDropsTheFinalDot) {
  EXPECT_EQ(NormalizeDomain("Example.ORG."), "example.org");
  EXPECT_EQ(NormalizeDomain("b.test"), "b.test");
  EXPECT_EQ(NormalizeDomain(""), "");
}

}  // namespace
}  // namespace posthorn::mta
