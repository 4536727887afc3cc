// Unit cases for posthorn/pop3/server_session.h that transcripts cannot
// express: answers that come late (after EOF), invalid listings, the TOP
// cut under every chunking, bounded output while streaming, calls out of
// turn.

#include "posthorn/pop3/server_session.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posthorn/wire/dot_stuffing.h"

namespace posthorn::pop3 {
namespace {

ServerOptions Plain() {
  ServerOptions o;
  o.allow_plaintext_auth = true;
  return o;
}

MaildropListing Listing(std::vector<std::uint64_t> sizes) {
  MaildropListing l;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    l.uids.push_back("uid" + std::to_string(i + 1));
  }
  l.sizes = std::move(sizes);
  return l;
}

// Feeds a USER/PASS login and returns with the kLogin event pending.
void Login(ServerSession& s) {
  s.Start();
  ASSERT_EQ(s.Receive("USER u\r\nPASS p\r\n"), 16u);
  auto e = s.NextEvent();
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, EventKind::kLogin);
  ASSERT_TRUE(s.waiting_for_answer());
}

TEST(Pop3ServerSession, EofWhileLoginWaitsAbortsTheLateAcceptance) {
  ServerSession s(Plain());
  Login(s);
  s.OnEof();
  EXPECT_TRUE(s.closed());
  EXPECT_FALSE(s.waiting_for_answer());
  s.TakeOutput();
  ASSERT_TRUE(s.AcceptLogin(Listing({10})).ok());
  auto e = s.NextEvent();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::kAborted);
  EXPECT_EQ(s.output(), "");
}

TEST(Pop3ServerSession, InvalidListingsAreRefused) {
  ServerSession s(Plain());
  Login(s);
  MaildropListing bad = Listing({1, 2});
  bad.uids.pop_back();
  EXPECT_EQ(s.AcceptLogin(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = Listing({1});
  bad.uids[0] = "has space";
  EXPECT_EQ(s.AcceptLogin(bad).code(), absl::StatusCode::kInvalidArgument);
  bad.uids[0] = std::string(71, 'x');
  EXPECT_EQ(s.AcceptLogin(bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(s.waiting_for_answer());
  EXPECT_TRUE(s.AcceptLogin(Listing({5})).ok());
  EXPECT_TRUE(s.in_transaction());
  EXPECT_EQ(s.AcceptLogin(Listing({5})).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Pop3ServerSession, AnswersOutOfTurnAreIgnored) {
  ServerSession s(Plain());
  s.Start();
  s.TakeOutput();
  EXPECT_FALSE(s.SendMessageData("x"));
  s.EndMessageData();
  s.FailMessage(absl::InternalError("x"));
  s.AnswerUpdate(absl::OkStatus());
  s.RejectLogin(LoginFailure{});
  EXPECT_EQ(s.output(), "");
  EXPECT_FALSE(s.closed());
}

TEST(Pop3ServerSession, ReceiveBeforeStartCloses) {
  ServerSession s(Plain());
  EXPECT_EQ(s.Receive("USER u\r\n"), 8u);
  EXPECT_TRUE(s.closed());
}

TEST(Pop3ServerSession, PausedReceiveConsumesOnlyToTheEvent) {
  ServerSession s(Plain());
  s.Start();
  const std::string input = "USER u\r\nPASS p\r\nSTAT\r\n";
  EXPECT_EQ(s.Receive(input), 16u);
  EXPECT_EQ(s.Receive("STAT\r\n"), 0u);  // still waiting
  ASSERT_TRUE(s.NextEvent());
  ASSERT_TRUE(s.AcceptLogin(Listing({3, 4})).ok());
  EXPECT_EQ(s.Receive("STAT\r\n"), 6u);
  EXPECT_EQ(s.TakeOutput(),
            "+OK POP3 server ready\r\n+OK Password required for u.\r\n"
            "+OK u's maildrop has 2 messages (7 octets)\r\n+OK 2 7\r\n");
}

TEST(Pop3ServerSession, StreamingKeepsOutputBounded) {
  ServerSession s(Plain());
  Login(s);
  const std::string message = "Subject: big\r\n\r\n" +
                              [] {
                                std::string b;
                                for (int i = 0; i < 20000; ++i) {
                                  b += ".line " + std::to_string(i) + "\r\n";
                                }
                                return b;
                              }();
  ASSERT_TRUE(s.AcceptLogin(Listing({message.size()})).ok());
  s.TakeOutput();
  ASSERT_EQ(s.Receive("RETR 1\r\n"), 8u);
  auto e = s.NextEvent();
  ASSERT_TRUE(e && e->kind == EventKind::kRetrieve);
  EXPECT_FALSE(e->top_lines.has_value());
  std::string wire;
  constexpr std::size_t kChunk = 4096;
  for (std::size_t off = 0; off < message.size(); off += kChunk) {
    EXPECT_TRUE(s.SendMessageData(std::string_view(message).substr(off, kChunk)));
    // At most one stuffed chunk (every line could start with ".") plus the
    // status line.
    EXPECT_LE(s.output().size(), 2 * kChunk + 64);
    wire += s.TakeOutput();
  }
  s.EndMessageData();
  wire += s.TakeOutput();
  EXPECT_FALSE(s.waiting_for_answer());
  std::string expected =
      "+OK " + std::to_string(message.size()) + " octets\r\n" +
      wire::DotStuff(message);
  EXPECT_EQ(wire, expected);
}

TEST(Pop3ServerSession, TopStopsAskingForData) {
  ServerSession s(Plain());
  Login(s);
  ASSERT_TRUE(s.AcceptLogin(Listing({100})).ok());
  s.TakeOutput();
  ASSERT_EQ(s.Receive("TOP 1 1\r\n"), 9u);
  auto e = s.NextEvent();
  ASSERT_TRUE(e && e->top_lines == 1u);
  EXPECT_TRUE(s.SendMessageData("A: b\r\n\r\nbody 1\r"));
  EXPECT_FALSE(s.SendMessageData("\nbody 2\r\n"));
  EXPECT_FALSE(s.SendMessageData("body 3\r\n"));
  s.EndMessageData();
  EXPECT_EQ(s.TakeOutput(), "+OK\r\nA: b\r\n\r\nbody 1\r\n.\r\n");
}

TEST(Pop3ServerSession, TimeoutInsideAResponseWritesNothing) {
  ServerSession s(Plain());
  Login(s);
  ASSERT_TRUE(s.AcceptLogin(Listing({100})).ok());
  ASSERT_EQ(s.Receive("RETR 1\r\n"), 8u);
  while (s.NextEvent()) {
  }
  EXPECT_TRUE(s.SendMessageData("Subject: x\r\n"));
  s.TakeOutput();
  s.OnTimeout();
  EXPECT_EQ(s.output(), "");
  EXPECT_TRUE(s.closed());
  auto e = s.NextEvent();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::kAborted);
  EXPECT_EQ(e->reason.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(s.SendMessageData("more"));
}

TEST(Pop3ServerSession, DeletedCounters) {
  ServerSession s(Plain());
  Login(s);
  ASSERT_TRUE(s.AcceptLogin(Listing({10, 20, 30})).ok());
  ASSERT_EQ(s.Receive("DELE 1\r\nDELE 3\r\n"), 16u);
  EXPECT_EQ(s.deleted_count(), 2u);
  EXPECT_EQ(s.deleted_octets(), 40u);
  EXPECT_EQ(s.user(), "u");
  ASSERT_EQ(s.Receive("QUIT\r\n"), 6u);
  auto e = s.NextEvent();
  ASSERT_TRUE(e && e->kind == EventKind::kUpdate);
  ASSERT_EQ(e->deleted.size(), 2u);
  EXPECT_EQ(e->deleted[0], 0u);
  EXPECT_EQ(e->deleted[1], 2u);
  s.OnEof();  // the client left; the UPDATE goes on and is answered
  s.AnswerUpdate(absl::OkStatus());
  EXPECT_TRUE(s.closed());
  EXPECT_FALSE(s.NextEvent());  // no kAborted: QUIT came first
}

}  // namespace
}  // namespace posthorn::pop3
