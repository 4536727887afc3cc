// ParseCommand allocates nothing on success (the server hot path): global
// operator new is replaced by a counting one in this test binary only.

#include <atomic>
#include <cstdlib>
#include <new>
#include <string_view>
#include <variant>

#include "gtest/gtest.h"
#include "posthorn/smtp/command.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

#if defined(__GNUC__) && !defined(__clang__)
// The replacement pairs malloc with free on purpose.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace posthorn::smtp {
namespace {

TEST(AllocationTest, SuccessfulParsesDoNotAllocate) {
  const std::string_view lines[] = {
      "EHLO client.example.org",
      "MAIL FROM:<\"a b\"@example.com> SIZE=4096 BODY=8BITMIME RET=HDRS "
      "ENVID=QQ+2B1 AUTH=<>",
      "RCPT TO:<@r.example:user@[IPv6:2001:db8::1]> NOTIFY=SUCCESS,DELAY "
      "ORCPT=rfc822;user@x.example",
      "DATA",
      "BDAT 4096 LAST",
      "AUTH PLAIN AGZyZWQAc2VjcmV0",
      "QUIT",
  };
  for (std::string_view line : lines) {
    const long before = g_allocations.load();
    auto result = ParseCommand(line);
    const long after = g_allocations.load();
    EXPECT_TRUE(std::holds_alternative<Command>(result)) << line;
    EXPECT_EQ(after - before, 0) << line;
  }
}

TEST(AllocationTest, TheCounterWorks) {
  const long before = g_allocations.load();
  auto result = ParseCommand("MAIL FROM:<;sleep 66;>");  // error text
  EXPECT_TRUE(std::holds_alternative<CommandError>(result));
  EXPECT_GT(g_allocations.load() - before, 0);
}

}  // namespace
}  // namespace posthorn::smtp
