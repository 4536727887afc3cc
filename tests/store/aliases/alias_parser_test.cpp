// tests/store/aliases/alias_parser_test.cpp — ParseAliases: every syntax
// element of aliases(5), every error with its "file:line: reason" text,
// and duplicate names.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posthorn/store/aliases.h"

namespace posthorn::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using K = AliasTargetKind;

AliasTarget T(K kind, std::string value) { return {kind, std::move(value)}; }

AliasFile MustParse(std::string_view text) {
  auto parsed = ParseAliases(text, "aliases");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : AliasFile{};
}

std::string ErrorOf(std::string_view text) {
  auto parsed = ParseAliases(text, "aliases");
  if (parsed.ok()) return "(parsed)";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(AliasParser, HeaderExample) {
  AliasFile file = MustParse(
      "# comment\n"
      "postmaster: root\n"
      "staff:      alice, bob@example.org,\n"
      "            carol                     # continuation: leading blank\n"
      "\"odd name\": alice\n"
      "list:       :include:/etc/mail/list.members\n"
      "archive:    /var/mail/archive         # file target\n"
      "bugs:       \"|/usr/bin/bug-tracker\"   # program target\n"
      "owner-list: alice                     # errors for `list` go here\n");
  ASSERT_EQ(file.entries.size(), 7u);
  EXPECT_TRUE(file.warnings.empty());
  EXPECT_EQ(file.entries[0].name, "postmaster");
  EXPECT_EQ(file.entries[0].line, 2);
  EXPECT_THAT(file.entries[0].targets, ElementsAre(T(K::kAddress, "root")));
  EXPECT_EQ(file.entries[1].name, "staff");
  EXPECT_THAT(file.entries[1].targets,
              ElementsAre(T(K::kAddress, "alice"),
                          T(K::kAddress, "bob@example.org"),
                          T(K::kAddress, "carol")));
  EXPECT_EQ(file.entries[2].name, "odd name");
  EXPECT_EQ(file.entries[2].line, 5);
  EXPECT_THAT(file.entries[3].targets,
              ElementsAre(T(K::kInclude, "/etc/mail/list.members")));
  EXPECT_THAT(file.entries[4].targets,
              ElementsAre(T(K::kFile, "/var/mail/archive")));
  EXPECT_THAT(file.entries[5].targets,
              ElementsAre(T(K::kProgram, "/usr/bin/bug-tracker")));
  EXPECT_EQ(file.entries[6].name, "owner-list");
}

TEST(AliasParser, NamesAreLowercasedAndMayBeQuoted) {
  AliasFile file = MustParse(
      "PostMaster: Root\n"
      "\"Odd \\\"Quoted\\\" Name\" : x\n"
      "spaced   :   y\n");
  ASSERT_EQ(file.entries.size(), 3u);
  EXPECT_EQ(file.entries[0].name, "postmaster");
  // Target values keep their case; lookups lowercase local names.
  EXPECT_THAT(file.entries[0].targets, ElementsAre(T(K::kAddress, "Root")));
  EXPECT_EQ(file.entries[1].name, "odd \"quoted\" name");
  EXPECT_EQ(file.entries[2].name, "spaced");
}

TEST(AliasParser, Comments) {
  AliasFile file = MustParse(
      "# a full-line comment\n"
      "a: x#y, \"q # not a comment\", z # trailing comment, w\n"
      "   # an indented comment line continues nothing\n"
      "\tv\n"
      "b: c#\n");
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_THAT(file.entries[0].targets,
              ElementsAre(T(K::kAddress, "x#y"),
                          T(K::kAddress, "q # not a comment"),
                          T(K::kAddress, "z"), T(K::kAddress, "v")));
  EXPECT_THAT(file.entries[1].targets, ElementsAre(T(K::kAddress, "c#")));
}

TEST(AliasParser, ContinuationLines) {
  AliasFile file = MustParse(
      "team: alice,\n"
      "  bob\n"              // a line break separates like a comma
      "\tcarol, dave,\n"
      "   \n"                // blank-only line: ignored
      "  erin\n"
      "next: x\r\n"          // CRLF
      "  y\r\n");
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_THAT(file.entries[0].targets,
              ElementsAre(T(K::kAddress, "alice"), T(K::kAddress, "bob"),
                          T(K::kAddress, "carol"), T(K::kAddress, "dave"),
                          T(K::kAddress, "erin")));
  EXPECT_THAT(file.entries[1].targets,
              ElementsAre(T(K::kAddress, "x"), T(K::kAddress, "y")));
}

TEST(AliasParser, EveryTargetForm) {
  AliasFile file = MustParse(
      "a: <angle@example.org>, Bob Smith <bob@example.org>,\n"
      "   \"john doe\"@example.org, \"quoted local\",\n"
      "   \"|/usr/bin/prog --flag, with comma\", |/usr/bin/plain arg,\n"
      "   /var/mail/file, \"/path with space\",\n"
      "   :include:/etc/list, :INCLUDE: /etc/other, \":include:/etc/q\",\n"
      "   ,,trailing,\n");
  ASSERT_EQ(file.entries.size(), 1u);
  EXPECT_THAT(
      file.entries[0].targets,
      ElementsAre(T(K::kAddress, "angle@example.org"),
                  T(K::kAddress, "bob@example.org"),
                  T(K::kAddress, "\"john doe\"@example.org"),
                  T(K::kAddress, "quoted local"),
                  T(K::kProgram, "/usr/bin/prog --flag, with comma"),
                  T(K::kProgram, "/usr/bin/plain arg"),
                  T(K::kFile, "/var/mail/file"),
                  T(K::kFile, "/path with space"),
                  T(K::kInclude, "/etc/list"), T(K::kInclude, "/etc/other"),
                  T(K::kInclude, "/etc/q"), T(K::kAddress, "trailing")));
}

TEST(AliasParser, EmptyAndCommentOnlyFiles) {
  EXPECT_TRUE(MustParse("").entries.empty());
  EXPECT_TRUE(MustParse("\n\n# only comments\n   \n").entries.empty());
  AliasFile no_newline = MustParse("a: b");
  ASSERT_EQ(no_newline.entries.size(), 1u);
}

TEST(AliasParser, Errors) {
  EXPECT_EQ(ErrorOf("alice bob\n"),
            "aliases:1: missing ':' after the alias name");
  EXPECT_EQ(ErrorOf("a: b\n\"quoted\" x\n"),
            "aliases:2: missing ':' after the alias name");
  EXPECT_EQ(ErrorOf("ok: x\n: bob\n"), "aliases:2: empty alias name");
  EXPECT_EQ(ErrorOf("\"\": bob\n"), "aliases:1: empty alias name");
  EXPECT_EQ(ErrorOf("a: b\nempty:\nc: d\n"),
            "aliases:2: empty target list for alias \"empty\"");
  EXPECT_EQ(ErrorOf("empty: , ,  # nothing\n"),
            "aliases:1: empty target list for alias \"empty\"");
  EXPECT_EQ(ErrorOf("a: \"bob\n"), "aliases:1: unterminated quote");
  EXPECT_EQ(ErrorOf("\"odd: bob\n"), "aliases:1: unterminated quote");
  EXPECT_EQ(ErrorOf("a: b\n  \"open,\n  close\"\n"),
            "aliases:2: unterminated quote");
  EXPECT_EQ(ErrorOf("a: foo\"bar\"\n"),
            "aliases:1: bad quoting in \"foo\"bar\"\"");
  EXPECT_EQ(ErrorOf("a: \"x\" y\n"),
            "aliases:1: unexpected text after quoted string in \"\"x\" y\"");
  EXPECT_EQ(ErrorOf("a: <bob\n"), "aliases:1: '<' without '>'");
  EXPECT_EQ(ErrorOf("a: bob>\n"), "aliases:1: '>' without '<'");
  EXPECT_EQ(ErrorOf("a: <>\n"), "aliases:1: empty address <>");
  EXPECT_EQ(ErrorOf("a: <b> c\n"), "aliases:1: text after '>' in \"<b> c\"");
  EXPECT_EQ(ErrorOf("  orphan\n"),
            "aliases:1: continuation line without an alias before it");
  EXPECT_EQ(ErrorOf("a: b\n\n  orphan\n"),
            "aliases:3: continuation line without an alias before it");
  EXPECT_EQ(ErrorOf("a: b\n# ends a\n  orphan\n"),
            "aliases:3: continuation line without an alias before it");
  EXPECT_EQ(ErrorOf("a: b\nc: d\x01\n"),
            "aliases:2: control byte 0x01 in line");
  EXPECT_EQ(ErrorOf(std::string("a: b\0c\n", 7)),
            "aliases:1: control byte 0x00 in line");
  EXPECT_EQ(ErrorOf("user@example.org: x\n"),
            "aliases:1: alias name \"user@example.org\" is not a local name "
            "(it has an '@')");
  EXPECT_EQ(ErrorOf("two words: x\n"),
            "aliases:1: space in alias name \"two words\" (quote the name)");
  EXPECT_EQ(ErrorOf("a<b: x\n"), "aliases:1: bad character in alias name \"a<b\"");
  EXPECT_EQ(ErrorOf("a: alice bob\n"),
            "aliases:1: space in address \"alice bob\" (a ',' is missing?)");
  EXPECT_EQ(ErrorOf("a: /var/mail/x y\n"),
            "aliases:1: space in file target \"/var/mail/x y\" (quote the "
            "path, or a ',' is missing)");
  EXPECT_EQ(ErrorOf("a: :include:\n"), "aliases:1: empty :include: path");
  EXPECT_EQ(ErrorOf("a: :include:relative/list\n"),
            "aliases:1: :include: path \"relative/list\" is not absolute");
  EXPECT_EQ(ErrorOf("a: |\n"), "aliases:1: empty program target '|'");
  EXPECT_EQ(ErrorOf("a: \"\"\n"), "aliases:1: empty quoted target \"\"");
  EXPECT_EQ(ErrorOf(std::string(300, 'n') + ": x\n"),
            "aliases:1: alias name longer than 256 bytes");
}

TEST(AliasParser, ErrorsNameTheirFile) {
  auto parsed = ParseAliases("a: b\nbroken\n", "/etc/mail/aliases");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "/etc/mail/aliases:2: missing ':' after the alias name");
}

TEST(AliasParser, LineLimits) {
  std::string long_line = "a: " + std::string(70000, 'x') + "\n";
  EXPECT_EQ(ErrorOf("ok: y\n" + long_line),
            "aliases:2: line longer than 65536 bytes");
  // Each physical line fits; together they exceed the logical limit.
  std::string logical = "big: x\n";
  for (int i = 0; i < 20; ++i) logical += "  " + std::string(4000, 'y') + "\n";
  EXPECT_EQ(ErrorOf(logical), "aliases:1: logical line longer than 65536 bytes");
  // 1,000 targets are fine, 1,001 are not.
  std::string many = "many: t0";
  for (int i = 1; i < 1000; ++i) many += ", t" + std::to_string(i);
  EXPECT_EQ(MustParse(many + "\n").entries[0].targets.size(), 1000u);
  EXPECT_EQ(ErrorOf(many + ", one-more\n"),
            "aliases:1: more than 1000 targets for alias \"many\"");
}

TEST(AliasParser, DuplicateNamesLaterWinsWithWarning) {
  AliasFile file = MustParse(
      "a: first\n"
      "b: y\n"
      "A: second\n"
      "c: z\n"
      "a: third\n");
  ASSERT_EQ(file.entries.size(), 3u);
  EXPECT_EQ(file.entries[0].name, "b");
  EXPECT_EQ(file.entries[1].name, "c");
  EXPECT_EQ(file.entries[2].name, "a");
  EXPECT_EQ(file.entries[2].line, 5);
  EXPECT_THAT(file.entries[2].targets, ElementsAre(T(K::kAddress, "third")));
  EXPECT_THAT(file.warnings,
              ElementsAre("aliases:3: duplicate alias \"a\" (also at line 1): "
                          "the later one wins",
                          "aliases:5: duplicate alias \"a\" (also at line 3): "
                          "the later one wins"));
}

TEST(AliasParser, ErrorLineOfAMultiLineEntryIsThePhysicalLine) {
  EXPECT_THAT(ErrorOf("a: b,\n  c,\n  d e\n"), HasSubstr("aliases:3: "));
}

}  // namespace
}  // namespace posthorn::store
