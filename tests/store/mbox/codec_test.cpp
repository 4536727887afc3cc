// Unit tests of the mbox byte formats: the "From " line, mboxrd quoting
// on append (MboxrdEncoder) and on read (MboxrdDecoder), TOP limits, and
// the index file format. Every input is also fed split at every offset,
// and decoded into output buffers of every size from one byte up.

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "store/mbox/from_line.h"
#include "store/mbox/index_format.h"
#include "store/mbox/mboxrd_decoder.h"
#include "store/mbox/mboxrd_encoder.h"
#include "store/mbox/uid.h"

namespace posthorn::store::mbox {
namespace {

std::string Encode(std::string_view input, std::size_t split = 0,
                   std::uint64_t* wire_size = nullptr) {
  MboxrdEncoder encoder;
  std::string out;
  if (split > 0 && split < input.size()) {
    encoder.Feed(input.substr(0, split), &out);
    encoder.Feed(input.substr(split), &out);
  } else {
    encoder.Feed(input, &out);
  }
  encoder.Finish(&out);
  EXPECT_EQ(encoder.stored_size(), out.size());
  if (wire_size) *wire_size = encoder.wire_size();
  return out;
}

// Decodes with input chunks of `in_chunk` bytes and output room `out_room`.
std::string Decode(std::string_view stored, std::size_t in_chunk,
                   std::size_t out_room,
                   std::optional<std::uint64_t> top = std::nullopt) {
  MboxrdDecoder decoder(top);
  std::string out;
  std::string room(out_room, '\0');
  std::size_t pos = 0;
  std::string_view window;
  for (int guard = 0; guard < 1000000 && !decoder.done(); ++guard) {
    if (window.empty() && pos < stored.size()) {
      std::size_t n = std::min(in_chunk, stored.size() - pos);
      window = stored.substr(pos, n);
      pos += n;
    }
    bool end = pos == stored.size();
    std::size_t n = decoder.Decode(&window, end, room.data(), room.size());
    out.append(room.data(), n);
  }
  EXPECT_TRUE(decoder.done());
  return out;
}

TEST(FromLine, AsctimeInUtc) {
  EXPECT_EQ(FormatFromLine("bob@example.org", absl::FromUnixSeconds(0)),
            "From bob@example.org Thu Jan  1 00:00:00 1970\n");
  EXPECT_EQ(FormatFromLine("", absl::FromUnixSeconds(1700000000)),
            "From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n");
  // A sender with spaces or controls stays one word.
  EXPECT_EQ(FormatFromLine("\"a b\"@x\t", absl::FromUnixSeconds(0)),
            "From \"a_b\"@x_ Thu Jan  1 00:00:00 1970\n");
}

TEST(Encoder, QuotesFromLinesMboxrd) {
  EXPECT_EQ(Encode("From me\n"), ">From me\n");
  EXPECT_EQ(Encode("a\nFrom x\n>From y\n>>From z\n"),
            "a\n>From x\n>>From y\n>>>From z\n");
  // Not quoted: no space, not at line start, other text after '>'.
  EXPECT_EQ(Encode("Fromage\n x From y\n>Fro\n>> From\n"),
            "Fromage\n x From y\n>Fro\n>> From\n");
}

TEST(Encoder, CrlfToLfAndFinalNewline) {
  EXPECT_EQ(Encode("a\r\nb\r\n"), "a\nb\n");
  EXPECT_EQ(Encode("a\r\nb"), "a\nb\n");
  EXPECT_EQ(Encode("a\rb\r\n\r"), "a\rb\n\r\n");  // lone CRs are content
  EXPECT_EQ(Encode(""), "");
  EXPECT_EQ(Encode(">Fr"), ">Fr\n");
  EXPECT_EQ(Encode("\r\nFrom x\r\n"), "\n>From x\n");
}

TEST(Encoder, WireSizeIsCrlfOctetsOfTheDecodedForm) {
  for (std::string input :
       {"Subject: x\r\n\r\nbody\r\n", "From a\n>From b\nx", "", "\n",
        "a\rb\n", ">>>From \n\n\n"}) {
    std::uint64_t wire = 0;
    std::string stored = Encode(input, 0, &wire);
    EXPECT_EQ(Decode(stored, 4096, 4096).size(), wire) << input;
  }
}

TEST(Codec, RoundTripAtEveryInputSplitAndOutputSize) {
  const std::string message =
      "From: a@b\r\nSubject: From here\r\n\r\nFrom the start\r\n"
      ">From quoted\r\n>>From twice\r\nplain\r\n>\r\nFro\r\nlast line";
  std::string expected_wire =
      "From: a@b\r\nSubject: From here\r\n\r\nFrom the start\r\n"
      ">From quoted\r\n>>From twice\r\nplain\r\n>\r\nFro\r\nlast line\r\n";
  std::string reference = Encode(message);
  for (std::size_t split = 1; split < message.size(); ++split) {
    ASSERT_EQ(Encode(message, split), reference) << split;
  }
  for (std::size_t in_chunk : {1, 2, 3, 5, 7, 64, 4096}) {
    for (std::size_t room = 1; room <= 9; ++room) {
      ASSERT_EQ(Decode(reference, in_chunk, room), expected_wire)
          << in_chunk << " " << room;
    }
  }
}

TEST(Codec, LongRunOfQuotesRoundTrips) {
  std::string line = std::string(100000, '>') + "From x\n";
  std::string stored = Encode(line);
  EXPECT_EQ(stored, ">" + line);
  EXPECT_EQ(Decode(stored, 1000, 333), std::string(100000, '>') + "From x\r\n");
  std::string plain = std::string(5000, '>') + "Frog\n";
  EXPECT_EQ(Encode(plain, 2500), plain);
}

TEST(Decoder, TopLimits) {
  std::string stored = Encode("H: 1\nH2: 2\n\nb1\n>From b2\nb3\n");
  EXPECT_EQ(Decode(stored, 64, 64, 0), "H: 1\r\nH2: 2\r\n\r\n");
  EXPECT_EQ(Decode(stored, 64, 64, 1), "H: 1\r\nH2: 2\r\n\r\nb1\r\n");
  EXPECT_EQ(Decode(stored, 3, 1, 2),
            "H: 1\r\nH2: 2\r\n\r\nb1\r\n>From b2\r\n");
  EXPECT_EQ(Decode(stored, 64, 64, 100),
            "H: 1\r\nH2: 2\r\n\r\nb1\r\n>From b2\r\nb3\r\n");
  // No body at all: the whole header section.
  std::string headers_only = Encode("H: 1\nH2: 2\n");
  EXPECT_EQ(Decode(headers_only, 64, 64, 0), "H: 1\r\nH2: 2\r\n");
  EXPECT_EQ(Decode(headers_only, 64, 64, 5), "H: 1\r\nH2: 2\r\n");
}

TEST(Uid, PrintableFixedLengthAndUniqueSuffixes) {
  UidDigest a;
  a.Update("From x\nbody\n");
  std::string id = a.Finish();
  EXPECT_EQ(id.size(), 22u);
  for (char c : id) EXPECT_TRUE(c >= 0x21 && c <= 0x7E);
  std::vector<std::string> ids = {id, id, id + "-2", id, "other"};
  std::vector<std::string*> pointers;
  for (auto& s : ids) pointers.push_back(&s);
  EXPECT_TRUE(MakeUidsUnique(pointers));
  EXPECT_EQ(ids[0], id);
  EXPECT_EQ(ids[1], id + "-2");
  EXPECT_EQ(ids[2], id + "-2-2");
  EXPECT_EQ(ids[3], id + "-3");
  EXPECT_EQ(ids[4], "other");
}

TEST(IndexFormat, RoundTripAppendAndCorruption) {
  MboxIdentity identity{.dev = 1, .ino = 2, .size = 30, .mtime_ns = 99};
  std::vector<IndexEntry> entries = {
      {.offset = 0, .disk_length = 10, .wire_size = 7, .from_line_length = 5,
       .content_length = 4, .uid = "aaa"},
      {.offset = 10, .disk_length = 20, .wire_size = 15,
       .from_line_length = 6, .content_length = 13, .uid = "bbb"}};
  std::string bytes = SerializeIndex(identity, entries);
  auto parsed = ParseIndex(bytes, "idx");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->entries, entries);
  EXPECT_EQ(parsed->identity, identity);
  EXPECT_FALSE(parsed->trailing_garbage);

  MboxIdentity grown = identity;
  grown.size = 40;
  IndexEntry third{.offset = 30, .disk_length = 10, .wire_size = 5,
                   .from_line_length = 5, .content_length = 4, .uid = "ccc"};
  std::string appended = bytes + SerializeAppend(third, grown, 3);
  ASSERT_TRUE(ParseTrailingStamp(appended).has_value());
  EXPECT_EQ(ParseTrailingStamp(appended)->identity, grown);
  parsed = ParseIndex(appended, "idx");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->entries.size(), 3u);

  // A torn append falls back to the last valid stamp.
  std::string torn = appended.substr(0, appended.size() - 10);
  parsed = ParseIndex(torn, "idx");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->entries.size(), 2u);
  EXPECT_TRUE(parsed->trailing_garbage);
  EXPECT_FALSE(ParseTrailingStamp(torn).has_value());

  // A flipped byte in an entry: that entry and all after are ignored,
  // which leaves no stamp -> corrupt.
  std::string flipped = bytes;
  flipped[20] ^= 0x40;
  EXPECT_EQ(ParseIndex(flipped, "idx").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseIndex("garbage", "idx").status().code(),
            absl::StatusCode::kDataLoss);
  // Entries that do not tile the file.
  entries[1].offset = 11;
  EXPECT_FALSE(ParseIndex(SerializeIndex(identity, entries), "idx").ok());
}

}  // namespace
}  // namespace posthorn::store::mbox
