// MtaHandler::OpenMessage: DATA streamed into store::Queue (see
// posthorn/mta/smtpd.h).
//
//   OpenMessage   BeginEnqueue (the queue id is known from here on), log
//                 "<id>: client=...", write the Received: field
//   Write         through HeaderFixup (counts Received: fields; adds
//                 Date/Message-ID/From for local submissions) into the
//                 queue; more than hop_limit Received: fields aborts the
//                 message at once: "554 5.4.6 Too many hops"
//   Commit        the held-back header bytes, QueueWriter::Commit()
//                 (durable), log "from=...", on_queued(id), then the 250
//
// Errors of the queue files are logged with their detail; the client only
// learns "451 4.3.0 Error: queue file write error" (or 452 4.3.1 when the
// disk is full), never a path.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mta/common/disk_full.h"
#include "mta/receive/receive_internal.h"
#include "posthorn/message/date.h"
#include "posthorn/mta/header_fixup.h"
#include "posthorn/mta/smtpd.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta {
namespace {

using receive_detail::ClientName;
using receive_detail::LogText;

// What the client is told when the queue files fail; the log has the
// detail.
absl::Status ClientError(const absl::Status& status) {
  if (IsDiskFull(status)) {
    return absl::ResourceExhaustedError("Insufficient system storage");
  }
  return absl::UnavailableError("queue file write error");
}

store::QueueEnvelope MakeEnvelope(const net::Peer& peer,
                                  const smtp::Envelope& envelope,
                                  absl::Time now) {
  store::QueueEnvelope queued;
  queued.sender = envelope.mail_from;
  queued.envid = envelope.envid;
  queued.ret_headers_only = envelope.mail.ret == smtp::DsnRet::kHeaders;
  queued.received_from = receive_detail::ReceivedFrom(peer, envelope.helo_name);
  queued.arrival = now;
  queued.recipients.reserve(envelope.recipients.size());
  for (const smtp::Envelope::Recipient& rcpt : envelope.recipients) {
    store::QueuedRecipient r;
    r.address = rcpt.address;
    r.orcpt = rcpt.orcpt;
    // RFC 3461 4.1: without NOTIFY the defaults (failure, delay) apply.
    if (rcpt.notify.present) {
      r.notify_success = !rcpt.notify.never && rcpt.notify.success;
      r.notify_failure = !rcpt.notify.never && rcpt.notify.failure;
      r.notify_delay = !rcpt.notify.never && rcpt.notify.delay;
    }
    queued.recipients.push_back(std::move(r));
  }
  return queued;
}

class QueueSink : public net::MessageSink {
 public:
  QueueSink(const MtaHandler::Impl& impl, std::string client,
            std::unique_ptr<store::QueueWriter> writer,
            HeaderFixupOptions fixup, std::string sender,
            std::size_t recipients)
      : impl_(impl),
        client_(std::move(client)),
        writer_(std::move(writer)),
        id_(writer_->id()),
        fixup_(std::move(fixup)),
        sender_(std::move(sender)),
        recipients_(recipients) {}

  ~QueueSink() override { Abort(); }

  absl::Status WriteRaw(std::string_view bytes) {
    if (bytes.empty()) return absl::OkStatus();
    absl::Status status = writer_->Write(bytes);
    if (!status.ok()) {
      impl_.Log(LogLevel::kError,
                fmt::format("{}: queue write failed: {}", id_,
                            LogText(status.ToString())));
      return Fail(ClientError(status));
    }
    size_ += bytes.size();
    return absl::OkStatus();
  }

  absl::Status Write(std::string_view chunk) override {
    if (!error_.ok()) return error_;
    if (writer_ == nullptr) return absl::FailedPreconditionError("closed");
    const std::string out = fixup_.Feed(chunk);
    // Checked before writing: a looping message is stopped as soon as
    // its header shows it, and nothing of it reaches the queue.
    if (absl::Status hops = CheckHops(); !hops.ok()) return hops;
    return WriteRaw(out);
  }

  absl::StatusOr<std::string> Commit(
      const smtp::Envelope& /*envelope*/) override {
    if (!error_.ok()) return error_;
    if (writer_ == nullptr) return absl::FailedPreconditionError("closed");
    const std::string tail = fixup_.Finish();
    if (absl::Status hops = CheckHops(); !hops.ok()) return hops;
    if (absl::Status status = WriteRaw(tail); !status.ok()) return status;
    absl::StatusOr<std::string> id = writer_->Commit();
    writer_.reset();
    if (!id.ok()) {
      impl_.Log(LogLevel::kError,
                fmt::format("{}: queue commit failed: {}", id_,
                            LogText(id.status().ToString())));
      return Fail(ClientError(id.status()));
    }
    impl_.Log(LogLevel::kInfo,
              fmt::format("{}: from=<{}>, size={}, nrcpt={} (queue active)",
                          *id, LogText(sender_), size_, recipients_));
    if (impl_.options.on_queued) impl_.options.on_queued(*id);
    return fmt::format("Ok: queued as {}", *id);
  }

  void Abort() override {
    if (writer_ != nullptr) {
      writer_->Abort();
      writer_.reset();
    }
  }

 private:
  absl::Status Fail(absl::Status status) {
    error_ = std::move(status);
    Abort();
    return error_;
  }

  absl::Status CheckHops() {
    const std::size_t hops = fixup_.received_count();
    if (hops <= impl_.options.hop_limit) return absl::OkStatus();
    // The enhanced code at the front chooses the reply (net/smtp_server.h).
    const std::string text = fmt::format(
        "5.4.6 Too many hops ({} Received: fields, limit {})", hops,
        impl_.options.hop_limit);
    impl_.Log(LogLevel::kNotice,
              fmt::format("{}: reject: DATA from {}: 554 {}; from=<{}>", id_,
                          client_, text, LogText(sender_)));
    return Fail(absl::PermissionDeniedError(text));
  }

  const MtaHandler::Impl& impl_;
  const std::string client_;
  std::unique_ptr<store::QueueWriter> writer_;  // null once done
  const std::string id_;
  HeaderFixup fixup_;
  const std::string sender_;
  const std::size_t recipients_;
  std::uint64_t size_ = 0;
  absl::Status error_;  // sticky: every later call returns it
};

}  // namespace

std::unique_ptr<net::MessageSink> MtaHandler::OpenMessage(
    const net::Peer& peer, const smtp::ServerSession& session) {
  const Impl& impl = *impl_;
  const smtp::Envelope& envelope = session.envelope();
  const absl::Time now = absl::Now();
  const std::string client = ClientName(peer);

  absl::StatusOr<std::unique_ptr<store::QueueWriter>> writer =
      impl.options.queue->BeginEnqueue(MakeEnvelope(peer, envelope, now));
  if (!writer.ok()) {
    impl.Log(LogLevel::kError,
             fmt::format("NOQUEUE: {}: cannot create a queue file: {}", client,
                         LogText(writer.status().ToString())));
    return nullptr;  // 451 4.3.0
  }
  const std::string id = (*writer)->id();
  std::string line = fmt::format("{}: client={}", id, client);
  if (session.authenticated()) {
    line += fmt::format(", sasl_username={}",
                        LogText(session.authenticated_user()));
  }
  impl.Log(LogLevel::kInfo, line);

  // RFC 5321 4.4: the trace field goes first, before the client's header.
  const std::string address = receive_detail::AddressLiteral(peer.address);
  const std::string date = message::FormatDate(now, absl::LocalTimeZone());
  // ReceivedInfo holds views: every string it points to lives here.
  const std::string client_hostname =
      receive_detail::ClientHostName(peer.address);
  smtp::ReceivedInfo info;
  info.helo_name = envelope.helo_name;
  info.client_address = address;
  info.client_hostname = client_hostname;
  info.by_hostname = impl.options.hostname;
  info.protocol = session.protocol_name();
  info.id = id;
  if (envelope.recipients.size() == 1) {
    info.for_recipient = envelope.recipients.front().address;
  }
  info.date = date;
  const std::string received = smtp::FormatReceived(info);

  HeaderFixupOptions fixup;
  fixup.hostname = impl.options.hostname;
  fixup.queue_id = id;
  fixup.sender = envelope.mail_from;
  fixup.now = now;
  fixup.add_missing = impl.options.local_submission;

  auto sink = std::make_unique<QueueSink>(impl, client, std::move(*writer),
                                          std::move(fixup), envelope.mail_from,
                                          envelope.recipients.size());
  if (!sink->WriteRaw(received).ok()) return nullptr;  // logged
  return sink;
}

}  // namespace posthorn::mta
