// Tests of posthorn/message/charset.h.

#include "posthorn/message/charset.h"

#include <gtest/gtest.h>

#include <string>

namespace posthorn::message {
namespace {

struct Converted {
  CharsetResult result;
  std::string text;
};

Converted Convert(std::string_view charset, std::string_view bytes) {
  Converted c;
  c.text = "<";  // ConvertToUtf8 appends
  c.result = ConvertToUtf8(charset, bytes, &c.text);
  c.text.erase(0, 1);
  return c;
}

TEST(CharsetTest, OneCharacterOfEachSingleByteCharset) {
  struct Case {
    std::string_view charset, bytes, utf8;
  };
  const Case kCases[] = {
      {"iso-8859-1", "\xE9", "\xC3\xA9"},  // U+00E9
      {"iso-8859-2", "\xB1", "\xC4\x85"},  // U+0105
      {"iso-8859-3", "\xA1", "\xC4\xA6"},  // U+0126
      {"iso-8859-4", "\xA2", "\xC4\xB8"},  // U+0138
      {"iso-8859-5", "\xB0", "\xD0\x90"},  // U+0410
      {"iso-8859-6", "\xC7", "\xD8\xA7"},  // U+0627
      {"iso-8859-7", "\xE1", "\xCE\xB1"},  // U+03B1
      {"iso-8859-8", "\xE0", "\xD7\x90"},  // U+05D0
      {"iso-8859-9", "\xFD", "\xC4\xB1"},  // U+0131
      {"iso-8859-10", "\xA1", "\xC4\x84"},  // U+0104
      {"iso-8859-11", "\xA1", "\xE0\xB8\x81"},  // U+0E01
      {"iso-8859-13", "\xE0", "\xC4\x85"},  // U+0105
      {"iso-8859-14", "\xA1", "\xE1\xB8\x82"},  // U+1E02
      {"iso-8859-15", "\xA4", "\xE2\x82\xAC"},  // U+20AC
      {"iso-8859-16", "\xA4", "\xE2\x82\xAC"},  // U+20AC
      {"windows-1250", "\x8A", "\xC5\xA0"},  // U+0160
      {"windows-1251", "\xC0", "\xD0\x90"},  // U+0410
      {"windows-1252", "\x80", "\xE2\x82\xAC"},  // U+20AC
      {"windows-1253", "\xE1", "\xCE\xB1"},  // U+03B1
      {"windows-1254", "\xFD", "\xC4\xB1"},  // U+0131
      {"windows-1255", "\xE0", "\xD7\x90"},  // U+05D0
      {"windows-1256", "\xC7", "\xD8\xA7"},  // U+0627
      {"windows-1257", "\xE0", "\xC4\x85"},  // U+0105
      {"windows-1258", "\x80", "\xE2\x82\xAC"},  // U+20AC
      {"koi8-r", "\xC1", "\xD0\xB0"},  // U+0430
      {"koi8-u", "\xA4", "\xD1\x94"},  // U+0454
  };
  for (const Case& c : kCases) {
    const std::string bytes = "a" + std::string(c.bytes) + "b";
    const Converted r = Convert(c.charset, bytes);
    EXPECT_EQ(r.result, CharsetResult::kOk) << c.charset;
    EXPECT_EQ(r.text, "a" + std::string(c.utf8) + "b") << c.charset;
    // Twice: the second time through the cached descriptor.
    EXPECT_EQ(Convert(c.charset, bytes).text, r.text) << c.charset;
  }
}

TEST(CharsetTest, NamesAreCaseInsensitiveWithAliases) {
  for (std::string_view name :
       {"ISO-8859-1", "latin1", "Latin-1", "iso_8859-1", "ISO8859-1", "l1",
        "CP819", " iso-8859-1 ", "\"iso-8859-1\""}) {
    const Converted r = Convert(name, "\xE9");
    EXPECT_EQ(r.result, CharsetResult::kOk) << name;
    EXPECT_EQ(r.text, "\xC3\xA9") << name;
  }
  for (std::string_view name : {"cp1252", "CP1252", "Windows-1252",
                                "WINDOWS-1252"}) {
    EXPECT_EQ(Convert(name, "\x80").text, "\xE2\x82\xAC") << name;
  }
  for (std::string_view name : {"UTF-8", "utf8", "Utf-8"}) {
    EXPECT_EQ(Convert(name, "\xE2\x82\xAC").text, "\xE2\x82\xAC") << name;
  }
  for (std::string_view name : {"us-ascii", "US-ASCII", "ascii",
                                "ANSI_X3.4-1968"}) {
    EXPECT_EQ(Convert(name, "plain").text, "plain") << name;
  }
  EXPECT_EQ(Convert("latin2", "\xB1").text, "\xC4\x85");
  EXPECT_EQ(Convert("KOI8-R", "\xC1").text, "\xD0\xB0");
}

TEST(CharsetTest, Rfc2231LanguageSuffixIsIgnored) {
  EXPECT_EQ(Convert("utf-8*en", "ok").text, "ok");
  EXPECT_EQ(Convert("ISO-8859-1*fr", "\xE9").text, "\xC3\xA9");
  EXPECT_EQ(Convert("windows-1251*ru", "\xC0").text, "\xD0\x90");
}

TEST(CharsetTest, UnknownCharsetsAppendNothing) {
  for (std::string_view name :
       {"x-unknown", "unknown", "no-such-charset", "", "*en",
        "utf-8//TRANSLIT", "UTF-8//IGNORE", "../../etc/passwd", "a,b",
        "iso-8859-1 iso-8859-2",
        "a-very-long-charset-name-that-no-registry-has-ever-seen-or-will"
        "-see"}) {
    std::string out = "keep";
    EXPECT_EQ(ConvertToUtf8(name, "abc", &out),
              CharsetResult::kUnknownCharset)
        << name;
    EXPECT_EQ(out, "keep") << name;
  }
}

TEST(CharsetTest, Utf8IsValidated) {
  EXPECT_EQ(Convert("utf-8", "h\xC3\xA9llo \xF0\x9F\x98\x80").result,
            CharsetResult::kOk);
  struct Case {
    std::string_view in, out;
  };
  const Case kInvalid[] = {
      {"a\xC0\x80z", "a\xEF\xBF\xBD\xEF\xBF\xBDz"},  // overlong NUL
      {"a\xED\xA0\x80z",                             // surrogate
       "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz"},
      {"a\xF5\x80z", "a\xEF\xBF\xBD\xEF\xBF\xBDz"},  // above U+10FFFF
      {"a\xF4\x90\x80\x80z",
       "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz"},
      {"a\xE2\x82z", "a\xEF\xBF\xBDz"},  // truncated: one U+FFFD
      {"a\xE2\x82", "a\xEF\xBF\xBD"},
      {"\xFF", "\xEF\xBF\xBD"},
      {"\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"\xF0\x9F\x98", "\xEF\xBF\xBD"},
  };
  for (const Case& c : kInvalid) {
    const Converted r = Convert("utf-8", c.in);
    EXPECT_EQ(r.result, CharsetResult::kInvalidData) << c.in;
    EXPECT_EQ(r.text, c.out) << c.in;
  }
}

TEST(CharsetTest, AppendValidUtf8) {
  std::string out;
  EXPECT_TRUE(AppendValidUtf8("caf\xC3\xA9", &out));
  EXPECT_EQ(out, "caf\xC3\xA9");
  EXPECT_FALSE(AppendValidUtf8(" \xE9t\xE9", &out));
  EXPECT_EQ(out, "caf\xC3\xA9 \xEF\xBF\xBDt\xEF\xBF\xBD");
  out.clear();
  EXPECT_TRUE(AppendValidUtf8("", &out));
  EXPECT_EQ(out, "");
  // Long ASCII runs around an error (the 8-byte skip loop).
  const std::string ascii(37, 'x');
  out.clear();
  EXPECT_FALSE(AppendValidUtf8(ascii + "\xC3" + ascii, &out));
  EXPECT_EQ(out, ascii + "\xEF\xBF\xBD" + ascii);
}

TEST(CharsetTest, AsciiWithEightBitBytesIsFlagged) {
  Converted r = Convert("us-ascii", "caf\xC3\xA9");
  EXPECT_EQ(r.result, CharsetResult::kInvalidData);
  EXPECT_EQ(r.text, "caf\xC3\xA9");  // valid UTF-8 kept
  r = Convert("us-ascii", "caf\xE9");
  EXPECT_EQ(r.result, CharsetResult::kInvalidData);
  EXPECT_EQ(r.text, "caf\xEF\xBF\xBD");
}

TEST(CharsetTest, InvalidBytesInIconvCharsetsBecomeReplacement) {
  // 0x81 is not assigned in windows-1252.
  Converted r = Convert("windows-1252", "a\x81z");
  EXPECT_EQ(r.result, CharsetResult::kInvalidData);
  EXPECT_EQ(r.text, "a\xEF\xBF\xBDz");
  // Shift_JIS: a lead byte at the end of the input.
  r = Convert("shift_jis", "\x82\xA0\x82");
  EXPECT_EQ(r.result, CharsetResult::kInvalidData);
  EXPECT_EQ(r.text, "\xE3\x81\x82\xEF\xBF\xBD");
}

TEST(CharsetTest, MultibyteAndStatefulCharsets) {
  EXPECT_EQ(Convert("Shift_JIS", "\x82\xA0").text, "\xE3\x81\x82");  // あ
  EXPECT_EQ(Convert("GB2312", "\xC4\xE3").text, "\xE4\xBD\xA0");      // 你
  // ISO-2022-JP: ESC $ B switches to JIS X 0208; each call starts afresh.
  const std::string_view jis = "\x1B$B$\"\x1B(B";
  EXPECT_EQ(Convert("iso-2022-jp", jis).text, "\xE3\x81\x82");
  EXPECT_EQ(Convert("ISO-2022-JP", "$\"").text, "$\"");
}

TEST(CharsetTest, EmptyInput) {
  for (std::string_view name : {"utf-8", "iso-8859-1", "koi8-r", "us-ascii"}) {
    const Converted r = Convert(name, "");
    EXPECT_EQ(r.result, CharsetResult::kOk) << name;
    EXPECT_EQ(r.text, "");
  }
}

TEST(CharsetTest, LongInputThroughIconvGrowsTheBuffer) {
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes += "\xC0\xC1\xC2 ";
  const Converted r = Convert("windows-1251", bytes);
  EXPECT_EQ(r.result, CharsetResult::kOk);
  std::string expected;
  for (int i = 0; i < 5000; ++i) expected += "\xD0\x90\xD0\x91\xD0\x92 ";
  EXPECT_EQ(r.text, expected);
}

TEST(CharsetTest, ManyCharsetsEvictFromTheCache) {
  for (int round = 0; round < 3; ++round) {
    for (int n = 1; n <= 16; ++n) {
      if (n == 12) continue;  // there is no ISO-8859-12
      const std::string name = "iso-8859-" + std::to_string(n);
      EXPECT_EQ(Convert(name, "abc").text, "abc") << name;
    }
  }
}

}  // namespace
}  // namespace posthorn::message
