// MessageSink errors become the final reply after DATA (smtp_server.h):
// the default code per status class, and an enhanced status code at the
// front of the status message that replaces the default one when its class
// matches. Over the in-memory transport, with the recording handler.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net_test_util.h"
#include "posthorn/net/memory_stream.h"
#include "posthorn/net/smtp_server.h"

namespace posthorn::net::testing {
namespace {

using ::testing::StartsWith;

// The reply to a whole transaction sent after EHLO: MAIL, RCPT, DATA, body.
std::string FinalReply(MemoryStream& client) {
  if (!client.Write("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
                    "DATA\r\n")
           .ok()) {
    return "";
  }
  if (!client.ReadUntil("354 ", kWait).ok()) return "";
  if (!client.ReadUntil("\r\n", kWait).ok()) return "";
  if (!client.Write("Subject: x\r\n\r\nbody\r\n.\r\n").ok()) return "";
  auto line = client.ReadUntil("\r\n", kWait);
  return line.ok() ? *line : "";
}

TEST(SinkReply, StatusMessagesChooseTheEnhancedCode) {
  RecordingHandler handler;
  SmtpServerOptions options;
  auto server = ServerThread::Start(options, &handler);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->server().ConnectInMemory();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->ReadUntil("\r\n", kWait).ok());
  ASSERT_TRUE((*client)->Write("EHLO c.example\r\n").ok());
  ASSERT_TRUE((*client)->ReadUntil("250 ", kWait).ok());
  ASSERT_TRUE((*client)->ReadUntil("\r\n", kWait).ok());

  struct Case {
    absl::Status error;
    std::string_view reply;
  };
  const Case cases[] = {
      // A leading code of the right class is used.
      {absl::PermissionDeniedError(
           "5.4.6 Too many hops (4 Received: fields, limit 3)"),
       "554 5.4.6 Too many hops (4 Received: fields, limit 3)\r\n"},
      {absl::InvalidArgumentError("5.6.1 Bad MIME"), "554 5.6.1 Bad MIME\r\n"},
      {absl::UnavailableError("4.4.5 Queue busy"), "451 4.4.5 Queue busy\r\n"},
      {absl::ResourceExhaustedError("4.3.4 Over quota"),
       "452 4.3.4 Over quota\r\n"},
      // Another class, or no code: the defaults, the message as text.
      {absl::PermissionDeniedError("4.4.6 wrong class"),
       "554 5.7.1 4.4.6 wrong class\r\n"},
      {absl::UnavailableError("5.4.6 wrong class"),
       "451 4.3.0 Error: 5.4.6 wrong class\r\n"},
      {absl::PermissionDeniedError("virus found"),
       "554 5.7.1 virus found\r\n"},
      {absl::PermissionDeniedError("5.4.6"), "554 5.7.1 5.4.6\r\n"},
      {absl::PermissionDeniedError("5.x.6 text"),
       "554 5.7.1 5.x.6 text\r\n"},
  };
  for (const Case& c : cases) {
    handler.commit_error = c.error;
    EXPECT_EQ(FinalReply(**client), c.reply) << c.error;
  }
  EXPECT_TRUE(handler.messages().empty());
  handler.commit_error = absl::OkStatus();
  EXPECT_THAT(FinalReply(**client), StartsWith("250 2.0.0 "));
}

}  // namespace
}  // namespace posthorn::net::testing
