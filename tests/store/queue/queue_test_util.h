// tests/store/queue/queue_test_util.h — fixtures shared by the queue tests
// (file, PostgreSQL and the conformance suite): a fresh temporary folder,
// sample envelopes, one-call enqueue and reads, enqueues from threads.

#ifndef POSTHORN_TESTS_STORE_QUEUE_QUEUE_TEST_UTIL_H_
#define POSTHORN_TESTS_STORE_QUEUE_QUEUE_TEST_UTIL_H_

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/store/common/temp_dir.h"
#include "posthorn/store/message_reader.h"
#include "posthorn/store/queue.h"
#include "store/queue/queue_id.h"

namespace posthorn::store::testing {

// Times in envelopes are kept to the microsecond.
inline absl::Time SampleTime(std::int64_t seconds) {
  return absl::FromUnixMicros(seconds * 1'000'000 + 123'456);
}

inline QueueEnvelope SampleEnvelope(
    std::string_view sender = "alice@example.org", int recipients = 2) {
  QueueEnvelope e;
  e.sender = std::string(sender);
  e.envid = "ENV-1";
  e.received_from = "mx.example.net [192.0.2.1]";
  e.arrival = SampleTime(1'700'000'000);
  for (int i = 0; i < recipients; ++i) {
    QueuedRecipient r;
    r.address = "rcpt" + std::to_string(i) + "@example.com";
    e.recipients.push_back(r);
  }
  return e;
}

// Every byte value once, 0 to 255 in order.
inline std::string AllBytes() {
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes.push_back(static_cast<char>(c));
  return bytes;
}

// Every field away from its default, strings holding every byte and the
// ones the envelope text uses itself (space, LF, '+', '=', "end ...").
inline QueueEnvelope OddEnvelope() {
  QueueEnvelope e = SampleEnvelope("x\r\nend 0000000000000000\n+=% \"<>\"", 0);
  e.id = queue::NewQueueId();
  e.envid = AllBytes();
  e.ret_headers_only = true;
  e.received_from = std::string("nul\0inside", 10);
  e.size = 18'446'744'073'709'551'615ull;
  e.attempts = 2'147'483'647;
  e.next_attempt = absl::InfiniteFuture();
  e.delay_warned = true;
  QueuedRecipient a;
  a.address = "rcpt a\nrcpt pending --- 0 evil = = =";
  a.orcpt = "rfc822;" + AllBytes();
  a.notify_success = true;
  a.notify_failure = false;
  a.notify_delay = false;
  a.state = RecipientState::kFailed;
  a.last_reply = "550 5.1.1 <x>\r\n550 again\xff";
  a.remote_host = "mx.example.com [2001:db8::1]";
  a.dsn_sent = true;
  QueuedRecipient b;
  b.state = RecipientState::kDelivered;
  b.address = "";  // the empty string has its own token
  QueuedRecipient c;
  c.address = "=";
  c.last_reply = "+";
  e.recipients = {a, b, c};
  return e;
}

inline absl::StatusOr<std::string> Enqueue(Queue& queue,
                                           const QueueEnvelope& envelope,
                                           std::string_view data) {
  auto writer = queue.BeginEnqueue(envelope);
  if (!writer.ok()) return writer.status();
  // Two writes, to exercise streaming.
  absl::Status status = (*writer)->Write(data.substr(0, data.size() / 2));
  if (!status.ok()) return status;
  status = (*writer)->Write(data.substr(data.size() / 2));
  if (!status.ok()) return status;
  return (*writer)->Commit();
}

// Enqueues `per_thread` messages from each of `threads` threads at once.
// A message's data and its sender are both "thread <t> message <i>", so
// each can be told apart. Returns the ids each thread got, in its order;
// a failed enqueue fails the test.
inline std::vector<std::vector<std::string>> EnqueueFromThreads(
    Queue& queue, int threads, int per_thread) {
  std::vector<std::vector<std::string>> ids(threads);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string data =
            "thread " + std::to_string(t) + " message " + std::to_string(i);
        absl::StatusOr<std::string> id =
            Enqueue(queue, SampleEnvelope(data, 1), data);
        ASSERT_TRUE(id.ok()) << id.status();
        ids[t].push_back(*id);
      }
    });
  }
  for (std::thread& thread : running) thread.join();
  return ids;
}

inline absl::StatusOr<std::string> ReadData(QueueLease& lease) {
  auto reader = lease.OpenData();
  if (!reader.ok()) return reader.status();
  return ReadAll(**reader);
}

// Everything but id and size, which the queue sets.
inline void ExpectSameEnvelope(const QueueEnvelope& a, const QueueEnvelope& b) {
  EXPECT_EQ(a.sender, b.sender);
  EXPECT_EQ(a.envid, b.envid);
  EXPECT_EQ(a.ret_headers_only, b.ret_headers_only);
  EXPECT_EQ(a.received_from, b.received_from);
  EXPECT_EQ(a.arrival, b.arrival);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.next_attempt, b.next_attempt);
  EXPECT_EQ(a.delay_warned, b.delay_warned);
  ASSERT_EQ(a.recipients.size(), b.recipients.size());
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    const QueuedRecipient& x = a.recipients[i];
    const QueuedRecipient& y = b.recipients[i];
    EXPECT_EQ(x.address, y.address) << i;
    EXPECT_EQ(x.orcpt, y.orcpt) << i;
    EXPECT_EQ(x.notify_success, y.notify_success) << i;
    EXPECT_EQ(x.notify_failure, y.notify_failure) << i;
    EXPECT_EQ(x.notify_delay, y.notify_delay) << i;
    EXPECT_EQ(x.state, y.state) << i;
    EXPECT_EQ(x.last_reply, y.last_reply) << i;
    EXPECT_EQ(x.remote_host, y.remote_host) << i;
    EXPECT_EQ(x.dsn_sent, y.dsn_sent) << i;
  }
}

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_QUEUE_QUEUE_TEST_UTIL_H_
