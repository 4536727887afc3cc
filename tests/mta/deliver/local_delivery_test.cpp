// mta::MakeLocalAgent and DescribeDelivery: aliases (users, loops,
// includes, forwards), unknown users, file and program targets allowed
// and refused, and the mbox bytes a maildrop receives.
#include "posthorn/mta/local_delivery.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "posthorn/store/aliases.h"
#include "posthorn/store/mbox.h"
#include "posthorn/store/memory_store.h"
#include "mta/deliver/deliver_test_util.h"

namespace posthorn::mta {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

class LocalDeliveryTest : public ::testing::Test {
 protected:
  LocalDeliveryTest()
      : router_(RouterOptions{{"example.org"}, {}, std::nullopt}),
        store_(store::MakeMemoryStore()) {}

  void SetAliases(const std::string& text) {
    auto file = store::ParseAliases(text, "aliases");
    ASSERT_TRUE(file.ok()) << file.status();
    aliases_ = store::MakeAliasTable(*std::move(file));
  }

  LocalAgentOptions Options() {
    LocalAgentOptions o;
    o.mailstore = store_.get();
    o.aliases = aliases_.get();
    o.router = &router_;
    o.user_exists = [](std::string_view user) {
      return user == "alice" || user == "bob";
    };
    o.log = log_.Function();
    return o;
  }

  // Delivers kMessage from carol@example.net to `address`.
  RecipientOutcome DeliverTo(const LocalAgentOptions& options,
                             const std::string& address) {
    envelope_ = store::QueueEnvelope();
    envelope_.id = "TESTID";
    envelope_.sender = "carol@example.net";
    envelope_.arrival = absl::FromUnixSeconds(1700000000);
    store::QueuedRecipient r;
    r.address = address;
    envelope_.recipients.push_back(r);
    DeliveryRequest request;
    request.envelope = &envelope_;
    request.recipients = {0};
    auto route = router_.RouteAddress(address);
    EXPECT_TRUE(route.ok());
    if (route.ok()) request.routes = {*route};
    request.open_data =
        []() -> absl::StatusOr<std::unique_ptr<store::MessageReader>> {
      return std::make_unique<store::StringReader>(testing::kMessage);
    };
    auto agent = MakeLocalAgent(options);
    EXPECT_EQ(agent->name(), "local");
    auto outcomes = agent->Deliver(request);
    EXPECT_TRUE(outcomes.ok()) << outcomes.status();
    if (!outcomes.ok() || outcomes->size() != 1) return {};
    EXPECT_EQ((*outcomes)[0].index, 0u);
    return (*outcomes)[0];
  }

  std::size_t Count(const std::string& user) {
    auto session = store_->OpenSession(user);
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? (*session)->messages().size() : 0;
  }

  TempDir dir_;
  Router router_;
  std::unique_ptr<store::Mailstore> store_;
  std::unique_ptr<store::AliasTable> aliases_;
  store::QueueEnvelope envelope_;
  testing::LogRecorder log_;
};

TEST_F(LocalDeliveryTest, PlainUser) {
  RecipientOutcome o = DeliverTo(Options(), "Alice@example.org");
  EXPECT_EQ(o.status, DeliveryStatus::kSent) << o.reply;
  EXPECT_EQ(o.reply, "250 2.0.0 delivered to maildrop");
  EXPECT_EQ(o.relay, "local");
  EXPECT_EQ(Count("alice"), 1u);
}

TEST_F(LocalDeliveryTest, AliasToTwoUsers) {
  SetAliases("staff: alice, bob@example.org\n");
  RecipientOutcome o = DeliverTo(Options(), "staff@example.org");
  EXPECT_EQ(o.status, DeliveryStatus::kSent) << o.reply;
  EXPECT_EQ(o.reply, "250 2.0.0 delivered to alice, bob");
  EXPECT_EQ(Count("alice"), 1u);
  EXPECT_EQ(Count("bob"), 1u);
}

TEST_F(LocalDeliveryTest, UnknownUserBounces) {
  RecipientOutcome o = DeliverTo(Options(), "nobody@example.org");
  EXPECT_EQ(o.status, DeliveryStatus::kBounced);
  EXPECT_EQ(o.reply, "550 5.1.1 <nobody@example.org>: User unknown");
}

TEST_F(LocalDeliveryTest, AliasWithAnUnknownTargetBouncesThatPart) {
  SetAliases("team: alice, ghost\n");
  RecipientOutcome o = DeliverTo(Options(), "team");
  EXPECT_EQ(o.status, DeliveryStatus::kBounced);
  EXPECT_EQ(o.reply, "550 5.1.1 <ghost>: User unknown");
  EXPECT_EQ(Count("alice"), 1u);
}

TEST_F(LocalDeliveryTest, AliasLoopBounces) {
  SetAliases("a: b\nb: a\n");
  RecipientOutcome o = DeliverTo(Options(), "a@example.org");
  EXPECT_EQ(o.status, DeliveryStatus::kBounced);
  EXPECT_EQ(o.reply, "554 5.4.6 <a@example.org>: Alias loop");
  EXPECT_TRUE(log_.Contains("alias loop")) << log_.All();
}

TEST_F(LocalDeliveryTest, IncludeFile) {
  std::string members = dir_ / "members";
  WriteFile(members, "alice\nbob@example.org\n");
  SetAliases("list: :include:" + members + "\n");
  RecipientOutcome o = DeliverTo(Options(), "list@example.org");
  EXPECT_EQ(o.status, DeliveryStatus::kSent) << o.reply;
  EXPECT_EQ(Count("alice"), 1u);
  EXPECT_EQ(Count("bob"), 1u);
}

TEST_F(LocalDeliveryTest, ForwardToRemoteAddressWithTheOwnerAsSender) {
  SetAliases("list: alice, dave@example.net\nowner-list: alice\n");
  std::vector<std::string> forwarded;
  std::string forward_sender;
  LocalAgentOptions o = Options();
  o.forward = [&](const std::vector<std::string>& addresses,
                  const std::string& sender, const DataOpener& data) {
    forwarded = addresses;
    forward_sender = sender;
    auto reader = data();
    EXPECT_TRUE(reader.ok());
    return absl::OkStatus();
  };
  RecipientOutcome out = DeliverTo(o, "list@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kSent) << out.reply;
  EXPECT_EQ(forwarded, std::vector<std::string>{"dave@example.net"});
  EXPECT_EQ(forward_sender, "owner-list@example.org");
  EXPECT_EQ(Count("alice"), 1u);
}

TEST_F(LocalDeliveryTest, ForwardWithoutAFunctionDefers) {
  SetAliases("away: dave@example.net\n");
  RecipientOutcome out = DeliverTo(Options(), "away@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kDeferred);
  EXPECT_NE(out.reply.find("451 4.3.0"), std::string::npos) << out.reply;
}

TEST_F(LocalDeliveryTest, FileTargetRefused) {
  std::string archive = dir_ / "archive";
  SetAliases("archive: " + archive + "\n");
  RecipientOutcome o = DeliverTo(Options(), "archive@example.org");
  EXPECT_EQ(o.status, DeliveryStatus::kBounced);
  EXPECT_EQ(o.reply.rfind("550 5.7.1 ", 0), 0u) << o.reply;
  EXPECT_NE(o.reply.find("not allowed"), std::string::npos);
  struct stat st;
  EXPECT_NE(::stat(archive.c_str(), &st), 0);
}

TEST_F(LocalDeliveryTest, FileTargetAllowedAppendsMbox) {
  std::string archive = dir_ / "archive";
  SetAliases("archive: " + archive + "\n");
  LocalAgentOptions o = Options();
  o.allow_file_targets = true;
  RecipientOutcome out = DeliverTo(o, "archive@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kSent) << out.reply;
  EXPECT_EQ(out.relay, archive);
  out = DeliverTo(o, "archive@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kSent) << out.reply;
  std::string one =
      "From carol@example.net Tue Nov 14 22:13:20 2023\n"
      "From: alice@example.org\n"
      "To: bob@example.net\n"
      "Subject: test\n"
      "\n"
      "Hello.\n"
      ">From here on, a line that mbox must quote.\n"
      "\n";
  EXPECT_EQ(ReadFile(archive), one + one);
}

TEST_F(LocalDeliveryTest, FileTargetThroughASymlinkIsRefused) {
  std::string real = dir_ / "real";
  WriteFile(real, "");
  std::string link = dir_ / "link";
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  SetAliases("archive: " + link + "\n");
  LocalAgentOptions o = Options();
  o.allow_file_targets = true;
  RecipientOutcome out = DeliverTo(o, "archive@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kBounced) << out.reply;
  EXPECT_EQ(ReadFile(real), "");
}

TEST_F(LocalDeliveryTest, ProgramTargetAllowed) {
  std::string out_file = dir_ / "out";
  SetAliases("prog: \"|cat > " + out_file + "; echo $SENDER > " +
             out_file + ".sender\"\n");
  LocalAgentOptions o = Options();
  o.allow_program_targets = true;
  RecipientOutcome out = DeliverTo(o, "prog@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kSent) << out.reply;
  EXPECT_EQ(out.relay.substr(0, 5), "|cat ");
  EXPECT_EQ(ReadFile(out_file),
            "From: alice@example.org\n"
            "To: bob@example.net\n"
            "Subject: test\n"
            "\n"
            "Hello.\n"
            "From here on, a line that mbox must quote.\n");
  EXPECT_EQ(ReadFile(out_file + ".sender"), "carol@example.net\n");
}

TEST_F(LocalDeliveryTest, ProgramTargetRefused) {
  std::string out_file = dir_ / "out";
  SetAliases("prog: \"|cat > " + out_file + "\"\n");
  RecipientOutcome out = DeliverTo(Options(), "prog@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kBounced);
  EXPECT_EQ(out.reply.rfind("550 5.7.1 ", 0), 0u) << out.reply;
  struct stat st;
  EXPECT_NE(::stat(out_file.c_str(), &st), 0);
}

TEST_F(LocalDeliveryTest, ProgramExitStatuses) {
  SetAliases(
      "fail: \"|cat >/dev/null; echo broken; exit 3\"\n"
      "later: \"|exit 75\"\n"
      "slow: \"|sleep 30\"\n");
  LocalAgentOptions o = Options();
  o.allow_program_targets = true;
  o.program_timeout = std::chrono::seconds(1);
  RecipientOutcome out = DeliverTo(o, "fail@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kBounced);
  EXPECT_EQ(out.reply.rfind("550 5.3.0 ", 0), 0u) << out.reply;
  EXPECT_NE(out.reply.find("exit status 3: broken"), std::string::npos)
      << out.reply;
  out = DeliverTo(o, "later@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kDeferred) << out.reply;
  auto start = std::chrono::steady_clock::now();
  out = DeliverTo(o, "slow@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kDeferred) << out.reply;
  EXPECT_NE(out.reply.find("time limit"), std::string::npos) << out.reply;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(LocalDeliveryTest, MboxMaildropContent) {
  auto mbox = store::MakeMboxStore(
      {.spool_dir = dir_.path(), .fsync = false});
  ASSERT_TRUE(mbox.ok()) << mbox.status();
  store_ = *std::move(mbox);
  RecipientOutcome out = DeliverTo(Options(), "bob@example.org");
  EXPECT_EQ(out.status, DeliveryStatus::kSent) << out.reply;
  std::string text = ReadFile(dir_ / "bob");
  EXPECT_EQ(text.rfind("From carol@example.net Tue Nov 14 22:13:20 2023\n", 0),
            0u)
      << text;
  EXPECT_NE(text.find("\n>From here on"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST_F(LocalDeliveryTest, DescribeDelivery) {
  SetAliases(
      "staff: alice, dave@example.net, ghost, /var/mail/archive, "
      "\"|/usr/bin/prog\"\n"
      "a: b\nb: a\n");
  RouterOptions ro{{"example.org"}, {}, std::nullopt};
  auto hop = ParseNextHop("[127.0.0.1]:2526");
  ASSERT_TRUE(hop.ok());
  ro.relay_host = *hop;
  Router router(ro);
  LocalAgentOptions o = Options();
  o.router = &router;
  o.allow_file_targets = true;
  std::vector<std::string> lines = DescribeDelivery(o, "staff@example.org");
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "alice... deliverable: mailer local, user alice",
                       "dave@example.net... deliverable: mailer esmtp, host "
                       "[127.0.0.1]:2526",
                       "ghost... User unknown",
                       "/var/mail/archive... deliverable: mailer file, file "
                       "/var/mail/archive",
                       "\"|/usr/bin/prog\"... program targets not allowed",
                   }));
  EXPECT_EQ(DescribeDelivery(o, "a"),
            std::vector<std::string>{"a... Alias loop"});
  EXPECT_EQ(DescribeDelivery(o, "x@example.com"),
            std::vector<std::string>{
                "x@example.com... deliverable: mailer esmtp, host "
                "[127.0.0.1]:2526"});
}

}  // namespace
}  // namespace posthorn::mta
