// mta::QueueRunner: deferral, bounces and DSNs, expiry, delay warnings,
// leases between runners, the parallel limit, Kick, Stop — over a real
// file queue in a temporary folder and fake delivery agents.
#include "posthorn/mta/queue_runner.h"

#include <condition_variable>
#include <thread>

#include <gtest/gtest.h>

#include "posthorn/mta/host_status.h"
#include "posthorn/mta/local_delivery.h"
#include "posthorn/store/memory_store.h"
#include "mta/deliver/deliver_test_util.h"

namespace posthorn::mta {
namespace {

using testing::Always;
using testing::Enqueue;
using testing::FakeAgent;
using testing::LogRecorder;
using testing::TempDir;
using testing::WaitFor;

// Forwards to a real queue, but refuses new messages while `refuse` is set
// (a full disk when a DSN is queued).
class RefusingQueue : public store::Queue {
 public:
  explicit RefusingQueue(store::Queue* inner) : inner_(inner) {}
  absl::StatusOr<std::unique_ptr<store::QueueWriter>> BeginEnqueue(
      store::QueueEnvelope envelope) override {
    if (refuse) return absl::UnavailableError("no space left for the DSN");
    return inner_->BeginEnqueue(std::move(envelope));
  }
  absl::StatusOr<std::vector<store::QueueEnvelope>> List() override {
    return inner_->List();
  }
  absl::StatusOr<std::vector<std::string>> Due(absl::Time now) override {
    return inner_->Due(now);
  }
  absl::StatusOr<std::unique_ptr<store::QueueLease>> Lease(
      std::string_view id) override {
    return inner_->Lease(id);
  }
  std::vector<std::string> Problems() override { return inner_->Problems(); }

  bool refuse = true;

 private:
  store::Queue* inner_;
};

class QueueRunnerTest : public ::testing::Test {
 protected:
  QueueRunnerTest()
      : router_(RouterOptions{{"example.org"}, {}, std::nullopt}),
        local_("local", Always(DeliveryStatus::kSent,
                               "250 2.0.0 delivered to maildrop", "local")),
        remote_("esmtp", Always(DeliveryStatus::kSent, "250 2.0.0 Ok",
                                "mx.example.net[192.0.2.1]:25")) {
    auto queue = store::MakeFileQueue({.dir = dir_ / "queue", .fsync = false});
    EXPECT_TRUE(queue.ok()) << queue.status();
    queue_ = *std::move(queue);
  }

  QueueRunnerOptions Options() {
    QueueRunnerOptions o;
    o.queue = queue_.get();
    o.router = &router_;
    o.local = &local_;
    o.remote = &remote_;
    o.hostname = "mx.example.org";
    o.max_parallel = 4;
    o.log = log_.Function();
    return o;
  }

  std::vector<store::QueueEnvelope> List() {
    auto list = queue_->List();
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? *list : std::vector<store::QueueEnvelope>{};
  }

  std::string Data(const std::string& id) {
    auto lease = queue_->Lease(id);
    EXPECT_TRUE(lease.ok()) << lease.status();
    if (!lease.ok()) return "";
    auto reader = (*lease)->OpenData();
    EXPECT_TRUE(reader.ok());
    if (!reader.ok()) return "";
    auto text = store::ReadAll(**reader);
    return text.ok() ? *text : "";
  }

  const store::QueueEnvelope* Find(const std::vector<store::QueueEnvelope>& l,
                                   const std::string& id) {
    for (const auto& e : l) {
      if (e.id == id) return &e;
    }
    return nullptr;
  }

  TempDir dir_;
  Router router_;
  FakeAgent local_;
  FakeAgent remote_;
  std::unique_ptr<store::Queue> queue_;
  LogRecorder log_;
};

TEST_F(QueueRunnerTest, SentIsRemovedAndLogged) {
  std::string id = Enqueue(*queue_, "alice@example.org",
                           {{"bob@example.net"}, {"carol@example.org"}});
  QueueRunner runner(Options());
  RunSummary s = runner.RunOnce();
  EXPECT_EQ(s.messages, 1u);
  EXPECT_EQ(s.delivered, 2u);
  EXPECT_EQ(remote_.Calls(id), 1);
  EXPECT_EQ(local_.Calls(id), 1);
  EXPECT_TRUE(List().empty());
  EXPECT_TRUE(log_.Contains(
      id + ": to=<bob@example.net>, relay=mx.example.net[192.0.2.1]:25, "
           "delay="))
      << log_.All();
  EXPECT_TRUE(log_.Contains(", status=sent (250 2.0.0 Ok)")) << log_.All();
  EXPECT_TRUE(log_.Contains(
      id + ": to=<carol@example.org>, relay=local, delay=0."))
      << log_.All();
  EXPECT_TRUE(log_.Contains(id + ": removed")) << log_.All();
}

TEST_F(QueueRunnerTest, DeferralKeepsTheMessageWithBackoff) {
  remote_.SetAnswer(Always(DeliveryStatus::kDeferred,
                             "451 4.4.1 connect to [192.0.2.1]:25: refused",
                             "mx.example.net[192.0.2.1]:25"));
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  QueueRunnerOptions o = Options();
  o.retry.first_retry = absl::Minutes(5);
  QueueRunner runner(o);
  absl::Time before = absl::Now();
  RunSummary s = runner.RunOnce();
  EXPECT_EQ(s.deferred, 1u);
  auto list = List();
  ASSERT_EQ(list.size(), 1u);
  const store::QueueEnvelope& e = list[0];
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.attempts, 1);
  EXPECT_GE(e.next_attempt, before + absl::Minutes(5));
  ASSERT_EQ(e.recipients.size(), 1u);
  EXPECT_EQ(e.recipients[0].state, store::RecipientState::kPending);
  EXPECT_EQ(e.recipients[0].last_reply,
            "451 4.4.1 connect to [192.0.2.1]:25: refused");
  EXPECT_EQ(e.recipients[0].remote_host, "mx.example.net[192.0.2.1]:25");
  EXPECT_TRUE(log_.Contains("status=deferred (451 4.4.1 connect to"))
      << log_.All();
  // Not due any more: a second run leaves it alone.
  RunSummary again = runner.RunOnce();
  EXPECT_EQ(again.messages, 0u);
  EXPECT_EQ(remote_.Calls(id), 1);
}

TEST_F(QueueRunnerTest, RemoteWithoutAgentDefers) {
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  QueueRunnerOptions o = Options();
  o.remote = nullptr;
  QueueRunner runner(o);
  runner.RunMessage(id);
  auto list = List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].recipients[0].last_reply,
            "451 4.4.0 no remote delivery configured");
}

TEST_F(QueueRunnerTest, BounceQueuesDsnToTheSenderAndRemovesTheOriginal) {
  remote_.SetAnswer(Always(DeliveryStatus::kBounced,
                                      "550 5.1.1 <bob@example.net>: no such "
                                      "user", "mx.example.net[192.0.2.1]:25"));
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  QueueRunner runner(Options());
  RunSummary s = runner.RunOnce();
  EXPECT_EQ(s.bounced, 1u);
  auto list = List();
  ASSERT_EQ(list.size(), 1u) << log_.All();
  const store::QueueEnvelope& dsn = list[0];
  EXPECT_NE(dsn.id, id);
  EXPECT_EQ(dsn.sender, "");
  ASSERT_EQ(dsn.recipients.size(), 1u);
  EXPECT_EQ(dsn.recipients[0].address, "alice@example.org");
  EXPECT_GT(dsn.size, 0u);
  EXPECT_TRUE(log_.Contains(id + ": sender non-delivery notification: " +
                            dsn.id))
      << log_.All();
  EXPECT_TRUE(log_.Contains(id + ": removed"));
  EXPECT_TRUE(log_.Contains("status=bounced (550 5.1.1"));
  std::string text = Data(dsn.id);
  EXPECT_NE(text.find("Final-Recipient: rfc822; bob@example.net"),
            std::string::npos) << text;
  EXPECT_NE(text.find("Action: failed"), std::string::npos) << text;
  EXPECT_NE(text.find("Status: 5.1.1"), std::string::npos) << text;
  EXPECT_NE(text.find("Reporting-MTA: dns; mx.example.org"),
            std::string::npos) << text;
}

TEST_F(QueueRunnerTest, DsnThatCannotBeQueuedKeepsTheMessage) {
  remote_.SetAnswer(Always(DeliveryStatus::kBounced, "550 5.1.1 unknown"));
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  RefusingQueue refusing(queue_.get());
  QueueRunnerOptions o = Options();
  o.queue = &refusing;
  QueueRunner runner(o);
  runner.RunOnce();
  auto list = List();
  ASSERT_EQ(list.size(), 1u) << log_.All();
  EXPECT_EQ(list[0].id, id);
  EXPECT_EQ(list[0].attempts, 1);
  EXPECT_EQ(list[0].recipients[0].state, store::RecipientState::kFailed);
  EXPECT_FALSE(list[0].recipients[0].dsn_sent);
  EXPECT_TRUE(log_.Contains(id + ": cannot queue the sender non-delivery "
                                 "notification: no space left for the DSN"))
      << log_.All();
  // Next time only the notice is retried: no new delivery attempt.
  refusing.refuse = false;
  runner.RunMessage(id);
  EXPECT_EQ(remote_.Calls(id), 1);
  list = List();
  ASSERT_EQ(list.size(), 1u) << log_.All();
  EXPECT_EQ(list[0].sender, "");
  EXPECT_TRUE(log_.Contains(id + ": removed"));
}

TEST_F(QueueRunnerTest, NullSenderBounceIsDropped) {
  remote_.SetAnswer(Always(DeliveryStatus::kBounced,
                                      "550 5.1.1 no such user"));
  Enqueue(*queue_, "", {{"bob@example.net"}});
  QueueRunner runner(Options());
  runner.RunOnce();
  EXPECT_TRUE(List().empty()) << log_.All();
}

TEST_F(QueueRunnerTest, NotifyNeverSendsNoDsn) {
  remote_.SetAnswer(Always(DeliveryStatus::kBounced,
                                      "550 5.1.1 no such user"));
  Enqueue(*queue_, "alice@example.org",
          {{.address = "bob@example.net", .notify_failure = false}});
  QueueRunner runner(Options());
  runner.RunOnce();
  EXPECT_TRUE(List().empty()) << log_.All();
}

TEST_F(QueueRunnerTest, SuccessNoticeForNotifySuccess) {
  std::string id = Enqueue(
      *queue_, "alice@example.org",
      {{.address = "bob@example.net", .notify_success = true}});
  QueueRunner runner(Options());
  runner.RunOnce();
  auto list = List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].sender, "");
  EXPECT_EQ(list[0].recipients[0].address, "alice@example.org");
  EXPECT_TRUE(log_.Contains(id + ": sender delivery notification: "));
}

TEST_F(QueueRunnerTest, PartialBounceNotifiesNowAndKeepsThePendingPart) {
  remote_.SetAnswer([](const std::string& address) {
    RecipientOutcome o;
    if (address == "x@example.net") {
      o.status = DeliveryStatus::kBounced;
      o.reply = "550 5.1.1 unknown";
    } else {
      o.status = DeliveryStatus::kDeferred;
      o.reply = "451 4.3.0 later";
    }
    return o;
  });
  std::string id = Enqueue(*queue_, "alice@example.org",
                           {{"x@example.net"}, {"y@example.net"}});
  QueueRunner runner(Options());
  runner.RunOnce();
  auto list = List();
  ASSERT_EQ(list.size(), 2u) << log_.All();
  const store::QueueEnvelope* original = Find(list, id);
  ASSERT_NE(original, nullptr);
  EXPECT_EQ(original->recipients[0].state, store::RecipientState::kFailed);
  EXPECT_TRUE(original->recipients[0].dsn_sent);
  EXPECT_EQ(original->recipients[1].state, store::RecipientState::kPending);
  // Once y succeeds, x is not reported a second time.
  remote_.SetAnswer(Always(DeliveryStatus::kSent, "250 2.0.0 Ok"));
  runner.RunMessage(id);
  list = List();
  EXPECT_EQ(list.size(), 1u) << log_.All();
  EXPECT_EQ(Find(list, id), nullptr);
}

TEST_F(QueueRunnerTest, ExpiredMessageBouncesWithTheLastReason) {
  remote_.SetAnswer(Always(DeliveryStatus::kDeferred,
                             "451 4.4.1 connect to [192.0.2.1]:25: refused",
                             "[192.0.2.1]:25"));
  QueueRunnerOptions o = Options();
  o.retry.lifetime = absl::Hours(24 * 5);
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}},
                           absl::Now() - absl::Hours(24 * 6));
  QueueRunner runner(o);
  RunSummary s = runner.RunOnce();
  EXPECT_EQ(s.bounced, 1u);
  EXPECT_EQ(s.deferred, 0u);
  auto list = List();
  ASSERT_EQ(list.size(), 1u) << log_.All();
  EXPECT_EQ(list[0].sender, "");
  EXPECT_EQ(list[0].recipients[0].address, "alice@example.org");
  EXPECT_TRUE(log_.Contains(
      "status=bounced (550 5.4.7 Delivery time expired (last error: 451 "
      "4.4.1 connect to"))
      << log_.All();
  EXPECT_TRUE(log_.Contains(id + ": removed"));
  std::string text = Data(list[0].id);
  EXPECT_NE(text.find("Status: 5.4.7"), std::string::npos) << text;
  EXPECT_NE(text.find("451 4.4.1 connect to"), std::string::npos) << text;
}

TEST_F(QueueRunnerTest, DelayWarningIsSentOnce) {
  remote_.SetAnswer(Always(DeliveryStatus::kDeferred, "451 4.3.0 later"));
  QueueRunnerOptions o = Options();
  o.retry.delay_warning = absl::Hours(4);
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}},
                           absl::Now() - absl::Hours(5));
  QueueRunner runner(o);
  runner.RunMessage(id);
  auto list = List();
  ASSERT_EQ(list.size(), 2u) << log_.All();
  const store::QueueEnvelope* original = Find(list, id);
  ASSERT_NE(original, nullptr);
  EXPECT_TRUE(original->delay_warned);
  EXPECT_EQ(original->recipients[0].state, store::RecipientState::kPending);
  EXPECT_TRUE(log_.Contains(id + ": sender delay notification: "));
  for (const auto& e : list) {
    if (e.id == id) continue;
    std::string text = Data(e.id);
    EXPECT_NE(text.find("Action: delayed"), std::string::npos) << text;
  }
  runner.RunMessage(id);
  EXPECT_EQ(remote_.Calls(id), 2);
  EXPECT_EQ(List().size(), 2u) << log_.All();
}

TEST_F(QueueRunnerTest, BusyMessageIsSkipped) {
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  auto lease = queue_->Lease(id);
  ASSERT_TRUE(lease.ok());
  QueueRunner runner(Options());
  RunSummary s = runner.RunMessage(id);
  EXPECT_EQ(s.busy, 1u);
  EXPECT_EQ(s.messages, 0u);
  EXPECT_EQ(remote_.Calls(id), 0);
  lease->reset();
  s = runner.RunMessage(id);
  EXPECT_EQ(s.delivered, 1u);
}

TEST_F(QueueRunnerTest, TwoRunnersNeverDeliverOneMessageTwice) {
  constexpr int kMessages = 24;
  std::vector<std::string> ids;
  for (int i = 0; i < kMessages; ++i) {
    ids.push_back(Enqueue(*queue_, "alice@example.org",
                          {{"bob@example.net"}, {"carol@example.org"}}));
  }
  remote_.delay = std::chrono::milliseconds(5);
  // A second queue object on the same folder: as another process would.
  auto other_queue =
      store::MakeFileQueue({.dir = dir_ / "queue", .fsync = false});
  ASSERT_TRUE(other_queue.ok());
  QueueRunnerOptions o1 = Options();
  QueueRunnerOptions o2 = Options();
  o2.queue = other_queue->get();
  QueueRunner first(o1);
  QueueRunner second(o2);
  RunSummary a, b;
  std::thread t1([&] { a = first.RunOnce(); });
  std::thread t2([&] { b = second.RunOnce(); });
  t1.join();
  t2.join();
  EXPECT_EQ(a.messages + b.messages, static_cast<std::size_t>(kMessages));
  for (const std::string& id : ids) {
    EXPECT_EQ(remote_.Calls(id), 1) << id;
    EXPECT_EQ(local_.Calls(id), 1) << id;
  }
  EXPECT_TRUE(List().empty());
}

TEST_F(QueueRunnerTest, ParallelLimitIsRespected) {
  for (int i = 0; i < 12; ++i) {
    Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  }
  remote_.delay = std::chrono::milliseconds(20);
  QueueRunnerOptions o = Options();
  o.max_parallel = 3;
  QueueRunner runner(o);
  RunSummary s = runner.RunOnce();
  EXPECT_EQ(s.delivered, 12u);
  EXPECT_LE(remote_.MaxInProgress(), 3);
  EXPECT_GE(remote_.MaxInProgress(), 2);  // really in parallel
}

TEST_F(QueueRunnerTest, KickDeliversAtOnceAfterStart) {
  QueueRunnerOptions o = Options();
  o.interval = std::chrono::seconds(3600);  // only the kick can do it
  QueueRunner runner(o);
  runner.Start();
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  auto start = std::chrono::steady_clock::now();
  runner.Kick(id);
  EXPECT_TRUE(WaitFor([&] { return List().empty(); })) << log_.All();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(remote_.Calls(id), 1);
  runner.Stop();
}

TEST_F(QueueRunnerTest, StartScansTheQueue) {
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  QueueRunnerOptions o = Options();
  o.interval = std::chrono::seconds(3600);
  QueueRunner runner(o);
  runner.Start();
  EXPECT_TRUE(WaitFor([&] { return List().empty(); })) << log_.All();
  runner.Stop();
  EXPECT_EQ(remote_.Calls(id), 1);
}

TEST_F(QueueRunnerTest, StopWaitsForDeliveriesInProgress) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  remote_.on_call = [&] {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
  };
  QueueRunnerOptions o = Options();
  o.interval = std::chrono::seconds(3600);
  QueueRunner runner(o);
  runner.Start();
  std::string id = Enqueue(*queue_, "alice@example.org", {{"bob@example.net"}});
  runner.Kick(id);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return entered; }));
  }
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    runner.Stop();
    stopped = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(stopped.load());
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  stopper.join();
  EXPECT_TRUE(stopped.load());
  // The delivery in progress was finished, not abandoned.
  EXPECT_TRUE(List().empty()) << log_.All();
}

TEST_F(QueueRunnerTest, RunForDomainIgnoresTheSchedule) {
  remote_.SetAnswer(Always(DeliveryStatus::kDeferred, "451 4.3.0 later"));
  std::string net = Enqueue(*queue_, "alice@example.org", {{"b@example.net"}});
  std::string other = Enqueue(*queue_, "alice@example.org", {{"c@other.net"}});
  QueueRunner runner(Options());
  runner.RunOnce();  // both deferred, not due for minutes
  runner.RunForDomain("EXAMPLE.net");
  EXPECT_EQ(remote_.Calls(net), 2);
  EXPECT_EQ(remote_.Calls(other), 1);
}

TEST_F(QueueRunnerTest, RunForDomainAfterStartIsAsynchronous) {
  remote_.SetAnswer(Always(DeliveryStatus::kDeferred, "451 4.3.0 later"));
  std::string net = Enqueue(*queue_, "alice@example.org", {{"b@example.net"}});
  QueueRunnerOptions o = Options();
  o.interval = std::chrono::seconds(3600);
  QueueRunner runner(o);
  runner.RunOnce();
  runner.Start();
  runner.RunForDomain("example.net");
  EXPECT_TRUE(WaitFor([&] { return remote_.Calls(net) == 2; }));
  runner.Stop();
}

TEST_F(QueueRunnerTest, LocalAgentEndToEndWithStats) {
  auto store = store::MakeMemoryStore();
  LocalAgentOptions lo;
  lo.mailstore = store.get();
  lo.router = &router_;
  auto local = MakeLocalAgent(lo);
  MailStats stats(dir_ / "mailstats");
  QueueRunnerOptions o = Options();
  o.local = local.get();
  o.stats = &stats;
  std::string id =
      Enqueue(*queue_, "bob@example.net", {{"Carol@Example.ORG"}});
  QueueRunner runner(o);
  RunSummary s = runner.RunOnce();
  EXPECT_EQ(s.delivered, 1u) << log_.All();
  auto session = store->OpenSession("carol");
  ASSERT_TRUE(session.ok());
  EXPECT_EQ((*session)->messages().size(), 1u);
  EXPECT_TRUE(log_.Contains(
      id + ": to=<Carol@Example.ORG>, relay=local, delay="))
      << log_.All();
  EXPECT_TRUE(log_.Contains("status=sent (250 2.0.0 delivered to maildrop)"));
  absl::Time since;
  auto counters = stats.Read(&since);
  ASSERT_TRUE(counters.ok()) << counters.status();
  bool found = false;
  for (const MailerCounters& c : *counters) {
    if (c.mailer != "local") continue;
    found = true;
    EXPECT_EQ(c.msgs_to, 1u);
    EXPECT_EQ(c.bytes_to, testing::kMessage.size());
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace posthorn::mta
