// tests/store/aliases/alias_expand_test.cpp — ExpandAlias: recursion,
// duplicate suppression, loops, limits, owner- aliases, :include:, and
// refused file and program targets.

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posthorn/store/aliases.h"

namespace posthorn::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using K = AliasTargetKind;

std::unique_ptr<AliasTable> Table(std::string_view text) {
  auto parsed = ParseAliases(text, "aliases");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return MakeAliasTable(parsed.ok() ? *parsed : AliasFile{});
}

// "value" or "value<owner>" for each recipient; files and programs
// prefixed with "file:" / "prog:".
std::vector<std::string> Flat(const Expansion& e) {
  std::vector<std::string> out;
  for (const ExpandedRecipient& r : e.recipients) {
    std::string s = r.kind == K::kFile      ? "file:"
                    : r.kind == K::kProgram ? "prog:"
                                            : "";
    s += r.value;
    if (!r.owner.empty()) s += "<" + r.owner + ">";
    out.push_back(s);
  }
  return out;
}

Expansion MustExpand(const AliasTable& table, std::string_view name,
                     const ExpandOptions& options = {}) {
  auto e = ExpandAlias(table, name, options);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *e : Expansion{};
}

TEST(ExpandAlias, NameWithoutAliasIsItself) {
  auto table = Table("a: b\n");
  Expansion e = MustExpand(*table, "alice");
  EXPECT_THAT(Flat(e), ElementsAre("alice"));
  EXPECT_THAT(e.problems, IsEmpty());
}

TEST(ExpandAlias, RecursesDepthFirstInOrder) {
  auto table = Table(
      "all: staff, ops, carol\n"
      "staff: alice, bob\n"
      "ops: dave, remote@example.org\n");
  EXPECT_THAT(Flat(MustExpand(*table, "ALL")),
              ElementsAre("alice", "bob", "dave", "remote@example.org",
                          "carol"));
}

TEST(ExpandAlias, DuplicatesAreRemoved) {
  auto table = Table(
      "all: staff, Alice, ALICE, team, bob@Example.ORG, bob@example.org,\n"
      "     Bob@example.org\n"
      "staff: alice, bob@example.org\n"
      "team: staff, carol\n");
  // Local names and domains compare case-insensitively, remote local parts
  // exactly (RFC 5321 2.4).
  EXPECT_THAT(Flat(MustExpand(*table, "all")),
              ElementsAre("alice", "bob@example.org", "carol",
                          "Bob@example.org"));
}

TEST(ExpandAlias, RemoteAddressesAreNotLookedUp) {
  auto table = Table(
      "a: b@example.org, <c@example.org>\n"
      "b: should-not-appear\n");
  EXPECT_THAT(Flat(MustExpand(*table, "a")),
              ElementsAre("b@example.org", "c@example.org"));
}

TEST(ExpandAlias, LocalPartOptionDecidesWhatIsLocal) {
  auto table = Table(
      "a: b@local.test, c@remote.test\n"
      "b: bee\n");
  ExpandOptions options;
  options.local_part =
      [](std::string_view address) -> std::optional<std::string> {
    std::size_t at = address.find('@');
    if (at == std::string_view::npos) return std::string(address);
    if (address.substr(at + 1) == "local.test") {
      return std::string(address.substr(0, at));
    }
    return std::nullopt;
  };
  EXPECT_THAT(Flat(MustExpand(*table, "a", options)),
              ElementsAre("bee", "c@remote.test"));
}

TEST(ExpandAlias, SelfReferenceKeepsTheName) {
  auto table = Table("root: root, log\nlog: /var/log/root-mail\n");
  ExpandOptions options;
  options.allow_file_targets = true;
  Expansion e = MustExpand(*table, "root", options);
  EXPECT_THAT(Flat(e), ElementsAre("root", "file:/var/log/root-mail"));
  EXPECT_THAT(e.problems, IsEmpty());
}

TEST(ExpandAlias, LoopsAreReportedAndDropped) {
  auto table = Table(
      "a: b, keep\n"
      "b: c\n"
      "c: A, other\n");
  Expansion e = MustExpand(*table, "a");
  EXPECT_THAT(Flat(e), ElementsAre("other", "keep"));
  EXPECT_THAT(e.problems,
              ElementsAre("alias loop: a -> b -> c -> a (branch dropped)"));
}

TEST(ExpandAlias, DepthLimitIsAnError) {
  std::string text;
  for (int i = 0; i < 25; ++i) {
    text += "a" + std::to_string(i) + ": a" + std::to_string(i + 1) + "\n";
  }
  auto table = Table(text);
  auto e = ExpandAlias(*table, "a0", {});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(e.status().message(), "alias \"a0\" nests deeper than 20 levels");
  // From a5 the chain is exactly 20 levels deep: fine.
  EXPECT_THAT(Flat(MustExpand(*table, "a5")), ElementsAre("a25"));
  ExpandOptions shallow;
  shallow.max_depth = 3;
  EXPECT_FALSE(ExpandAlias(*table, "a20", shallow).ok());
  EXPECT_TRUE(ExpandAlias(*table, "a22", shallow).ok());
}

TEST(ExpandAlias, RecipientLimitIsAnError) {
  auto table = Table("a: w, x, y, z\n");
  ExpandOptions options;
  options.max_recipients = 3;
  auto e = ExpandAlias(*table, "a", options);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(e.status().message(), "alias \"a\" expands to more than 3 recipients");
  options.max_recipients = 4;
  EXPECT_TRUE(ExpandAlias(*table, "a", options).ok());
}

TEST(ExpandAlias, DiamondsStayLinear) {
  // 40 levels, each alias listing the next level twice: 2^40 paths, but
  // every alias is expanded once.
  std::string text;
  for (int i = 0; i < 40; ++i) {
    std::string next = "l" + std::to_string(i + 1);
    text += "l" + std::to_string(i) + ": " + next + "x, " + next + "y\n";
    text += next + "x: " + next + "\n" + next + "y: " + next + "\n";
  }
  auto table = Table(text);
  ExpandOptions options;
  options.max_depth = 100;
  EXPECT_THAT(Flat(MustExpand(*table, "l0", options)), ElementsAre("l40"));
}

TEST(ExpandAlias, OwnerAliases) {
  auto table = Table(
      "outer: list, carol\n"
      "list: alice, sub\n"
      "owner-list: list-admin\n"
      "sub: bob\n"
      "other: dave\n"
      "owner-other: other-admin\n");
  EXPECT_THAT(Flat(MustExpand(*table, "outer")),
              ElementsAre("alice<owner-list>", "bob<owner-list>", "carol"));
  EXPECT_THAT(Flat(MustExpand(*table, "other")),
              ElementsAre("dave<owner-other>"));
  // An owner- alias is an ordinary entry too.
  EXPECT_THAT(Flat(MustExpand(*table, "owner-list")), ElementsAre("list-admin"));
}

TEST(ExpandAlias, FileAndProgramTargetsAreRefusedByDefault) {
  auto table = Table(
      "a: /var/mail/archive, \"|/usr/bin/tracker\", alice\n");
  Expansion e = MustExpand(*table, "a");
  EXPECT_THAT(Flat(e), ElementsAre("alice"));
  EXPECT_THAT(e.problems,
              ElementsAre("alias \"a\": file target \"/var/mail/archive\" "
                          "refused (file targets are not allowed)",
                          "alias \"a\": program target \"|/usr/bin/tracker\" "
                          "refused (program targets are not allowed)"));
  ExpandOptions options;
  options.allow_file_targets = true;
  options.allow_program_targets = true;
  Expansion allowed = MustExpand(*table, "a", options);
  EXPECT_THAT(Flat(allowed), ElementsAre("file:/var/mail/archive",
                                         "prog:/usr/bin/tracker", "alice"));
  EXPECT_THAT(allowed.problems, IsEmpty());
}

TEST(ExpandAlias, Includes) {
  auto table = Table(
      "list: :include:/lists/members, staff\n"
      "staff: erin\n"
      "team: frank\n");
  std::map<std::string, std::string> files = {
      {"/lists/members",
       "# members of the list\n"
       "alice, bob@example.org\n"
       "carol   # a trailing comment\n"
       "team, :include:/lists/more\n"},
      {"/lists/more", "dave\n"},
  };
  std::vector<std::string> reads;
  ExpandOptions options;
  options.read_include =
      [&](std::string_view path) -> absl::StatusOr<std::string> {
    reads.emplace_back(path);
    auto it = files.find(std::string(path));
    if (it == files.end()) return absl::NotFoundError("no such file");
    return it->second;
  };
  Expansion e = MustExpand(*table, "list", options);
  EXPECT_THAT(Flat(e), ElementsAre("alice", "bob@example.org", "carol",
                                   "frank", "dave", "erin"));
  EXPECT_THAT(e.problems, IsEmpty());
  EXPECT_THAT(reads, ElementsAre("/lists/members", "/lists/more"));
}

TEST(ExpandAlias, IncludeProblems) {
  auto table = Table(
      "a: :include:/missing, x\n"
      "b: :include:/bad, y\n"
      "c: :include:/loop, z\n");
  ExpandOptions options;
  options.read_include =
      [](std::string_view path) -> absl::StatusOr<std::string> {
    if (path == "/bad") return std::string("ok\nbad line with spaces\n");
    if (path == "/loop") return std::string("w, :include:/loop\n");
    return absl::NotFoundError("/missing: No such file or directory");
  };
  Expansion missing = MustExpand(*table, "a", options);
  EXPECT_THAT(Flat(missing), ElementsAre("x"));
  EXPECT_THAT(missing.problems,
              ElementsAre("alias \"a\": :include:/missing: /missing: No such "
                          "file or directory"));
  Expansion bad = MustExpand(*table, "b", options);
  EXPECT_THAT(Flat(bad), ElementsAre("y"));
  EXPECT_THAT(bad.problems,
              ElementsAre(HasSubstr("alias \"b\": /bad:2: space in address")));
  Expansion loop = MustExpand(*table, "c", options);
  EXPECT_THAT(Flat(loop), ElementsAre("w", "z"));
  EXPECT_THAT(loop.problems,
              ElementsAre("alias loop: c -> :include:/loop -> :include:/loop "
                          "(branch dropped)"));
}

TEST(ExpandAlias, IncludesRefusedWithoutPermissionOrReader) {
  auto table = Table("a: :include:/lists/x, y\n");
  Expansion no_reader = MustExpand(*table, "a");
  EXPECT_THAT(Flat(no_reader), ElementsAre("y"));
  EXPECT_THAT(no_reader.problems,
              ElementsAre("alias \"a\": :include:/lists/x refused (includes "
                          "are not allowed)"));
  ExpandOptions options;
  options.allow_include = false;
  options.read_include = [](std::string_view) -> absl::StatusOr<std::string> {
    ADD_FAILURE() << "read although includes are not allowed";
    return std::string();
  };
  EXPECT_EQ(MustExpand(*table, "a", options).problems.size(), 1u);
}

TEST(ExpandAlias, WorksOnACompiledTableToo) {
  // The database-backed table is exercised in alias_database_test; here
  // the expansion only needs the AliasTable interface.
  auto table = Table("x: y\ny: z\n");
  EXPECT_THAT(Flat(MustExpand(*table, "x")), ElementsAre("z"));
}

}  // namespace
}  // namespace posthorn::store
