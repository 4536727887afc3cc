// tests/pop3d/address_limiter_test.cpp — AddressLimiter: the sliding
// window, IPv6 /64 grouping, the bound on tracked addresses, threads.

#include "posthorn/pop3d/address_limiter.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "gtest/gtest.h"

namespace posthorn::pop3d {
namespace {

using std::chrono::seconds;
using Clock = AddressLimiter::Clock;

const Clock::time_point kStart = Clock::time_point() + std::chrono::hours(1);

AddressLimits Limits(int max_failures, int window_seconds,
                     std::size_t max_tracked = 100) {
  AddressLimits limits;
  limits.max_failures = max_failures;
  limits.window = seconds(window_seconds);
  limits.max_tracked = max_tracked;
  return limits;
}

TEST(AddressLimiter, BlocksAfterMaxFailuresWithinTheWindow) {
  AddressLimiter limiter(Limits(3, 600));
  for (int i = 0; i < 2; ++i) {
    limiter.RecordFailure("192.0.2.1", kStart + seconds(i));
    EXPECT_FALSE(limiter.IsBlocked("192.0.2.1", kStart + seconds(i)));
  }
  limiter.RecordFailure("192.0.2.1", kStart + seconds(2));
  EXPECT_TRUE(limiter.IsBlocked("192.0.2.1", kStart + seconds(3)));
  EXPECT_FALSE(limiter.IsBlocked("192.0.2.2", kStart + seconds(3)));
  // Blocked until the window has passed since the last failure.
  EXPECT_TRUE(limiter.IsBlocked("192.0.2.1", kStart + seconds(601)));
  EXPECT_FALSE(limiter.IsBlocked("192.0.2.1", kStart + seconds(602)));
  EXPECT_EQ(limiter.tracked(), 0u);  // forgotten once expired
  // A fresh budget afterwards.
  limiter.RecordFailure("192.0.2.1", kStart + seconds(700));
  EXPECT_FALSE(limiter.IsBlocked("192.0.2.1", kStart + seconds(700)));
}

TEST(AddressLimiter, FailuresSpreadWiderThanTheWindowDoNotBlock) {
  AddressLimiter limiter(Limits(3, 100));
  for (int i = 0; i < 10; ++i) {
    const auto now = kStart + seconds(60 * i);  // 3 failures span 120 s
    limiter.RecordFailure("192.0.2.1", now);
    EXPECT_FALSE(limiter.IsBlocked("192.0.2.1", now)) << i;
  }
  // Sliding, not fixed: three within 100 s across any boundary block.
  limiter.RecordFailure("192.0.2.1", kStart + seconds(560));
  limiter.RecordFailure("192.0.2.1", kStart + seconds(561));
  EXPECT_TRUE(limiter.IsBlocked("192.0.2.1", kStart + seconds(562)));
}

TEST(AddressLimiter, SuccessDoesNotClearAndEmptyAddressIsNeverBlocked) {
  AddressLimiter limiter(Limits(1, 600));
  limiter.RecordFailure("", kStart);
  EXPECT_FALSE(limiter.IsBlocked("", kStart));
  EXPECT_EQ(limiter.tracked(), 0u);
  limiter.RecordFailure("198.51.100.7", kStart);
  EXPECT_TRUE(limiter.IsBlocked("198.51.100.7", kStart));
}

TEST(AddressLimiter, ZeroMaxFailuresDisablesIt) {
  AddressLimiter limiter(Limits(0, 600));
  for (int i = 0; i < 50; ++i) limiter.RecordFailure("192.0.2.1", kStart);
  EXPECT_FALSE(limiter.IsBlocked("192.0.2.1", kStart));
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(AddressLimiter, Ipv6IsCountedPerSlash64) {
  AddressLimiter limiter(Limits(3, 600));
  limiter.RecordFailure("2001:db8:1:2::1", kStart);
  limiter.RecordFailure("2001:db8:1:2:aaaa:bbbb:cccc:dddd", kStart);
  limiter.RecordFailure("2001:0db8:0001:0002::ffff", kStart);
  EXPECT_EQ(limiter.tracked(), 1u);
  EXPECT_TRUE(limiter.IsBlocked("2001:db8:1:2::99", kStart));
  EXPECT_FALSE(limiter.IsBlocked("2001:db8:1:3::1", kStart));  // next /64
  EXPECT_FALSE(limiter.IsBlocked("::1", kStart));
}

TEST(AddressLimiter, Ipv4MappedCountsAsIpv4AndZoneIsIgnored) {
  AddressLimiter limiter(Limits(2, 600));
  limiter.RecordFailure("192.0.2.9", kStart);
  limiter.RecordFailure("::ffff:192.0.2.9", kStart);
  EXPECT_TRUE(limiter.IsBlocked("192.0.2.9", kStart));
  limiter.RecordFailure("fe80::1%eth0", kStart);
  limiter.RecordFailure("fe80::2%eth1", kStart);
  EXPECT_TRUE(limiter.IsBlocked("fe80::3", kStart));
}

TEST(AddressLimiter, TrackedAddressesStayBounded) {
  AddressLimiter limiter(Limits(2, 600, 50));
  for (int i = 0; i < 5000; ++i) {
    limiter.RecordFailure(fmt::format("10.{}.{}.{}", i >> 16, (i >> 8) & 255,
                                      i & 255),
                          kStart + seconds(i % 60));
    ASSERT_LE(limiter.tracked(), 50u);
  }
  EXPECT_EQ(limiter.tracked(), 50u);
  // The most recent ones are kept, the oldest were dropped.
  limiter.RecordFailure("10.0.19.135", kStart + seconds(100));  // i = 4999
  EXPECT_TRUE(limiter.IsBlocked("10.0.19.135", kStart + seconds(100)));
  limiter.RecordFailure("10.0.0.0", kStart + seconds(100));  // was dropped
  EXPECT_FALSE(limiter.IsBlocked("10.0.0.0", kStart + seconds(100)));
}

TEST(AddressLimiter, LongGarbageAddressesAreBoundedKeys) {
  AddressLimiter limiter(Limits(2, 600));
  limiter.RecordFailure(std::string(100000, 'x'), kStart);
  limiter.RecordFailure(std::string(70000, 'x'), kStart);
  EXPECT_EQ(limiter.tracked(), 1u);  // both cut to the same 64 octets
  EXPECT_TRUE(limiter.IsBlocked(std::string(64, 'x'), kStart));
}

TEST(AddressLimiter, ConcurrentUseIsSafe) {
  AddressLimiter limiter(Limits(5, 600, 64));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&limiter, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string address = fmt::format("192.0.{}.{}", t, i % 100);
        limiter.RecordFailure(address, kStart + seconds(i));
        (void)limiter.IsBlocked(address, kStart + seconds(i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(limiter.tracked(), 64u);
}

}  // namespace
}  // namespace posthorn::pop3d
