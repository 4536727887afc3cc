// custom_transport — a custom MTA transport behind mta::QueueRunner.
//
// SYNOPSIS
//   custom_transport DIR   (created if missing)
//
// DESCRIPTION
//   JsonLinesAgent implements mta::DeliveryAgent: it "delivers" a message
//   by appending one JSON line per recipient (envelope, a few header
//   fields, size) to DIR/deliveries.jsonl. The program queues one message
//   in DIR/queue (mta::Submission, as `sendmail` does) and runs the queue
//   the way an application would, printing the runner's log lines:
//     - bob@example.net   delivered
//     - defer@example.net "451" on the first attempt: deferred, stays
//                         queued, delivered when retried
//     - fail@example.net  "550": bounced; a DSN to the sender is queued
//                         and delivered (by the same agent) on the next run

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fmt/format.h"
#include "posthorn/message/header.h"
#include "posthorn/mta/delivery.h"
#include "posthorn/mta/queue_runner.h"
#include "posthorn/mta/submit.h"
#include "posthorn/store/queue.h"

namespace mta = posthorn::mta;
namespace store = posthorn::store;

namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

// A JSON string; bytes outside printable ASCII become \u00XX, so the line
// stays valid JSON whatever the message holds.
std::string Json(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

class JsonLinesAgent : public mta::DeliveryAgent {
 public:
  explicit JsonLinesAgent(std::string path) : path_(std::move(path)) {}
  std::string name() const override { return "jsonl"; }

  // Called from the runner's worker threads, one recipient group at a time.
  absl::StatusOr<std::vector<mta::RecipientOutcome>> Deliver(
      const mta::DeliveryRequest& request) override {
    // Read the message once: its size and its header section.
    auto reader = request.open_data();
    if (!reader.ok()) return reader.status();  // all deferred by the runner
    std::string head;
    std::uint64_t size = 0;
    char buffer[16384];
    for (;;) {
      absl::StatusOr<std::size_t> n = (*reader)->Read(buffer);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      size += *n;
      head.append(buffer, std::min(*n, kMaxHeaderBytes - head.size()));
    }
    posthorn::message::Defects defects;
    auto header = posthorn::message::ParseHeaderSection(head, &defects);
    if (!header.ok()) return header.status();
    std::string fields;
    for (std::string_view name : {"From", "To", "Subject", "Message-ID"}) {
      if (const auto* field = header->Find(name)) {
        fields += fmt::format(",{}:{}", Json(name), Json(field->Unfolded()));
      }
    }

    const store::QueueEnvelope& envelope = *request.envelope;
    std::vector<mta::RecipientOutcome> outcomes;
    for (std::size_t index : request.recipients) {
      const std::string& rcpt = envelope.recipients[index].address;
      mta::RecipientOutcome outcome{index, mta::DeliveryStatus::kSent,
                                    "250 2.0.0 Ok: written", path_};
      // Replies carry an enhanced status code; it ends up in the DSN.
      if (rcpt.starts_with("fail")) {
        outcome.status = mta::DeliveryStatus::kBounced;
        outcome.reply = fmt::format("550 5.1.1 <{}>: no such mailbox", rcpt);
      } else if (rcpt.starts_with("defer") && envelope.attempts == 0) {
        outcome.status = mta::DeliveryStatus::kDeferred;
        outcome.reply = "451 4.3.0 busy, try again later";
      } else if (!Append(fmt::format(
                     "{{\"queue_id\":{},\"sender\":{},\"recipient\":{},"
                     "\"size\":{},\"headers\":{{{}}}}}\n",
                     Json(envelope.id), Json(envelope.sender), Json(rcpt),
                     size, fields.substr(fields.empty() ? 0 : 1)))) {
        outcome.status = mta::DeliveryStatus::kDeferred;
        outcome.reply = "451 4.3.0 cannot write " + path_;
      }
      outcomes.push_back(std::move(outcome));
    }
    return outcomes;
  }

 private:
  // A real transport would fsync before answering kSent.
  bool Append(const std::string& line) {
    std::lock_guard lock(mu_);
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out << line;
    out.flush();
    return out.good();
  }

  std::string path_;
  std::mutex mu_;
};

void PrintQueue(store::Queue& queue) {
  auto list = queue.List();
  if (!list.ok() || list->empty()) {
    std::printf("queue: empty\n");
    return;
  }
  for (const store::QueueEnvelope& e : *list) {
    for (const store::QueuedRecipient& r : e.recipients) {
      if (r.state != store::RecipientState::kPending) continue;
      std::printf("queue: %s to=<%s> attempts=%d (%s)\n", e.id.c_str(),
                  r.address.c_str(), e.attempts, r.last_reply.c_str());
    }
  }
}

void PrintSummary(const char* what, const mta::RunSummary& s) {
  std::printf("%s: delivered=%zu deferred=%zu bounced=%zu\n", what,
              s.delivered, s.deferred, s.bounced);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: custom_transport DIR\n");
    return 64;
  }
  const std::string dir = argv[1];
  std::error_code ignored;  // MakeFileQueue reports a folder it cannot use
  std::filesystem::create_directories(dir, ignored);
  store::FileQueueOptions queue_options;
  queue_options.dir = dir + "/queue";
  auto queue = store::MakeFileQueue(queue_options);
  if (!queue.ok()) {
    std::fprintf(stderr, "queue: %s\n", queue.status().ToString().c_str());
    return 73;
  }

  // Queue a message as `sendmail -f app@example.org rcpt...` would.
  mta::SubmitOptions submit;
  submit.hostname = "app.example.org";
  submit.login_name = "app";
  submit.sender = "app@example.org";
  submit.recipients = {"bob@example.net", "defer@example.net",
                       "fail@example.net"};
  mta::Submission submission(submit, queue->get());
  absl::Status fed = submission.Feed(
      "Subject: Report\nFrom: app@example.org\n\nThe nightly report.\n");
  absl::StatusOr<std::string> id =
      fed.ok() ? submission.Finish() : absl::StatusOr<std::string>(fed);
  if (!id.ok()) {
    std::fprintf(stderr, "submit: %s\n", id.status().ToString().c_str());
    return 75;
  }
  std::printf("queued %s\n", id->c_str());

  // No local domains: every address routes as remote, to our agent. The
  // runner needs a local agent too; ours serves both roles.
  mta::Router router(mta::RouterOptions{});
  JsonLinesAgent agent(dir + "/deliveries.jsonl");
  mta::QueueRunnerOptions options;
  options.queue = queue->get();
  options.router = &router;
  options.local = &agent;
  options.remote = &agent;
  options.hostname = "app.example.org";  // DSN Reporting-MTA
  options.log = [](mta::LogLevel, std::string_view line) {
    std::printf("log: %.*s\n", static_cast<int>(line.size()), line.data());
  };
  mta::QueueRunner runner(options);

  PrintSummary("run 1", runner.RunOnce());   // sent, deferred, bounced
  PrintQueue(**queue);                       // the deferred one + the DSN
  PrintSummary("run 2", runner.RunOnce());   // the DSN (the retry is not due)
  // Retry the deferred message now rather than in 5 minutes (-qI).
  PrintSummary("retry", runner.RunMessage(*id));
  PrintQueue(**queue);
  return 0;
}
