// ParseEndpoint (posthorn/net/smtp_server.h).

#include <string>

#include "gtest/gtest.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net {
namespace {

TEST(ParseEndpointTest, AcceptsHostAndPort) {
  auto v4 = ParseEndpoint("127.0.0.1:2525");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 2525);

  auto v6 = ParseEndpoint("[::1]:25");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 25);

  auto any6 = ParseEndpoint("[::]:0");
  ASSERT_TRUE(any6.ok());
  EXPECT_EQ(any6->first, "::");
  EXPECT_EQ(any6->second, 0);

  auto name = ParseEndpoint("mail.example.org:587");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->first, "mail.example.org");
  EXPECT_EQ(name->second, 587);

  auto max = ParseEndpoint("0.0.0.0:65535");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->second, 65535);
}

TEST(ParseEndpointTest, RefusesEverythingElse) {
  for (const char* bad :
       {"", ":", "127.0.0.1", "127.0.0.1:", ":25", "127.0.0.1:65536",
        "127.0.0.1:-1", "127.0.0.1:25x", "127.0.0.1:+25", "::1:25", "[::1]",
        "[::1]25", "[::1]:", "[::1:25", "[127.0.0.1]:25", "[]:25",
        "host name:25", "host\n:25", "127.0.0.1:123456", "[::1]:25:25"}) {
    EXPECT_FALSE(ParseEndpoint(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace posthorn::net
