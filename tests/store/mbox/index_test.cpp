// The index beside an mbox: trusted when it matches, extended by a tail
// scan when another program appended, rebuilt when missing, corrupt or
// describing another file; never the cause of a lost message.

#include <fcntl.h>

#include "gtest/gtest.h"
#include "store/fs/file_util.h"
#include "store/mbox/index_store.h"
#include "store/mbox/mbox_paths.h"
#include "tests/store/mbox/mbox_test_util.h"

namespace posthorn::store {
namespace {

using mbox::ListMessages;
using mbox::MboxListing;
using mbox::MboxPaths;
using mbox_testing::AppendFile;
using mbox_testing::DeliverString;
using mbox_testing::ListAll;
using mbox_testing::MakeStore;
using mbox_testing::ReadFile;
using mbox_testing::TempDir;
using mbox_testing::TestOptions;
using mbox_testing::WriteFile;

class MboxIndexTest : public ::testing::Test {
 protected:
  MboxIndexTest()
      : options_(TestOptions(dir_.path())),
        store_(MakeStore(options_)),
        paths_(MboxPaths::For(dir_.path(), "alice")) {}

  void DeliverSome(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(DeliverString(*store_, "alice",
                                "N: " + std::to_string(count_++) +
                                    "\n\nFrom inside\n")
                      .ok());
    }
  }

  // How the next session would list the mbox (the test holds no lock:
  // nothing else runs).
  MboxListing::Source ListingSource() {
    auto fd = fs::OpenFile(paths_.mbox, O_RDONLY);
    EXPECT_TRUE(fd.ok());
    auto listing = ListMessages(paths_, options_, fd->get());
    EXPECT_TRUE(listing.ok()) << listing.status();
    return listing->source;
  }

  TempDir dir_;
  MboxStoreOptions options_;
  std::unique_ptr<Mailstore> store_;
  MboxPaths paths_;
  int count_ = 0;
};

TEST_F(MboxIndexTest, DeliveriesKeepTheIndexCurrent) {
  DeliverSome(5);
  EXPECT_TRUE(std::filesystem::exists(paths_.index));
  EXPECT_EQ(ListingSource(), MboxListing::Source::kIndex);
  // Still current after a commit.
  {
    auto session = store_->OpenSession("alice");
    ASSERT_TRUE(session.ok());
    std::vector<std::size_t> deleted = {1};
    ASSERT_TRUE((*session)->Commit(deleted).ok());
  }
  EXPECT_EQ(ListingSource(), MboxListing::Source::kIndex);
  DeliverSome(1);
  EXPECT_EQ(ListingSource(), MboxListing::Source::kIndex);
}

TEST_F(MboxIndexTest, OutsideAppendIsFoundByATailScan) {
  DeliverSome(3);
  auto before = ListAll(*store_, "alice");
  ASSERT_TRUE(before.ok());
  // Another program appends, in the format python's mailbox writes.
  AppendFile(paths_.mbox,
             "From someone@example.org Mon Jan  1 00:00:00 2024\n"
             "Subject: outside\n\n>From quoted by python\nend\n\n");
  EXPECT_EQ(ListingSource(), MboxListing::Source::kIndexAndTail);
  auto after = ListAll(*store_, "alice");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*after)[i].uid, (*before)[i].uid);
  }
  EXPECT_EQ((*after)[3].bytes,
            "Subject: outside\r\n\r\nFrom quoted by python\r\nend\r\n");
  EXPECT_EQ((*after)[3].size, (*after)[3].bytes.size());
  EXPECT_EQ(ListingSource(), MboxListing::Source::kIndex);  // rewritten
}

TEST_F(MboxIndexTest, CorruptIndexIsRebuiltWithNothingLost) {
  DeliverSome(4);
  auto before = ListAll(*store_, "alice");
  ASSERT_TRUE(before.ok());
  std::string index = ReadFile(paths_.index);
  for (std::size_t at : {std::size_t{3}, std::size_t{20}, index.size() / 2,
                         index.size() - 3}) {
    std::string damaged = index;
    damaged[at] ^= 0x5A;
    WriteFile(paths_.index, damaged);
    auto after = ListAll(*store_, "alice");
    ASSERT_TRUE(after.ok()) << at;
    ASSERT_EQ(after->size(), before->size()) << at;
    for (std::size_t i = 0; i < before->size(); ++i) {
      EXPECT_EQ((*after)[i].uid, (*before)[i].uid);
      EXPECT_EQ((*after)[i].bytes, (*before)[i].bytes);
    }
  }
  WriteFile(paths_.index, "not an index at all");
  auto after = ListAll(*store_, "alice");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size());
  EXPECT_EQ(ListingSource(), MboxListing::Source::kIndex);
}

TEST_F(MboxIndexTest, MissingIndexIsRebuilt) {
  DeliverSome(3);
  auto before = ListAll(*store_, "alice");
  ASSERT_TRUE(before.ok());
  std::filesystem::remove(paths_.index);
  EXPECT_EQ(ListingSource(), MboxListing::Source::kFullScan);
  EXPECT_TRUE(std::filesystem::exists(paths_.index));
  EXPECT_EQ(ListingSource(), MboxListing::Source::kIndex);
  auto after = ListAll(*store_, "alice");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*after)[i].uid, (*before)[i].uid);
  }
}

TEST_F(MboxIndexTest, IndexOfAnotherFileIsNotTrusted) {
  DeliverSome(3);
  // Another program rewrites the mbox (new inode), dropping a message.
  std::string content = ReadFile(paths_.mbox);
  std::size_t second = content.find("\nFrom ") + 1;
  std::filesystem::remove(paths_.mbox);
  WriteFile(paths_.mbox, content.substr(second));
  EXPECT_EQ(ListingSource(), MboxListing::Source::kFullScan);
  auto after = ListAll(*store_, "alice");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].bytes.substr(0, 5), "N: 1\r");
}

TEST_F(MboxIndexTest, SameSizeRewriteInPlaceIsNotTrusted) {
  DeliverSome(2);
  std::string content = ReadFile(paths_.mbox);
  std::size_t at = content.find("N: 1");
  content[at + 3] = '7';
  // Same inode, same size, new mtime.
  absl::SleepFor(absl::Milliseconds(20));
  WriteFile(paths_.mbox, content);
  EXPECT_EQ(ListingSource(), MboxListing::Source::kFullScan);
  auto after = ListAll(*store_, "alice");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)[1].bytes.substr(0, 5), "N: 7\r");
}

}  // namespace
}  // namespace posthorn::store
