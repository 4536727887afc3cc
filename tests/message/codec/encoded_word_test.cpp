// Tests of posthorn/message/encoded_word.h.

#include "posthorn/message/encoded_word.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "absl/strings/str_split.h"
#include "posthorn/message/charset.h"

namespace posthorn::message {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Decode(std::string_view in, Defects* defects = nullptr) {
  std::string out;
  DecodeUnstructured(in, &out, defects);
  return out;
}

// Removes folding: CRLF before WSP (RFC 5322 2.2.3).
std::string Unfold(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 2 < s.size() + 1 && i + 1 < s.size() &&
        s[i + 1] == '\n' && i + 2 < s.size() &&
        (s[i + 2] == ' ' || s[i + 2] == '\t')) {
      ++i;
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

// What a header parser gives back for an encoded value: unfolded and
// decoded; a fold that EncodeUnstructured put at the very start (when the
// first line had no room) adds a space, which the parser trims.
std::string RoundTrip(const std::string& enc, std::string_view original,
                      Defects* defects = nullptr) {
  std::string unfolded = Unfold(enc);
  if (enc.rfind("\r\n ", 0) == 0 &&
      (original.empty() || (original[0] != ' ' && original[0] != '\t'))) {
    unfolded.erase(0, 1);
  }
  return Decode(unfolded, defects);
}

// Every line of a header value started after `first_line_used` octets is
// at most 78 octets, every fold is CRLF followed by WSP, and no encoded
// word is longer than 75 octets.
void ExpectWellFolded(const std::string& value, std::size_t first_line_used) {
  std::size_t pos = 0;
  std::size_t used = first_line_used;
  while (true) {
    const std::size_t eol = value.find("\r\n", pos);
    std::size_t end = eol == std::string::npos ? value.size() : eol;
    if (eol == std::string::npos) {
      // Trailing white space is never folded (it would make a blank line).
      while (end > pos && (value[end - 1] == ' ' || value[end - 1] == '\t')) {
        --end;
      }
    }
    EXPECT_LE(used + (end - pos), 78u) << value;
    if (eol == std::string::npos) break;
    ASSERT_LT(eol + 2, value.size()) << "fold at the end: " << value;
    EXPECT_TRUE(value[eol + 2] == ' ' || value[eol + 2] == '\t') << value;
    pos = eol + 2;
    used = 0;
  }
  std::size_t w = 0;
  while ((w = value.find("=?", w)) != std::string::npos) {
    const std::size_t q1 = value.find('?', w + 2);
    const std::size_t q2 = value.find('?', q1 + 1);
    const std::size_t e = value.find("?=", q2 + 1);
    ASSERT_NE(e, std::string::npos);
    EXPECT_LE(e + 2 - w, 75u) << value.substr(w, e + 2 - w);
    w = e + 2;
  }
}

TEST(EncodedWordTest, Rfc2047Section8Table) {
  struct Case {
    std::string_view in, out;
  };
  const Case kCases[] = {
      {"(=?ISO-8859-1?Q?a?=)", "(a)"},
      {"(=?ISO-8859-1?Q?a?= b)", "(a b)"},
      {"(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=    =?ISO-8859-1?Q?b?=)", "(ab)"},  // unfolded
      {"(=?ISO-8859-1?Q?a_b?=)", "(a b)"},
      {"(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"},
  };
  for (const Case& c : kCases) {
    Defects defects;
    EXPECT_EQ(Decode(c.in, &defects), c.out) << c.in;
    EXPECT_THAT(defects, IsEmpty()) << c.in;
  }
}

TEST(EncodedWordTest, Rfc2047Section8Headers) {
  EXPECT_EQ(Decode("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>"),
            "Keith Moore <moore@cs.utk.edu>");
  EXPECT_EQ(Decode("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>"),
            "Keld J\xC3\xB8rn Simonsen <keld@dkuug.dk>");
  EXPECT_EQ(Decode("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>"),
            "Andr\xC3\xA9 Pirard <PIRARD@vm1.ulg.ac.be>");
  EXPECT_EQ(Decode("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=    "
                   "=?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?="),
            "If you can read this you understand the example.");
  EXPECT_EQ(Decode("=?ISO-8859-1?Q?Olle_J=E4rnefors?= <ojarnef@admin.kth.se>"),
            "Olle J\xC3\xA4rnefors <ojarnef@admin.kth.se>");
  EXPECT_EQ(Decode("Nathaniel Borenstein <nsb@thumper.bellcore.com> "
                   "(=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)"),
            "Nathaniel Borenstein <nsb@thumper.bellcore.com> "
            "(\xd7\x9d\xd7\x95\xd7\x9c\xd7\xa9 \xd7\x9f\xd7\x91 "
            "\xd7\x99\xd7\x9c\xd7\x98\xd7\xa4\xd7\xa0)");
  EXPECT_EQ(Decode("=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?= <paf@nada.kth.se>"),
            "Patrik F\xC3\xA4ltstr\xC3\xB6m <paf@nada.kth.se>");
}

TEST(EncodedWordTest, OneCharacterPerCharset) {
  struct Case {
    std::string_view charset, hex, utf8;
  };
  const Case kCases[] = {
      {"UTF-8", "=E2=82=AC", "\xE2\x82\xAC"},
      {"US-ASCII", "=41", "A"},
      {"iso-8859-1", "=E9", "\xC3\xA9"},
      {"iso-8859-2", "=B1", "\xC4\x85"},
      {"iso-8859-3", "=A1", "\xC4\xA6"},
      {"iso-8859-4", "=A2", "\xC4\xB8"},
      {"iso-8859-5", "=B0", "\xD0\x90"},
      {"iso-8859-6", "=C7", "\xD8\xA7"},
      {"iso-8859-7", "=E1", "\xCE\xB1"},
      {"iso-8859-8", "=E0", "\xD7\x90"},
      {"iso-8859-9", "=FD", "\xC4\xB1"},
      {"iso-8859-10", "=A1", "\xC4\x84"},
      {"iso-8859-11", "=A1", "\xE0\xB8\x81"},
      {"iso-8859-13", "=E0", "\xC4\x85"},
      {"iso-8859-14", "=A1", "\xE1\xB8\x82"},
      {"iso-8859-15", "=A4", "\xE2\x82\xAC"},
      {"windows-1250", "=8A", "\xC5\xA0"},
      {"windows-1251", "=C0", "\xD0\x90"},
      {"windows-1252", "=80", "\xE2\x82\xAC"},
      {"KOI8-R", "=C1", "\xD0\xB0"},
  };
  for (const Case& c : kCases) {
    const std::string in =
        "x =?" + std::string(c.charset) + "?Q?" + std::string(c.hex) + "?= y";
    Defects defects;
    EXPECT_EQ(Decode(in, &defects), "x " + std::string(c.utf8) + " y") << in;
    EXPECT_THAT(defects, IsEmpty()) << in;
    const std::string lower = "=?" + std::string(c.charset) + "?q?" +
                              std::string(c.hex) + "?=";
    EXPECT_EQ(Decode(lower), c.utf8) << lower;
  }
}

TEST(EncodedWordTest, MultibyteCharacterSplitAcrossWords) {
  Defects defects;
  EXPECT_EQ(Decode("=?utf-8?q?caf=C3?= =?UTF-8?Q?=A9!?=", &defects),
            "caf\xC3\xA9!");
  EXPECT_THAT(defects, IsEmpty());
  // The same split in base64 words: "caf\xC3" and "\xA9!".
  EXPECT_EQ(Decode("=?utf-8?b?Y2Fmww==?= =?utf-8?b?qSE=?=", &defects),
            "caf\xC3\xA9!");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(EncodedWordTest, Base64QuantumSplitAcrossWords) {
  // "caf\xC3\xA9" is Y2Fmw6k=; cut inside the second quantum.
  Defects defects;
  EXPECT_EQ(Decode("=?utf-8?B?Y2Fmw?=\r\n =?utf-8?B?6k=?=", &defects),
            "caf\xC3\xA9");
  EXPECT_THAT(defects, IsEmpty());
  EXPECT_EQ(Decode("=?utf-8?B?Y2F?==?utf-8?B?mw6k?="), "caf\xC3\xA9");
  // Missing padding at the very end is tolerated.
  EXPECT_EQ(Decode("=?utf-8?B?Y2Fmw6k?="), "caf\xC3\xA9");
}

TEST(EncodedWordTest, DifferentCharsetsAreConvertedSeparately) {
  EXPECT_EQ(Decode("=?iso-8859-1?q?=E9?= =?iso-8859-7?q?=E1?="),
            "\xC3\xA9\xCE\xB1");
  // Q and B words of one charset still join.
  EXPECT_EQ(Decode("=?utf-8?q?=C3?= =?utf-8?b?qQ==?="), "\xC3\xA9");
}

TEST(EncodedWordTest, WhitespaceBetweenWordAndTextIsKept) {
  EXPECT_EQ(Decode("a =?utf-8?q?b?= c"), "a b c");
  EXPECT_EQ(Decode("  =?utf-8?q?b?=  "), "  b  ");
  EXPECT_EQ(Decode("=?utf-8?q?a?= \t =?utf-8?q?b?= x"), "ab x");
}

TEST(EncodedWordTest, WordsInsideWordsAreDecoded) {
  EXPECT_EQ(Decode("foo=?utf-8?q?x?=bar"), "fooxbar");
  EXPECT_EQ(Decode("\"=?utf-8?q?Andr=C3=A9?=\" <a@b>"),
            "\"Andr\xC3\xA9\" <a@b>");
}

TEST(EncodedWordTest, MalformedWordsAreKeptWithDefect) {
  struct Case {
    std::string_view in;
    std::size_t offset;
  };
  const Case kCases[] = {
      {"a =?utf-8?x?abc?= b", 2},     // unknown encoding
      {"a =?utf-8?q?abc b", 2},       // no end
      {"a =?utf-8?q?=ZZ?= b", 2},     // bad Q escape
      {"a =?utf-8?q?ab=4?= b", 2},    // truncated Q escape
      {"a =?utf-8?b?!!!!?= b", 2},    // not base64
      {"=?utf-8??abc?=", 0},          // empty encoding
      {"x=?utf-8?qq?a?=", 1},         // long encoding
      {"=?*en?q?a?=", 0},             // empty charset
  };
  for (const Case& c : kCases) {
    Defects defects;
    EXPECT_EQ(Decode(c.in, &defects), c.in) << c.in;
    ASSERT_EQ(defects.size(), 1u) << c.in;
    EXPECT_EQ(defects[0].kind, DefectKind::kInvalidEncodedWord) << c.in;
    EXPECT_EQ(defects[0].offset, c.offset) << c.in;
  }
  // A broken word between two good ones splits the run.
  Defects defects;
  EXPECT_EQ(Decode("=?utf-8?q?a?= =?utf-8?q?=G?= =?utf-8?q?b?=", &defects),
            "a =?utf-8?q?=G?= b");
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kInvalidEncodedWord, 14}));
}

TEST(EncodedWordTest, NotWordsAtAll) {
  for (std::string_view s : {"a =? b", "=?", "what=?", "=?=", "1+1=?2",
                             "=??q?a?="}) {
    Defects defects;
    EXPECT_EQ(Decode(s, &defects), s);
    EXPECT_THAT(defects, IsEmpty()) << s;
  }
}

TEST(EncodedWordTest, UnknownCharsetIsKeptRaw) {
  Defects defects;
  std::string out;
  DecodeUnstructured("Re: =?x-klingon?q?Qapla=21?= =?x-klingon?q?_x?= ok",
                     &out, &defects, 100);
  EXPECT_EQ(out, "Re: =?x-klingon?q?Qapla=21?= =?x-klingon?q?_x?= ok");
  EXPECT_THAT(defects, ElementsAre(Defect{DefectKind::kUnknownCharset, 104}));
  defects.clear();
  EXPECT_EQ(Decode("=?x-unknown?q?abc?=", &defects), "=?x-unknown?q?abc?=");
  EXPECT_THAT(defects, ElementsAre(Defect{DefectKind::kUnknownCharset, 0}));
}

TEST(EncodedWordTest, Rfc2231Language) {
  Defects defects;
  EXPECT_EQ(Decode("=?utf-8*en?q?Hello_w=C3=B6rld?=", &defects),
            "Hello w\xC3\xB6rld");
  EXPECT_EQ(Decode("=?US-ASCII*EN?Q?Keith_Moore?="), "Keith Moore");
  EXPECT_EQ(Decode("=?utf-8*en?q?a?= =?UTF-8*de?q?b?="), "ab");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(EncodedWordTest, InvalidCharsetData) {
  Defects defects;
  EXPECT_EQ(Decode("x =?utf-8?q?=FF?=", &defects), "x \xEF\xBF\xBD");
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kInvalidCharsetData, 2}));
}

TEST(EncodedWordTest, RawEightBitText) {
  Defects defects;
  EXPECT_EQ(Decode("caf\xC3\xA9 =?utf-8?q?ok?=", &defects),
            "caf\xC3\xA9 ok");
  EXPECT_THAT(defects, IsEmpty());
  EXPECT_EQ(Decode("caf\xE9", &defects), "caf\xC3\xA9");
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kInvalidCharsetData, 0}));
}

TEST(EncodedWordTest, FastPathAppends) {
  std::string out = "Subject: ";
  DecodeUnstructured("plain ascii", &out);
  EXPECT_EQ(out, "Subject: plain ascii");
  EXPECT_EQ(DecodeUnstructured("=?utf-8?q?x?="), "x");
  EXPECT_TRUE(MayContainEncodedWords("a=?b"));
  EXPECT_FALSE(MayContainEncodedWords("a=b?"));
}

TEST(EncodedWordTest, LongWordsAreDecodedAndNoted) {
  const std::string text(100, 'a');
  Defects defects;
  EXPECT_EQ(Decode("=?utf-8?q?" + text + "?=", &defects), text);
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kEncodedWordTooLong, 0}));
}

TEST(EncodedWordTest, ManyUnterminatedWordsStayLinear) {
  std::string s;
  for (int i = 0; i < 100000; ++i) s += "=?a?q?x";
  Defects defects;
  EXPECT_EQ(Decode(s, &defects), s);
  EXPECT_EQ(defects.size(), 100000u);
}

TEST(EncodedWordTest, DecodePhrase) {
  std::string out;
  Defects defects;
  DecodePhrase("=?utf-8?q?Andr=C3=A9?= Pirard", &out, &defects, 5);
  EXPECT_EQ(out, "Andr\xC3\xA9 Pirard");
  EXPECT_THAT(defects, IsEmpty());
}

// --- Encoding ---------------------------------------------------------------

TEST(EncodedWordTest, EncodeUnstructuredKeepsPlainAscii) {
  EXPECT_EQ(EncodeUnstructured("Hello world"), "Hello world");
  const std::string long_ascii(300, 'x');
  EXPECT_EQ(EncodeUnstructured(long_ascii), long_ascii);
  EXPECT_EQ(EncodeUnstructured(""), "");
}

TEST(EncodedWordTest, EncodeUnstructuredEncodesOnlyWhatItMust) {
  // B is one octet shorter here.
  const std::string enc = EncodeUnstructured("Caf\xC3\xA9 au lait", 9);
  EXPECT_EQ(enc, "=?UTF-8?B?Q2Fmw6k=?= au lait");
  EXPECT_EQ(EncodeUnstructured("Caf\xC3\xA9s and cr\xC3\xA8mes"),
            "=?UTF-8?B?Q2Fmw6lz?= and =?UTF-8?Q?cr=C3=A8mes?=");
  EXPECT_EQ(DecodeUnstructured(enc), "Caf\xC3\xA9 au lait");
  // Adjacent non-ASCII words form one run; the space inside it is encoded.
  const std::string two = EncodeUnstructured("\xC3\xA9t\xC3\xA9 \xC3\xA0 x");
  EXPECT_EQ(two, "=?UTF-8?B?w6l0w6kgw6A=?= x");
  EXPECT_EQ(DecodeUnstructured(two), "\xC3\xA9t\xC3\xA9 \xC3\xA0 x");
}

TEST(EncodedWordTest, EncodeUnstructuredChoosesBForDenseText) {
  // Cyrillic: every byte would be =XX in Q.
  const std::string text =
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82";  // Привет
  const std::string enc = EncodeUnstructured(text);
  EXPECT_EQ(enc, "=?UTF-8?B?0J/RgNC40LLQtdGC?=");
  EXPECT_EQ(DecodeUnstructured(enc), text);
}

TEST(EncodedWordTest, EncodeUnstructuredProtectsLookalikesAndControls) {
  for (std::string_view s : {"price =?x?q?y?= no", "a\r\nBcc: evil@x",
                             "tab\there", "nul\x01"}) {
    const std::string enc = EncodeUnstructured(s);
    EXPECT_EQ(Unfold(enc).find('\n'), std::string::npos) << s;
    EXPECT_EQ(DecodeUnstructured(Unfold(enc)), s) << s;
  }
}

TEST(EncodedWordTest, EncodeUnstructuredFoldsLongText) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "\xC3\xA9l\xC3\xA8ve ";
  for (std::size_t used : {0u, 9u, 30u, 60u}) {
    const std::string enc = EncodeUnstructured(text, used);
    ExpectWellFolded(enc, used);
    EXPECT_EQ(RoundTrip(enc, text), text);
  }
}

TEST(EncodedWordTest, NeverSplitsACharacterAcrossWords) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "\xF0\x9F\x98\x80";  // 😀
  for (std::string_view prefix : {"", "a "}) {
    const std::string enc = EncodeUnstructured(std::string(prefix) + text, 9);
    ExpectWellFolded(enc, 9);
    // Each word decodes to whole characters on its own.
    std::size_t w = 0;
    while ((w = enc.find("=?", w)) != std::string::npos) {
      const std::size_t e = enc.find("?=", enc.find('?', w + 8) + 1);
      std::string out;
      Defects defects;
      DecodeUnstructured(std::string_view(enc).substr(w, e + 2 - w), &out,
                         &defects);
      EXPECT_THAT(defects, IsEmpty()) << enc.substr(w, e + 2 - w);
      w = e + 2;
    }
    EXPECT_EQ(RoundTrip(enc, std::string(prefix) + text),
              std::string(prefix) + text);
  }
}

// A run Q suits (mostly spaces) that starts with a 4-byte character after
// white space which, once folded, leaves exactly 20 octets: the first word
// is B (20 octets) where Q would have needed 24 (found by fuzz_encoded_word).
TEST(EncodedWordTest, FirstWordAfterLongIndentTakesTheShorterEncoding) {
  const std::string text = "abc" + std::string(58, ' ') +
                           "\xF0\x9F\x98\x80" + std::string(40, ' ') +
                           "\xC3\xA9";
  const std::string enc = EncodeUnstructured(text, 0);
  ExpectWellFolded(enc, 0);
  EXPECT_EQ(enc.substr(0, 5 + 58), "abc\r\n" + std::string(58, ' ')) << enc;
  EXPECT_EQ(enc.substr(5 + 58, 20), "=?UTF-8?B?8J+YgCAg?=") << enc;
  EXPECT_NE(enc.find("?Q?"), std::string::npos) << enc;  // the rest stays Q
  EXPECT_EQ(RoundTrip(enc, text), text);
}

std::string RandomUnicode(std::mt19937* rng, std::size_t chars) {
  static const char* const kPool[] = {
      "a", "Z", " ", " ", "\t", "=", "?", "_", "\"", "(", ")", ",", ".",
      "\xC3\xA9", "\xD0\x96", "\xE2\x82\xAC", "\xE4\xBD\xA0",
      "\xF0\x9F\x98\x80", "=?", "?=", "\x01", "\r\n"};
  std::string s;
  for (std::size_t i = 0; i < chars; ++i) {
    s += kPool[(*rng)() % (sizeof(kPool) / sizeof(kPool[0]))];
  }
  return s;
}

TEST(EncodedWordTest, RandomUnicodeRoundTrips) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 2000; ++iter) {
    const std::string text = RandomUnicode(&rng, rng() % 120);
    const std::size_t used = rng() % 40;
    const std::string enc = EncodeUnstructured(text, used);
    if (enc != text) ExpectWellFolded(enc, used);  // plain ASCII: as it was
    Defects defects;
    EXPECT_EQ(RoundTrip(enc, text, &defects), text) << enc;
    EXPECT_THAT(defects, IsEmpty()) << enc;
    const std::string phrase = EncodePhrase(text);
    EXPECT_EQ(phrase.find('\r'), std::string::npos) << phrase;
  }
}

TEST(EncodedWordTest, EncodePhrase) {
  EXPECT_EQ(EncodePhrase("John Smith"), "John Smith");
  EXPECT_EQ(EncodePhrase("Smith, John"), "\"Smith, John\"");
  EXPECT_EQ(EncodePhrase("a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
  EXPECT_EQ(EncodePhrase("Andr\xC3\xA9s Pirard"),
            "=?UTF-8?Q?Andr=C3=A9s?= Pirard");
  EXPECT_EQ(EncodePhrase("M\xC3\xBCller, Hans"),
            "=?UTF-8?B?TcO8bGxlciw=?= Hans");
  EXPECT_EQ(DecodeUnstructured(EncodePhrase("M\xC3\xBCller, Hans")),
            "M\xC3\xBCller, Hans");
  // Only the characters RFC 2047 5 (3) allows in a phrase.
  const std::string enc = EncodePhrase("\xC3\xA9(a)<b>@c;d:\"e\".f");
  std::size_t q = enc.find("?Q?");
  if (q == std::string::npos) q = enc.find("?B?");
  ASSERT_NE(q, std::string::npos);
  for (char c : enc.substr(q + 3, enc.size() - q - 5)) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) ||
                std::string_view("!*+-/=_").find(c) != std::string_view::npos)
        << c;
  }
  EXPECT_EQ(DecodeUnstructured(enc), "\xC3\xA9(a)<b>@c;d:\"e\".f");
  // Long names become several words of at most 75 octets.
  std::string name;
  for (int i = 0; i < 30; ++i) name += "J\xC3\xB6rg ";
  const std::string long_enc = EncodePhrase(name);
  EXPECT_EQ(long_enc.find('\r'), std::string::npos);
  std::size_t words = 0;
  for (auto w : absl::StrSplit(long_enc, ' ')) {
    EXPECT_LE(w.size(), 75u) << w;
    ++words;
  }
  EXPECT_GT(words, 1u);
  EXPECT_EQ(DecodeUnstructured(long_enc), name.substr(0, name.size() - 1));
}

}  // namespace
}  // namespace posthorn::message
