// Helpers of the mta/deliver tests: a temporary folder, enqueueing a
// message, a recording log and a scriptable fake delivery agent.

#ifndef POSTHORN_TESTS_MTA_DELIVER_DELIVER_TEST_UTIL_H_
#define POSTHORN_TESTS_MTA_DELIVER_DELIVER_TEST_UTIL_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "posthorn/mta/delivery.h"
#include "posthorn/mta/log.h"
#include "posthorn/store/queue.h"
#include "store/common/temp_dir.h"  // tests/store/common

namespace posthorn::mta::testing {

// The store tests' temporary folder (tests/store/common/temp_dir.h), with
// `dir / "name"` for a path inside it.
class TempDir : public store::testing::TempDir {
 public:
  std::string operator/(std::string_view name) const { return File(name); }
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline const std::string kMessage =
    "From: alice@example.org\r\n"
    "To: bob@example.net\r\n"
    "Subject: test\r\n"
    "\r\n"
    "Hello.\r\n"
    "From here on, a line that mbox must quote.\r\n";

struct RecipientSpec {
  std::string address;
  bool notify_success = false;
  bool notify_failure = true;
  bool notify_delay = true;
};

inline std::string Enqueue(store::Queue& queue, const std::string& sender,
                           const std::vector<RecipientSpec>& recipients,
                           absl::Time arrival = absl::Now(),
                           const std::string& data = kMessage) {
  store::QueueEnvelope envelope;
  envelope.sender = sender;
  envelope.arrival = arrival;
  for (const RecipientSpec& spec : recipients) {
    store::QueuedRecipient r;
    r.address = spec.address;
    r.notify_success = spec.notify_success;
    r.notify_failure = spec.notify_failure;
    r.notify_delay = spec.notify_delay;
    envelope.recipients.push_back(r);
  }
  auto writer = queue.BeginEnqueue(envelope);
  EXPECT_TRUE(writer.ok()) << writer.status();
  if (!writer.ok()) return "";
  EXPECT_TRUE((*writer)->Write(data).ok());
  auto id = (*writer)->Commit();
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : "";
}

// Collects log lines (thread-safe).
class LogRecorder {
 public:
  LogFunction Function() {
    return [this](LogLevel, std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> Lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  bool Contains(const std::string& part) const {
    std::lock_guard lock(mu_);
    return std::any_of(lines_.begin(), lines_.end(), [&](const std::string& l) {
      return l.find(part) != std::string::npos;
    });
  }
  std::string All() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const std::string& l : lines_) out += l + "\n";
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// A delivery agent whose answer is a function of the recipient address;
// counts calls per queue id and the most calls in progress at once.
class FakeAgent : public DeliveryAgent {
 public:
  using Answer =
      std::function<RecipientOutcome(const std::string& address)>;
  FakeAgent(std::string name, Answer answer)
      : name_(std::move(name)), answer_(std::move(answer)) {}

  std::string name() const override { return name_; }

  absl::StatusOr<std::vector<RecipientOutcome>> Deliver(
      const DeliveryRequest& request) override {
    int now = ++in_progress_;
    int seen = max_in_progress_.load();
    while (now > seen && !max_in_progress_.compare_exchange_weak(seen, now)) {
    }
    {
      std::lock_guard lock(mu_);
      ++calls_[request.envelope->id];
      ++total_calls_;
    }
    if (on_call) on_call();
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    Answer answer;
    {
      std::lock_guard lock(mu_);
      answer = answer_;
    }
    std::vector<RecipientOutcome> out;
    for (std::size_t index : request.recipients) {
      RecipientOutcome o = answer(request.envelope->recipients[index].address);
      o.index = index;
      out.push_back(o);
    }
    --in_progress_;
    return out;
  }

  void SetAnswer(Answer answer) {
    std::lock_guard lock(mu_);
    answer_ = std::move(answer);
  }

  int Calls(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(id);
    return it == calls_.end() ? 0 : it->second;
  }
  int TotalCalls() const {
    std::lock_guard lock(mu_);
    return total_calls_;
  }
  std::map<std::string, int> AllCalls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int MaxInProgress() const { return max_in_progress_.load(); }

  std::chrono::milliseconds delay{0};
  std::function<void()> on_call;  // runs inside Deliver (may block)

 private:
  std::string name_;
  Answer answer_;
  mutable std::mutex mu_;
  std::map<std::string, int> calls_;
  int total_calls_ = 0;
  std::atomic<int> in_progress_{0};
  std::atomic<int> max_in_progress_{0};
};

inline FakeAgent::Answer Always(DeliveryStatus status, std::string reply,
                                std::string relay = "") {
  return [=](const std::string&) {
    RecipientOutcome o;
    o.status = status;
    o.reply = reply;
    o.relay = relay;
    return o;
  };
}

// Waits (bounded) until `done` holds.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace posthorn::mta::testing

#endif  // POSTHORN_TESTS_MTA_DELIVER_DELIVER_TEST_UTIL_H_
