// The envelope file format: round trips (odd bytes included), strictness,
// limits, and a parser that refuses every truncation and every bit flip of
// a valid file without crashing.

#include "store/queue/envelope_format.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "posthorn/store/queue.h"
#include "store/queue/queue_id.h"
#include "store/queue/xtext.h"
#include "tests/store/queue/queue_test_util.h"

namespace posthorn::store::queue {
namespace {

using testing::AllBytes;
using testing::ExpectSameEnvelope;
using testing::OddEnvelope;
using testing::SampleEnvelope;
using testing::SampleTime;

QueueEnvelope RoundTrip(const QueueEnvelope& e) {
  absl::StatusOr<std::string> text = SerializeEnvelope(e);
  EXPECT_TRUE(text.ok()) << text.status();
  if (!text.ok()) return {};
  absl::StatusOr<QueueEnvelope> parsed = ParseEnvelope(*text, "test.env");
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << *text;
  if (!parsed.ok()) return {};
  return *parsed;
}

TEST(Xtext, RoundTripsEveryByteAndSpellsEachValueOnce) {
  std::string token;
  AppendXtextToken(AllBytes(), token);
  for (char c : token) {
    EXPECT_TRUE(c > ' ' && c <= '~') << static_cast<int>(c);
  }
  EXPECT_EQ(DecodeXtextToken(token), AllBytes());
  token.clear();
  AppendXtextToken("", token);
  EXPECT_EQ(token, "=");
  EXPECT_EQ(DecodeXtextToken("="), "");
  EXPECT_EQ(DecodeXtextToken("a+2Bb"), "a+b");
  for (std::string_view bad :
       {"", "+", "+2", "+2b", "a=b", "==", "+41", "a b", "+zz", "a\x7f"}) {
    EXPECT_FALSE(DecodeXtextToken(bad).has_value()) << bad;
  }
}

TEST(EnvelopeFormat, RoundTripsAPlainEnvelope) {
  QueueEnvelope e = SampleEnvelope();
  e.id = NewQueueId();
  e.size = 4096;
  QueueEnvelope back = RoundTrip(e);
  EXPECT_EQ(back.id, e.id);
  EXPECT_EQ(back.size, e.size);
  ExpectSameEnvelope(back, e);
}

TEST(EnvelopeFormat, RoundTripsOddBytesAndExtremes) {
  QueueEnvelope e = OddEnvelope();
  QueueEnvelope back = RoundTrip(e);
  EXPECT_EQ(back.id, e.id);
  EXPECT_EQ(back.size, e.size);
  ExpectSameEnvelope(back, e);
}

TEST(EnvelopeFormat, NoFieldCanInjectALine) {
  QueueEnvelope e = OddEnvelope();
  absl::StatusOr<std::string> text = SerializeEnvelope(e);
  ASSERT_TRUE(text.ok());
  int lines = 0;
  for (char c : *text) {
    if (c == '\n') ++lines;
    EXPECT_NE(c, '\r');
    EXPECT_NE(c, '\0');
  }
  // magic, 11 header records, 3 rcpt, end.
  EXPECT_EQ(lines, 1 + 11 + 3 + 1);
}

TEST(EnvelopeFormat, TimesKeepTheirValue) {
  QueueEnvelope e = SampleEnvelope();
  e.id = NewQueueId();
  for (absl::Time t :
       {absl::InfinitePast(), absl::InfiniteFuture(), absl::UnixEpoch(),
        SampleTime(-5), absl::FromUnixMicros(INT64_MIN + 1),
        absl::FromUnixMicros(INT64_MAX)}) {
    e.arrival = t;
    e.next_attempt = t;
    QueueEnvelope back = RoundTrip(e);
    EXPECT_EQ(back.arrival, t);
    EXPECT_EQ(back.next_attempt, t);
  }
}

TEST(EnvelopeFormat, LimitsAreEnforcedBothWays) {
  QueueEnvelope e = SampleEnvelope("a@b", 0);
  e.id = NewQueueId();
  e.recipients.resize(kMaxRecipients + 1);
  EXPECT_EQ(SerializeEnvelope(e).status().code(),
            absl::StatusCode::kInvalidArgument);
  e.recipients.resize(1);
  e.recipients[0].last_reply = std::string(kMaxEnvelopeBytes, 'x');
  EXPECT_EQ(SerializeEnvelope(e).status().code(),
            absl::StatusCode::kInvalidArgument);
  e.id = "not-an-id";
  e.recipients[0].last_reply = "ok";
  EXPECT_EQ(SerializeEnvelope(e).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(ParseEnvelope(std::string(kMaxEnvelopeBytes + 1, 'x'), "big.env")
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

std::string ValidText() {
  absl::StatusOr<std::string> text = SerializeEnvelope(OddEnvelope());
  EXPECT_TRUE(text.ok());
  return text.ok() ? *text : std::string();
}

TEST(EnvelopeParser, ErrorsNameTheFileAndLine) {
  std::string text = ValidText();
  std::size_t sender = text.find("\nsender ");
  std::string broken = text;
  broken.replace(sender + 1, 6, "sendxr");
  absl::Status status = ParseEnvelope(broken, "msg/X.env").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(status.message(), "msg/X.env line 3"))
      << status;

  std::string version = text;
  version.replace(version.find(" 1\n"), 2, " 2");
  status = ParseEnvelope(version, "v.env").status();
  EXPECT_TRUE(absl::StrContains(status.message(), "version")) << status;

  status = ParseEnvelope(text + "x\n", "t.env").status();
  EXPECT_TRUE(absl::StrContains(status.message(), "after the end")) << status;
}

TEST(EnvelopeParser, RefusesAHugeDeclaredRecipientCount) {
  QueueEnvelope e = SampleEnvelope("a@b", 0);
  e.id = NewQueueId();
  std::string text = *SerializeEnvelope(e);
  std::string many = text;
  many.replace(many.find("recipients 0"), 12, "recipients 99999");
  EXPECT_EQ(ParseEnvelope(many, "m.env").status().code(),
            absl::StatusCode::kDataLoss);
  many.replace(many.find("recipients 99999"), 16, "recipients 100001");
  EXPECT_EQ(ParseEnvelope(many, "m.env").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(EnvelopeParser, EveryTruncationIsRefused) {
  std::string text = ValidText();
  for (std::size_t n = 0; n < text.size(); ++n) {
    absl::StatusOr<QueueEnvelope> parsed =
        ParseEnvelope(std::string_view(text).substr(0, n), "cut.env");
    ASSERT_FALSE(parsed.ok()) << "accepted the first " << n << " bytes";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(EnvelopeParser, EveryBitFlipIsRefused) {
  std::string text = ValidText();
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = text;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      absl::StatusOr<QueueEnvelope> parsed = ParseEnvelope(flipped, "f.env");
      ASSERT_FALSE(parsed.ok())
          << "accepted a flip of bit " << bit << " of byte " << i;
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
    }
  }
}

TEST(EnvelopeParser, SurvivesGarbage) {
  // Deterministic pseudo-random garbage and spliced valid lines.
  std::string text = ValidText();
  std::uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  };
  for (int round = 0; round < 2000; ++round) {
    std::string garbage = text;
    int edits = 1 + static_cast<int>(next() % 8);
    for (int k = 0; k < edits; ++k) {
      std::size_t at = next() % garbage.size();
      switch (next() % 4) {
        case 0:
          garbage[at] = static_cast<char>(next());
          break;
        case 1:
          garbage.erase(at, next() % 40);
          break;
        case 2:
          garbage.insert(at, text.substr(next() % text.size(), 30));
          break;
        case 3:
          garbage.insert(at, 1, "\n \r\0+="[next() % 6]);
          break;
      }
      if (garbage.empty()) garbage = "x";
    }
    absl::StatusOr<QueueEnvelope> parsed = ParseEnvelope(garbage, "g.env");
    if (parsed.ok()) {
      // Only possible if the edits cancelled out.
      EXPECT_EQ(garbage, text);
    }
  }
}

}  // namespace
}  // namespace posthorn::store::queue
