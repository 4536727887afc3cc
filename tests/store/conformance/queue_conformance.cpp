// tests/store/conformance/queue_conformance.cpp — the cases every Queue
// backend must pass; see queue_conformance.h.

#include "queue_conformance.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

#include "posthorn/store/status.h"
#include "tests/store/queue/queue_test_util.h"

namespace posthorn::store::testing {

void QueueConformanceTest::SetUp() {
  storage_ = GetParam().new_storage(temp_dir_.path());
  ASSERT_FALSE(storage_.empty());
  queue_ = GetParam().open(storage_);
  ASSERT_NE(queue_, nullptr);
}

std::unique_ptr<Queue> QueueConformanceTest::OpenAgain() {
  std::unique_ptr<Queue> queue = GetParam().open(storage_);
  EXPECT_NE(queue, nullptr);
  return queue;
}

namespace {

// Larger than one PostgreSQL chunk (kPgChunkBytes, 256 KiB), so it is
// streamed rather than buffered, and not a multiple of any piece size.
constexpr std::size_t kLargeMessageBytes = 256 * 1024 * 3 + 12'345;

// Enqueues `data` in Write()s of `piece` bytes; checks that Commit()
// returns the id the writer announced before any data.
absl::StatusOr<std::string> EnqueueInPieces(Queue& queue,
                                            const QueueEnvelope& envelope,
                                            std::string_view data,
                                            std::size_t piece) {
  auto writer = queue.BeginEnqueue(envelope);
  if (!writer.ok()) return writer.status();
  const std::string announced = (*writer)->id();
  for (std::size_t at = 0; at < data.size(); at += piece) {
    absl::Status status = (*writer)->Write(data.substr(at, piece));
    if (!status.ok()) return status;
  }
  absl::StatusOr<std::string> id = (*writer)->Commit();
  if (id.ok()) {
    EXPECT_EQ(*id, announced);
  }
  return id;
}

std::vector<std::string> Ids(const std::vector<QueueEnvelope>& envelopes) {
  std::vector<std::string> ids;
  for (const QueueEnvelope& envelope : envelopes) ids.push_back(envelope.id);
  return ids;
}

std::vector<std::string> ListedIds(Queue& queue) {
  absl::StatusOr<std::vector<QueueEnvelope>> listed = queue.List();
  EXPECT_TRUE(listed.ok()) << listed.status();
  return listed.ok() ? Ids(*listed) : std::vector<std::string>{};
}

TEST_P(QueueConformanceTest, CommitReturnsTheIdTheWriterAnnounced) {
  auto writer = queue_->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::string announced = (*writer)->id();
  EXPECT_FALSE(announced.empty());
  ASSERT_TRUE((*writer)->Write("Subject: hi\r\n\r\n").ok());
  ASSERT_TRUE((*writer)->Write("body\r\n").ok());
  EXPECT_EQ((*writer)->id(), announced);  // unchanged by the data
  absl::StatusOr<std::string> id = (*writer)->Commit();
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, announced);
  EXPECT_EQ(ListedIds(*queue_), std::vector<std::string>{announced});
  EXPECT_TRUE(queue_->Problems().empty());
}

// Its id and size are ignored: the queue sets them.
TEST_P(QueueConformanceTest, ListReturnsEveryEnvelopeFieldAsGiven) {
  const QueueEnvelope given = OddEnvelope();
  const std::string data = "Subject: odd\r\n\r\nbody\r\n";
  absl::StatusOr<std::string> id = Enqueue(*queue_, given, data);
  ASSERT_TRUE(id.ok()) << id.status();
  auto listed = queue_->List();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  const QueueEnvelope& got = (*listed)[0];
  EXPECT_EQ(got.id, *id);
  EXPECT_EQ(got.size, data.size());
  ExpectSameEnvelope(got, given);
  // A lease, from another Queue object, sees the same.
  auto other = OpenAgain();
  ASSERT_NE(other, nullptr);
  auto lease = other->Lease(*id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)->envelope().id, *id);
  EXPECT_EQ((*lease)->envelope().size, data.size());
  ExpectSameEnvelope((*lease)->envelope(), given);
}

// The null sender, empty strings, times to the microsecond, "never", and
// the other end of every flag, each in its own message.
TEST_P(QueueConformanceTest, EdgeValuesOfTheEnvelopeRoundTrip) {
  std::vector<QueueEnvelope> given;
  QueueEnvelope null_sender = SampleEnvelope("", 1);
  null_sender.envid = "";
  null_sender.received_from = "";
  given.push_back(null_sender);
  QueueEnvelope never = SampleEnvelope("=", 1);  // the null sender's token
  never.next_attempt = absl::InfiniteFuture();
  never.arrival = absl::FromUnixMicros(1);
  given.push_back(never);
  QueueEnvelope precise = SampleEnvelope("y@example.org", 1);
  precise.arrival = absl::FromUnixMicros(1'700'000'000'654'321);
  precise.next_attempt = absl::FromUnixMicros(1'700'000'900'000'001);
  given.push_back(precise);
  QueueEnvelope flags = SampleEnvelope("x@example.org", 1);
  flags.recipients[0].notify_success = true;
  flags.recipients[0].notify_failure = false;
  flags.recipients[0].notify_delay = true;
  flags.recipients[0].dsn_sent = true;
  flags.recipients[0].state = RecipientState::kFailed;
  flags.attempts = 1'000'000;
  given.push_back(flags);
  std::vector<std::string> ids;
  for (const QueueEnvelope& envelope : given) {
    absl::StatusOr<std::string> id = Enqueue(*queue_, envelope, "x");
    ASSERT_TRUE(id.ok()) << id.status();
    ids.push_back(*id);
  }
  auto listed = queue_->List();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(Ids(*listed), ids);
  for (std::size_t i = 0; i < given.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectSameEnvelope((*listed)[i], given[i]);
  }
}

TEST_P(QueueConformanceTest, DataComesBackByteForByte) {
  struct Case {
    const char* name;
    std::string data;
    std::size_t piece;  // bytes per Write()
  };
  std::string large;
  for (std::size_t i = 0; large.size() < kLargeMessageBytes; ++i) {
    large += "line " + std::to_string(i) + " of a large message\r\n";
  }
  large.resize(kLargeMessageBytes);
  const std::vector<Case> cases = {
      {"empty", "", 1},
      {"every byte value", AllBytes() + AllBytes() + AllBytes(), 7},
      {"every byte value, one Write", AllBytes(), 4096},
      {"larger than 256 KiB", large, 100'003},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::string> id =
        EnqueueInPieces(*queue_, SampleEnvelope(), c.data, c.piece);
    ASSERT_TRUE(id.ok()) << id.status();
    auto lease = queue_->Lease(*id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ((*lease)->envelope().size, c.data.size());
    absl::StatusOr<std::string> read = ReadData(**lease);
    ASSERT_TRUE(read.ok()) << read.status();
    // Not EXPECT_EQ: a failure would print 800 KB.
    EXPECT_TRUE(*read == c.data)
        << read->size() << " bytes read, " << c.data.size() << " written";
  }
  EXPECT_EQ(ListedIds(*queue_).size(), cases.size());
}

TEST_P(QueueConformanceTest, ListAndDueAreOldestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    QueueEnvelope envelope = SampleEnvelope();
    // Due at 1000 s, never, due now (the default), in turn.
    if (i % 3 == 0) envelope.next_attempt = SampleTime(1000);
    if (i % 3 == 1) envelope.next_attempt = absl::InfiniteFuture();
    ids.push_back(Enqueue(*queue_, envelope, "x").value());
  }
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_EQ(ListedIds(*queue_), ids);
  EXPECT_EQ(queue_->Due(SampleTime(999)).value(),
            (std::vector<std::string>{ids[2], ids[5]}));
  // next_attempt == now is due.
  EXPECT_EQ(queue_->Due(SampleTime(1000)).value(),
            (std::vector<std::string>{ids[0], ids[2], ids[3], ids[5]}));
  EXPECT_EQ(queue_->Due(absl::InfinitePast()).value(),
            (std::vector<std::string>{ids[2], ids[5]}));
  // Another Queue object lists the same, in the same order.
  auto other = OpenAgain();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(ListedIds(*other), ids);
}

TEST_P(QueueConformanceTest, LeaseGivesTheEnvelopeAndTheData) {
  const std::string data = "Subject: lease\r\n\r\nbody\r\n";
  std::string id = Enqueue(*queue_, OddEnvelope(), data).value();
  auto lease = queue_->Lease(id);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)->envelope().id, id);
  ExpectSameEnvelope((*lease)->envelope(), OddEnvelope());
  EXPECT_EQ(ReadData(**lease).value(), data);
  // Each OpenData() reads from the start.
  EXPECT_EQ(ReadData(**lease).value(), data);
}

TEST_P(QueueConformanceTest, ALeaseIsExclusiveUntilItIsDestroyed) {
  auto other = OpenAgain();
  ASSERT_NE(other, nullptr);
  std::string id = Enqueue(*queue_, SampleEnvelope(), "data").value();
  {
    auto held = queue_->Lease(id);
    ASSERT_TRUE(held.ok()) << held.status();
    absl::Status second = other->Lease(id).status();
    EXPECT_TRUE(IsInUse(second)) << second;
    EXPECT_TRUE(absl::IsUnavailable(second)) << second;
    second = queue_->Lease(id).status();  // also within one Queue object
    EXPECT_TRUE(IsInUse(second)) << second;
    // Held is not gone: still listed.
    EXPECT_EQ(ListedIds(*other), std::vector<std::string>{id});
  }
  auto taken = other->Lease(id);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(ReadData(**taken).value(), "data");
  EXPECT_TRUE(IsInUse(queue_->Lease(id).status()));
}

TEST_P(QueueConformanceTest, SaveReplacesTheEnvelope) {
  const std::string data = "Subject: save\r\n\r\nbody\r\n";
  std::string id = Enqueue(*queue_, SampleEnvelope(), data).value();
  QueueEnvelope updated;
  {
    auto lease = queue_->Lease(id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    updated = (*lease)->envelope();
    updated.attempts = 2;
    updated.next_attempt = SampleTime(1'700'000'300);
    updated.delay_warned = true;
    updated.recipients[0].state = RecipientState::kDelivered;
    updated.recipients[0].remote_host = "mx.example.com";
    updated.recipients[0].last_reply = "250 2.0.0 ok";
    updated.recipients[1].state = RecipientState::kFailed;
    updated.recipients[1].last_reply = "550 5.1.1 no such user\r\n";
    updated.recipients[1].dsn_sent = true;
    QueueEnvelope saved = updated;
    saved.id = "other";  // ignored: the lease's message is saved
    saved.size = 1;      // ignored: the data never changes
    ASSERT_TRUE((*lease)->Save(saved).ok());
    EXPECT_EQ((*lease)->envelope().id, id);
    EXPECT_EQ((*lease)->envelope().size, data.size());
    ExpectSameEnvelope((*lease)->envelope(), updated);
    // Saved while still leased: List sees it at once.
    auto listed = queue_->List();
    ASSERT_TRUE(listed.ok()) << listed.status();
    ASSERT_EQ(Ids(*listed), std::vector<std::string>{id});
    ExpectSameEnvelope((*listed)[0], updated);
  }
  EXPECT_EQ(queue_->Due(SampleTime(1'700'000'299)).value(),
            std::vector<std::string>{});
  EXPECT_EQ(queue_->Due(SampleTime(1'700'000'300)).value(),
            std::vector<std::string>{id});
  auto other = OpenAgain();
  ASSERT_NE(other, nullptr);
  auto again = other->Lease(id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->envelope().id, id);
  EXPECT_EQ((*again)->envelope().size, data.size());
  ExpectSameEnvelope((*again)->envelope(), updated);
  EXPECT_EQ(ReadData(**again).value(), data);
}

TEST_P(QueueConformanceTest, RemoveTakesTheMessageAway) {
  std::string kept = Enqueue(*queue_, SampleEnvelope(), "kept").value();
  std::string gone = Enqueue(*queue_, SampleEnvelope(), "gone").value();
  {
    auto lease = queue_->Lease(gone);
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->Remove().ok());
    // The lease is finished.
    EXPECT_EQ((*lease)->Save((*lease)->envelope()).code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ((*lease)->Remove().code(), absl::StatusCode::kFailedPrecondition);
  }
  auto other = OpenAgain();
  ASSERT_NE(other, nullptr);
  for (Queue* queue : {queue_.get(), other.get()}) {
    EXPECT_EQ(queue->Lease(gone).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(ListedIds(*queue), std::vector<std::string>{kept});
    EXPECT_EQ(queue->Due(absl::InfiniteFuture()).value(),
              std::vector<std::string>{kept});
  }
  auto lease = other->Lease(kept);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(ReadData(**lease).value(), "kept");
  EXPECT_EQ(queue_->Lease("../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(queue_->Problems().empty());
}

TEST_P(QueueConformanceTest, AbortAndDestructorLeaveNothing) {
  {
    auto writer = queue_->BeginEnqueue(SampleEnvelope());
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Write("destroyed without Commit()").ok());
  }
  {
    // Large enough to be streamed to the storage before Commit().
    auto writer = queue_->BeginEnqueue(SampleEnvelope());
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Write(std::string(kLargeMessageBytes, 'z')).ok());
  }
  auto writer = queue_->BeginEnqueue(SampleEnvelope());
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Write("aborted").ok());
  (*writer)->Abort();
  EXPECT_EQ((*writer)->Write("x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Commit().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue_->Lease((*writer)->id()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ListedIds(*queue_), std::vector<std::string>{});
  EXPECT_EQ(queue_->Due(absl::InfiniteFuture()).value(),
            std::vector<std::string>{});
  auto other = OpenAgain();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(ListedIds(*other), std::vector<std::string>{});
  EXPECT_TRUE(other->Problems().empty());
}

TEST_P(QueueConformanceTest, RefusesAnEnvelopeTooLargeToStore) {
  QueueEnvelope envelope = SampleEnvelope();
  envelope.recipients[0].address = std::string(2 << 20, 'a');
  EXPECT_EQ(queue_->BeginEnqueue(envelope).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ListedIds(*queue_), std::vector<std::string>{});
}

TEST_P(QueueConformanceTest, AReaderOutlivesItsLease) {
  std::string id = Enqueue(*queue_, SampleEnvelope(), "abc").value();
  std::unique_ptr<MessageReader> reader;
  {
    auto lease = queue_->Lease(id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    auto opened = (*lease)->OpenData();
    ASSERT_TRUE(opened.ok()) << opened.status();
    reader = *std::move(opened);
  }
  auto lease = queue_->Lease(id);  // the reader does not hold the lease
  EXPECT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(ReadAll(*reader).value(), "abc");
}

TEST_P(QueueConformanceTest, EnqueuesFromSeveralThreadsAreListedOnce) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  // Each message's data and sender are "thread <t> message <i>".
  std::vector<std::vector<std::string>> ids =
      EnqueueFromThreads(*queue_, kThreads, kPerThread);
  std::set<std::string> expected;
  for (const auto& list : ids) {
    ASSERT_EQ(list.size(), static_cast<std::size_t>(kPerThread));
    // Ids follow arrival, also within one thread.
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    expected.insert(list.begin(), list.end());
  }
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kThreads * kPerThread));
  auto listed = queue_->List();
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> listed_ids = Ids(*listed);
  EXPECT_TRUE(std::is_sorted(listed_ids.begin(), listed_ids.end()));
  EXPECT_EQ(std::set<std::string>(listed_ids.begin(), listed_ids.end()),
            expected);
  EXPECT_EQ(listed_ids.size(), expected.size());  // each once
  auto other = OpenAgain();
  ASSERT_NE(other, nullptr);
  for (const QueueEnvelope& envelope : *listed) {
    EXPECT_EQ(envelope.size, envelope.sender.size());
    auto lease = other->Lease(envelope.id);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ(ReadData(**lease).value(), envelope.sender);
  }
}

}  // namespace
}  // namespace posthorn::store::testing
