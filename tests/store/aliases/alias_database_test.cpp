// tests/store/aliases/alias_database_test.cpp — newaliases
// (CompileAliasDatabase), lookups in the compiled database, and
// OpenAliasTable's fallback to the text file when the database is
// missing, older than the text, or damaged.

#include <sys/stat.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posthorn/store/aliases.h"
#include "store/aliases/db_test_util.h"

namespace posthorn::store {
namespace {

using dbtest::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using K = AliasTargetKind;

constexpr char kText[] =
    "postmaster: root\n"
    "Staff: alice, bob@example.org,\n"
    "  carol\n"
    "\"odd name\": alice\n"
    "bugs: \"|/usr/bin/bug-tracker\", /var/log/bugs\n"
    "list: :include:/etc/mail/list\n";

std::vector<AliasTarget> MustLookup(const AliasTable& table,
                                    std::string_view name) {
  auto found = table.Lookup(name);
  EXPECT_TRUE(found.ok()) << found.status();
  if (!found.ok() || !found->has_value()) return {};
  return **found;
}

std::vector<std::string> Names(const AliasTable& table) {
  std::vector<std::string> names;
  auto all = table.All();
  EXPECT_TRUE(all.ok()) << all.status();
  if (all.ok()) {
    for (const AliasEntry& e : *all) names.push_back(e.name);
  }
  return names;
}

TEST(AliasDatabase, CompileThenLookUp) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  dbtest::WriteFile(aliases, kText);
  ::chmod(aliases.c_str(), 0640);
  auto compiled = CompileAliasDatabase(aliases);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ(compiled->aliases, 5u);
  EXPECT_TRUE(compiled->warnings.empty());
  // One file, the text's permission bits, no lock file, no temporaries.
  EXPECT_EQ(dbtest::ModeOf(aliases + ".lmdb"), 0640u);
  std::vector<std::string> files = dir.Names();
  std::sort(files.begin(), files.end());
  EXPECT_THAT(files, ElementsAre("aliases", "aliases.lmdb"));

  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_TRUE((*table)->warnings().empty());
  EXPECT_THAT(MustLookup(**table, "postmaster"),
              ElementsAre(AliasTarget{K::kAddress, "root"}));
  EXPECT_THAT(MustLookup(**table, "STAFF"),
              ElementsAre(AliasTarget{K::kAddress, "alice"},
                          AliasTarget{K::kAddress, "bob@example.org"},
                          AliasTarget{K::kAddress, "carol"}));
  EXPECT_THAT(MustLookup(**table, "Odd Name"),
              ElementsAre(AliasTarget{K::kAddress, "alice"}));
  EXPECT_THAT(MustLookup(**table, "bugs"),
              ElementsAre(AliasTarget{K::kProgram, "/usr/bin/bug-tracker"},
                          AliasTarget{K::kFile, "/var/log/bugs"}));
  EXPECT_THAT(MustLookup(**table, "list"),
              ElementsAre(AliasTarget{K::kInclude, "/etc/mail/list"}));
  auto missing = (*table)->Lookup("nobody");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_FALSE((*table)->Lookup("")->has_value());
  EXPECT_THAT(Names(**table),
              ElementsAre("bugs", "list", "odd name", "postmaster", "staff"));
  auto all = (*table)->All();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].line, 0);  // from a database
}

TEST(AliasDatabase, CompileReportsDuplicateWarnings) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  dbtest::WriteFile(aliases, "a: x\na: y\n");
  auto compiled = CompileAliasDatabase(aliases);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->aliases, 1u);
  EXPECT_THAT(compiled->warnings,
              ElementsAre(aliases + ":2: duplicate alias \"a\" (also at line "
                                    "1): the later one wins"));
  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok());
  EXPECT_THAT(MustLookup(**table, "a"), ElementsAre(AliasTarget{K::kAddress, "y"}));
}

TEST(AliasDatabase, SyntaxErrorLeavesTheOldDatabase) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  dbtest::WriteFile(aliases, kText);
  ASSERT_TRUE(CompileAliasDatabase(aliases).ok());
  std::string before = dbtest::ReadFile(aliases + ".lmdb");
  dbtest::WriteFile(aliases, "good: x\nbroken line\n");
  auto compiled = CompileAliasDatabase(aliases);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(compiled.status().message(),
            aliases + ":2: missing ':' after the alias name");
  EXPECT_EQ(dbtest::ReadFile(aliases + ".lmdb"), before);
  EXPECT_EQ(dir.Names().size(), 2u);
}

TEST(AliasDatabase, MissingTextFileIsAnError) {
  TempDir dir;
  auto compiled = CompileAliasDatabase(dir.File("aliases"));
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kNotFound);
}

TEST(AliasDatabase, RecompileReplacesTheDatabase) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  dbtest::WriteFile(aliases, "a: one\nb: two\n");
  ASSERT_TRUE(CompileAliasDatabase(aliases).ok());
  auto old_table = OpenAliasTable(aliases);  // keeps the old file mapped
  ASSERT_TRUE(old_table.ok());
  dbtest::WriteFile(aliases, "a: uno\nc: tres\n");
  auto compiled = CompileAliasDatabase(aliases);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->aliases, 2u);
  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE((*table)->warnings().empty());
  EXPECT_THAT(Names(**table), ElementsAre("a", "c"));
  EXPECT_THAT(MustLookup(**table, "a"), ElementsAre(AliasTarget{K::kAddress, "uno"}));
  // A reader opened before the rename still sees its whole old database.
  EXPECT_THAT(Names(**old_table), ElementsAre("a", "b"));
}

TEST(AliasDatabase, LargeFileCompiles) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "user" + std::to_string(i) + ": target" + std::to_string(i) +
            ", other" + std::to_string(i) + "@example.org\n";
  }
  dbtest::WriteFile(aliases, text);
  auto compiled = CompileAliasDatabase(aliases);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ(compiled->aliases, 5000u);
  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok());
  EXPECT_THAT(MustLookup(**table, "user4321"),
              ElementsAre(AliasTarget{K::kAddress, "target4321"},
                          AliasTarget{K::kAddress, "other4321@example.org"}));
  EXPECT_EQ(Names(**table).size(), 5000u);
}

TEST(AliasTableFallback, NeitherFileIsAnEmptyTable) {
  TempDir dir;
  auto table = OpenAliasTable(dir.File("aliases"));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_TRUE((*table)->warnings().empty());
  EXPECT_FALSE((*table)->Lookup("root")->has_value());
  EXPECT_TRUE(Names(**table).empty());
}

TEST(AliasTableFallback, MissingDatabaseReadsTheText) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  dbtest::WriteFile(aliases, kText);
  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT((*table)->warnings(),
              ElementsAre(aliases + ".lmdb is missing: reading " + aliases +
                          "; run newaliases"));
  EXPECT_THAT(MustLookup(**table, "postmaster"),
              ElementsAre(AliasTarget{K::kAddress, "root"}));
  auto all = (*table)->All();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->front().name, "bugs");
  EXPECT_EQ(all->front().line, 5);  // from the text file
}

TEST(AliasTableFallback, OlderDatabaseReadsTheText) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  dbtest::WriteFile(aliases, "a: old\n");
  ASSERT_TRUE(CompileAliasDatabase(aliases).ok());
  dbtest::WriteFile(aliases, "a: new\n");
  dbtest::SetMtime(aliases + ".lmdb", 1000000000);
  dbtest::SetMtime(aliases, 1000000001);
  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok());
  EXPECT_THAT((*table)->warnings(),
              ElementsAre(aliases + ".lmdb is older than " + aliases +
                          ": reading the text file; run newaliases"));
  EXPECT_THAT(MustLookup(**table, "a"), ElementsAre(AliasTarget{K::kAddress, "new"}));

  // Same time: the database counts as current.
  dbtest::SetMtime(aliases + ".lmdb", 1000000001);
  auto current = OpenAliasTable(aliases);
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE((*current)->warnings().empty());
  EXPECT_THAT(MustLookup(**current, "a"), ElementsAre(AliasTarget{K::kAddress, "old"}));
}

TEST(AliasTableFallback, DatabaseWithoutTextIsUsed) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  dbtest::WriteFile(aliases, "a: b\n");
  ASSERT_TRUE(CompileAliasDatabase(aliases).ok());
  ASSERT_EQ(::unlink(aliases.c_str()), 0);
  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE((*table)->warnings().empty());
  EXPECT_THAT(MustLookup(**table, "a"), ElementsAre(AliasTarget{K::kAddress, "b"}));
}

TEST(AliasTableFallback, CorruptDatabaseReadsTheText) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  std::string db = aliases + ".lmdb";
  dbtest::WriteFile(aliases, "a: b\n");
  dbtest::SetMtime(aliases, 1000000000);
  dbtest::WriteFile(db, dbtest::GarbageBytes(8192, 7));
  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ((*table)->warnings().size(), 1u);
  EXPECT_THAT((*table)->warnings()[0],
              HasSubstr(db + ": not an LMDB database ("));
  EXPECT_THAT((*table)->warnings()[0],
              HasSubstr("reading " + aliases + " instead; run newaliases"));
  EXPECT_THAT(MustLookup(**table, "a"), ElementsAre(AliasTarget{K::kAddress, "b"}));

  // newaliases repairs it.
  ASSERT_TRUE(CompileAliasDatabase(aliases).ok());
  auto repaired = OpenAliasTable(aliases);
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE((*repaired)->warnings().empty());

  // Without the text file, a corrupt database is the error.
  dbtest::WriteFile(db, dbtest::GarbageBytes(8192, 8));
  ASSERT_EQ(::unlink(aliases.c_str()), 0);
  auto broken = OpenAliasTable(aliases);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(broken.status().message()), HasSubstr(db));
}

TEST(AliasTableFallback, TruncatedOrEmptyDatabaseReadsTheText) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  std::string db = aliases + ".lmdb";
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "u" + std::to_string(i) + ": t\n";
  dbtest::WriteFile(aliases, text);
  ASSERT_TRUE(CompileAliasDatabase(aliases).ok());
  dbtest::SetMtime(aliases, 1000000000);
  ASSERT_EQ(::truncate(db.c_str(), 4 * 4096), 0);
  auto table = OpenAliasTable(aliases);
  ASSERT_TRUE(table.ok());
  ASSERT_EQ((*table)->warnings().size(), 1u);
  EXPECT_THAT((*table)->warnings()[0], HasSubstr("truncated LMDB database"));
  EXPECT_EQ(MustLookup(**table, "u2999").size(), 1u);

  ASSERT_EQ(::truncate(db.c_str(), 0), 0);
  auto empty = OpenAliasTable(aliases);
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT((*empty)->warnings(),
              ElementsAre(db + ": not an LMDB database (empty file): reading " +
                          aliases + " instead; run newaliases"));
}

TEST(AliasTableFallback, TextErrorsAreReturned) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  dbtest::WriteFile(aliases, "no colon here\n");
  auto table = OpenAliasTable(aliases);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().message(),
            aliases + ":1: missing ':' after the alias name");
}

TEST(MemoryAliasTable, LooksUpCaseInsensitively) {
  auto parsed = ParseAliases("Root: admin\nb: c\n", "aliases");
  ASSERT_TRUE(parsed.ok());
  auto table = MakeAliasTable(*parsed);
  EXPECT_THAT(MustLookup(*table, "ROOT"), ElementsAre(AliasTarget{K::kAddress, "admin"}));
  EXPECT_THAT(Names(*table), ElementsAre("b", "root"));
  EXPECT_FALSE(table->Lookup("x")->has_value());
}

}  // namespace
}  // namespace posthorn::store
