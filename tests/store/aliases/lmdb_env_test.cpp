// tests/store/aliases/lmdb_env_test.cpp — the LMDB wrapper
// (src/store/lmdb/lmdb_env.h): open modes, errors naming the path, map
// growth, iteration, the kind marker and refusal of damaged files.

#include "store/lmdb/lmdb_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/aliases/db_test_util.h"

namespace posthorn::store::lmdb {
namespace {

using dbtest::TempDir;
using ::testing::HasSubstr;

std::unique_ptr<Env> MustOpen(const std::string& path, EnvOptions options) {
  auto env = Env::Open(path, options);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

TEST(LmdbEnv, MissingFileIsNotFoundUnlessCreating) {
  TempDir dir;
  auto env = Env::Open(dir.File("db"), {});
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(env.status().message()), HasSubstr(dir.File("db")));
  EXPECT_FALSE(dbtest::Exists(dir.File("db")));

  auto created = MustOpen(dir.File("db"), {.create = true});
  ASSERT_NE(created, nullptr);
  EXPECT_TRUE(dbtest::Exists(dir.File("db")));
  EXPECT_TRUE(dbtest::Exists(dir.File("db-lock")));  // MDB_NOSUBDIR
}

TEST(LmdbEnv, NoLockMakesNoLockFile) {
  TempDir dir;
  auto env = MustOpen(dir.File("db"), {.no_lock = true, .create = true});
  ASSERT_NE(env, nullptr);
  EXPECT_FALSE(dbtest::Exists(dir.File("db-lock")));
}

TEST(LmdbEnv, PutGetDelForEach) {
  TempDir dir;
  auto env = MustOpen(dir.File("db"), {.create = true});
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(env->Write([](Txn& txn) -> absl::Status {
                   for (const char* k : {"b", "a", "c"}) {
                     if (auto s = txn.Put(k, std::string("v") + k); !s.ok()) {
                       return s;
                     }
                   }
                   return absl::OkStatus();
                 }).ok());
  ASSERT_TRUE(env->Read([](const Txn& txn) -> absl::Status {
                   auto v = txn.Get("a");
                   EXPECT_TRUE(v.ok());
                   EXPECT_EQ(v->value_or("?"), "va");
                   auto missing = txn.Get("zz");
                   EXPECT_TRUE(missing.ok());
                   EXPECT_FALSE(missing->has_value());
                   std::vector<std::string> keys;
                   EXPECT_TRUE(txn.ForEach([&](std::string_view k,
                                               std::string_view) {
                                    keys.emplace_back(k);
                                    return absl::OkStatus();
                                  }).ok());
                   EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c"}));
                   return absl::OkStatus();
                 }).ok());
  absl::Status del = env->Write([](Txn& txn) { return txn.Del("nope"); });
  EXPECT_EQ(del.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(env->Write([](Txn& txn) { return txn.Del("b"); }).ok());
  EXPECT_TRUE(env->Read([](const Txn& txn) -> absl::Status {
                   EXPECT_FALSE(txn.Get("b")->has_value());
                   return absl::OkStatus();
                 }).ok());
}

TEST(LmdbEnv, FailedCallbackAbortsTheTransaction) {
  TempDir dir;
  auto env = MustOpen(dir.File("db"), {.create = true});
  ASSERT_NE(env, nullptr);
  absl::Status s = env->Write([](Txn& txn) -> absl::Status {
    EXPECT_TRUE(txn.Put("k", "v").ok());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(env->Read([](const Txn& txn) -> absl::Status {
                   EXPECT_FALSE(txn.Get("k")->has_value());
                   return absl::OkStatus();
                 }).ok());
}

TEST(LmdbEnv, KeyLimits) {
  TempDir dir;
  auto env = MustOpen(dir.File("db"), {.create = true});
  ASSERT_NE(env, nullptr);
  absl::Status s = env->Write(
      [](Txn& txn) { return txn.Put(std::string(kMaxKeySize + 1, 'k'), "v"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(env->Write([](Txn& txn) {
                   return txn.Put(std::string(kMaxKeySize, 'k'), "v");
                 }).ok());
}

TEST(LmdbEnv, WritersGrowTheMap) {
  TempDir dir;
  auto env = MustOpen(dir.File("db"),
                      {.create = true, .initial_map_size = 64 * 1024});
  ASSERT_NE(env, nullptr);
  std::string value(4000, 'x');
  // 4 MB into a 64 KiB map: MDB_MAP_FULL, grow, rerun, several times.
  absl::Status s = env->Write([&](Txn& txn) -> absl::Status {
    for (int i = 0; i < 1000; ++i) {
      if (auto p = txn.Put("key" + std::to_string(i), value); !p.ok()) return p;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  env.reset();
  auto reopened = MustOpen(dir.File("db"), {.read_only = true});
  ASSERT_NE(reopened, nullptr);
  int count = 0;
  EXPECT_TRUE(reopened->Read([&](const Txn& txn) {
                   return txn.ForEach([&](std::string_view, std::string_view v) {
                     EXPECT_EQ(v.size(), value.size());
                     ++count;
                     return absl::OkStatus();
                   });
                 }).ok());
  EXPECT_EQ(count, 1000);
}

TEST(LmdbEnv, ReadOnlyEnvRefusesWrites) {
  TempDir dir;
  MustOpen(dir.File("db"), {.create = true});
  auto env = MustOpen(dir.File("db"), {.read_only = true});
  ASSERT_NE(env, nullptr);
  absl::Status s = env->Write([](Txn& txn) { return txn.Put("k", "v"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LmdbEnv, GarbageEmptyAndTruncatedFilesAreDataLoss) {
  TempDir dir;
  dbtest::WriteFile(dir.File("garbage"), dbtest::GarbageBytes(16384, 1));
  auto garbage = Env::Open(dir.File("garbage"), {.read_only = true});
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(garbage.status().message(),
            dir.File("garbage") + ": not an LMDB database (" +
                mdb_strerror(MDB_INVALID) + ")");
  // Writable opening must not "repair" it either.
  EXPECT_FALSE(Env::Open(dir.File("garbage"), {}).ok());
  EXPECT_EQ(dbtest::ReadFile(dir.File("garbage")),
            dbtest::GarbageBytes(16384, 1));

  dbtest::WriteFile(dir.File("empty"), "");
  auto empty = Env::Open(dir.File("empty"), {.create = true});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(empty.status().message(),
            dir.File("empty") + ": not an LMDB database (empty file)");

  dbtest::WriteFile(dir.File("short"), "tiny");
  EXPECT_EQ(Env::Open(dir.File("short"), {.read_only = true}).status().code(),
            absl::StatusCode::kDataLoss);

  // A real database cut short: the meta page names pages past the end.
  {
    auto env = MustOpen(dir.File("big"), {.no_lock = true, .create = true});
    ASSERT_NE(env, nullptr);
    ASSERT_TRUE(env->Write([](Txn& txn) -> absl::Status {
                     for (int i = 0; i < 2000; ++i) {
                       auto s = txn.Put("k" + std::to_string(i),
                                        std::string(100, 'v'));
                       if (!s.ok()) return s;
                     }
                     return absl::OkStatus();
                   }).ok());
  }
  ASSERT_EQ(::truncate(dir.File("big").c_str(), 3 * 4096), 0);
  auto truncated = Env::Open(dir.File("big"), {.read_only = true, .no_lock = true});
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(truncated.status().message()),
              HasSubstr(dir.File("big") + ": truncated LMDB database"));

  ::mkdir(dir.File("folder").c_str(), 0700);
  EXPECT_EQ(Env::Open(dir.File("folder"), {}).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(LmdbEnv, KindMarker) {
  TempDir dir;
  auto env = MustOpen(dir.File("db"), {.create = true});
  ASSERT_NE(env, nullptr);
  absl::Status none = CheckKind(*env, "test-v1", "test database");
  EXPECT_EQ(none.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(none.message(), dir.File("db") +
                                ": not a posthorn test database (an LMDB "
                                "database without kind marker)");
  ASSERT_TRUE(env->Write([](Txn& txn) { return PutKind(txn, "other-v1"); }).ok());
  absl::Status other = CheckKind(*env, "test-v1", "test database");
  EXPECT_EQ(other.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(other.message(),
            dir.File("db") + ": not a posthorn test database (it is marked "
                             "\"other-v1\", not \"test-v1\")");
  ASSERT_TRUE(env->Write([](Txn& txn) { return PutKind(txn, "test-v1"); }).ok());
  EXPECT_TRUE(CheckKind(*env, "test-v1", "test database").ok());
}

TEST(LmdbEnv, ClearEmptiesTheDatabase) {
  TempDir dir;
  auto env = MustOpen(dir.File("db"), {.create = true});
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(env->Write([](Txn& txn) { return txn.Put("a", "1"); }).ok());
  ASSERT_TRUE(env->Write([](Txn& txn) { return txn.Clear(); }).ok());
  EXPECT_TRUE(env->Read([](const Txn& txn) -> absl::Status {
                   EXPECT_FALSE(txn.Get("a")->has_value());
                   return absl::OkStatus();
                 }).ok());
}

}  // namespace
}  // namespace posthorn::store::lmdb
