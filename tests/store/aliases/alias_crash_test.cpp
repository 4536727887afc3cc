// tests/store/aliases/alias_crash_test.cpp — newaliases killed (SIGKILL)
// at every crash point: the database is afterwards the old one or the new
// one, whole, and lookups work; temporary files of killed runs are removed
// by the next run.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posthorn/store/aliases.h"
#include "store/aliases/db_test_util.h"
#include "tests/store/common/crash_util.h"

namespace posthorn::store {
namespace {

using dbtest::TempDir;
using testing::ChildEnd;
using testing::RunChildWithCrashAfter;

std::string Text(int version, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += "alias" + std::to_string(i) + ": v" + std::to_string(version) +
            "-target" + std::to_string(i) + ", shared\n";
  }
  return text;
}

// "name=target,..." of every alias, or "" when the table cannot be read.
std::string Snapshot(const AliasTable& table) {
  auto all = table.All();
  if (!all.ok()) return "";
  std::string out;
  for (const AliasEntry& e : *all) {
    out += e.name + "=";
    for (const AliasTarget& t : e.targets) out += t.value + ",";
    out += ";";
  }
  return out;
}

std::string SnapshotOfText(const std::string& text) {
  auto parsed = ParseAliases(text, "x");
  if (!parsed.ok()) return "";
  return Snapshot(*MakeAliasTable(*parsed));
}

TEST(AliasCrash, NewaliasesKilledAtEveryStepLeavesOldOrNew) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  const std::string old_text = Text(1, 8);
  const std::string new_text = Text(2, 12);
  dbtest::WriteFile(aliases, old_text);
  ASSERT_TRUE(CompileAliasDatabase(aliases).ok());
  dbtest::WriteFile(aliases, new_text);
  // The text's mtime far in the past: OpenAliasTable always reads the
  // database, so we see exactly what a crash left there.
  dbtest::SetMtime(aliases, 1000000000);
  const std::string old_snapshot = SnapshotOfText(old_text);
  const std::string new_snapshot = SnapshotOfText(new_text);
  ASSERT_NE(old_snapshot, new_snapshot);

  int killed = 0;
  int saw_new = 0;
  for (std::int64_t n = 1; n < 500; ++n) {
    ChildEnd end = RunChildWithCrashAfter(
        n, [&] { return CompileAliasDatabase(aliases).ok(); });
    ASSERT_NE(end, ChildEnd::kFailed) << "at crash point " << n;
    auto table = OpenAliasTable(aliases);
    ASSERT_TRUE(table.ok()) << "at crash point " << n << ": " << table.status();
    EXPECT_TRUE((*table)->warnings().empty()) << "at crash point " << n;
    std::string snapshot = Snapshot(**table);
    ASSERT_TRUE(snapshot == old_snapshot || snapshot == new_snapshot)
        << "at crash point " << n << ": " << snapshot;
    if (snapshot == new_snapshot) {
      ++saw_new;
      auto found = (*table)->Lookup("ALIAS11");
      ASSERT_TRUE(found.ok() && found->has_value());
      EXPECT_EQ((**found)[0].value, "v2-target11");
    } else {
      EXPECT_FALSE((*table)->Lookup("alias11")->has_value());
    }
    if (end == ChildEnd::kCompleted) {
      EXPECT_EQ(snapshot, new_snapshot);
      break;
    }
    ++killed;
  }
  // Every entry put, the commit, the sync, the rename and the folder sync
  // are separate kill points.
  EXPECT_GE(killed, 15);
  EXPECT_GE(saw_new, 1);
  // The completed run removed the temporaries of the killed ones.
  std::vector<std::string> files = dir.Names();
  std::sort(files.begin(), files.end());
  EXPECT_THAT(files, ::testing::ElementsAre("aliases", "aliases.lmdb"));
}

TEST(AliasCrash, FirstNewaliasesKilledLeavesNoDatabaseOrANewOne) {
  TempDir dir;
  std::string aliases = dir.File("aliases");
  const std::string text = Text(3, 5);
  dbtest::WriteFile(aliases, text);
  const std::string expected = SnapshotOfText(text);
  for (std::int64_t n = 1; n < 500; ++n) {
    ChildEnd end = RunChildWithCrashAfter(
        n, [&] { return CompileAliasDatabase(aliases).ok(); });
    ASSERT_NE(end, ChildEnd::kFailed) << "at crash point " << n;
    bool has_db = dbtest::Exists(aliases + ".lmdb");
    auto table = OpenAliasTable(aliases);
    ASSERT_TRUE(table.ok()) << table.status();
    // Either the text (with the "missing" warning) or the new database.
    EXPECT_EQ((*table)->warnings().empty(), has_db) << "at crash point " << n;
    EXPECT_EQ(Snapshot(**table), expected) << "at crash point " << n;
    if (end == ChildEnd::kCompleted) {
      EXPECT_TRUE(has_db);
      break;
    }
  }
}

}  // namespace
}  // namespace posthorn::store
