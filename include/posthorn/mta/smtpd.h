// posthorn/mta/smtpd.h — the MTA's policy on net::SmtpServer (sendmail -bd,
// -bs).
//
// PURPOSE
//   MtaHandler implements net::SmtpHandler the way a real MTA answers:
//   - RCPT to a local domain: the local part must be a known user or alias
//     (RecipientCheck), else "550 5.1.1 <addr>: Recipient address
//     rejected: User unknown in local recipient table" — refused at RCPT,
//     never bounced later.
//   - RCPT to any other domain: only for trusted networks (default
//     loopback) or an authenticated client, else "554 5.7.1 <addr>:
//     Relay access denied" (the issue: "554 5.7.1 Relaying denied").
//   - AUTH PLAIN/LOGIN checked against store::AuthDb (CheckPassword).
//   - VRFY 252, EXPN off unless enabled (then it lists the alias
//     expansion for trusted clients), ETRN calls on_etrn (a queue run for
//     that domain) and answers "250 2.0.0 Queuing for node <domain>
//     started".
//   - DATA: the message is streamed into store::Queue. Before the first
//     byte a Received: field (RFC 5321 4.4) naming the client, HELO, the
//     protocol (SMTP/ESMTP/ESMTPS/ESMTPA/ESMTPSA), the queue id and, for
//     one recipient, "for <addr>" is written. The header section is
//     scanned as it streams: more than hop_limit Received: fields gives
//     "554 5.4.6 Too many hops" (the message is dropped). For local
//     submissions (local_submission, as sendmail -bs) missing Date:,
//     Message-ID: and From: are added (HeaderFixup).
//   - 250 after DATA only once QueueWriter::Commit() returned (durable),
//     with "250 2.0.0 Ok: queued as <id>"; then on_queued(id) so the
//     runner can deliver at once.
//
// THREADS
//   Handler methods run on the server's loop threads (net's rules);
//   Commit() blocks its thread for the fsync, so the daemon runs several
//   io_threads and concurrent commits share one folder fsync (group
//   commit, see store/queue.h). Everything here is thread-safe.

#ifndef POSTHORN_MTA_SMTPD_H_
#define POSTHORN_MTA_SMTPD_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "posthorn/mta/log.h"
#include "posthorn/mta/routing.h"
#include "posthorn/net/smtp_server.h"
#include "posthorn/store/auth_db.h"
#include "posthorn/store/queue.h"

namespace posthorn::mta {

// Does local user `local_part` (lowercased, no domain) exist? true: a
// maildrop user or an alias. An error: 451 4.3.0 (try later).
using RecipientCheck =
    std::function<absl::StatusOr<bool>(std::string_view local_part)>;

struct MtaHandlerOptions {
  std::string hostname;             // "by" in Received:, Message-ID domain
  const Router* router = nullptr;   // required
  NetworkList trusted_networks;     // may relay without AUTH
  store::Queue* queue = nullptr;    // required
  store::AuthDb* auth_db = nullptr; // AUTH refused when null
  RecipientCheck recipient_exists;  // null: every local user exists
  std::size_t hop_limit = 100;      // Received: fields; more -> 554 5.4.6
  bool local_submission = false;    // -bs: add Date/Message-ID/From
  // After a message is durable (the runner's "new mail" trigger).
  std::function<void(const std::string& queue_id)> on_queued;
  // ETRN <domain>: start a queue run for that domain. Null: 458.
  std::function<void(const std::string& domain)> on_etrn;
  // EXPN (only called when the server enables it): the expansion lines.
  std::function<absl::StatusOr<std::vector<std::string>>(std::string_view)>
      expand;
  LogFunction log;
};

class MtaHandler : public net::SmtpHandler {
 public:
  // InvalidArgument when router or queue is missing.
  static absl::StatusOr<std::unique_ptr<MtaHandler>> Create(
      MtaHandlerOptions options);
  ~MtaHandler() override;

  std::optional<smtp::Reply> OnConnect(const net::Peer& peer) override;
  smtp::Verdict OnMailFrom(const net::Peer& peer,
                           const smtp::ServerSession& session,
                           const smtp::Path& path,
                           const smtp::MailParams& params) override;
  smtp::Verdict OnRcptTo(const net::Peer& peer,
                         const smtp::ServerSession& session,
                         const smtp::Path& path,
                         const smtp::RcptParams& params) override;
  smtp::Verdict OnAuth(const net::Peer& peer, std::string_view mechanism,
                       std::string_view authzid, std::string_view username,
                       std::string_view password) override;
  smtp::Verdict OnEtrn(const net::Peer& peer,
                       std::string_view argument) override;
  smtp::Verdict OnExpn(const net::Peer& peer,
                       std::string_view argument) override;
  std::unique_ptr<net::MessageSink> OpenMessage(
      const net::Peer& peer, const smtp::ServerSession& session) override;

  class Impl;

 private:
  explicit MtaHandler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace posthorn::mta

#endif  // POSTHORN_MTA_SMTPD_H_
