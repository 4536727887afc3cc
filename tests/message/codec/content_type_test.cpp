// Tests of posthorn/message/content_type.h.

#include "posthorn/message/content_type.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace posthorn::message {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<DefectKind> Kinds(const Defects& defects) {
  std::vector<DefectKind> kinds;
  for (const Defect& d : defects) kinds.push_back(d.kind);
  return kinds;
}

std::string Param(const MimeParameters& p, std::string_view name) {
  const std::string* v = p.Find(name);
  return v == nullptr ? "<none>" : *v;
}

TEST(ContentTypeTest, Simple) {
  Defects defects;
  const ContentType ct =
      ParseContentType("Text/HTML; Charset=\"UTF-8\"", &defects);
  EXPECT_EQ(ct.type, "text");
  EXPECT_EQ(ct.subtype, "html");
  EXPECT_EQ(ct.MimeType(), "text/html");
  EXPECT_TRUE(ct.Is("TEXT", "html"));
  EXPECT_TRUE(ct.Is("text", "*"));
  EXPECT_FALSE(ct.Is("text", "plain"));
  EXPECT_FALSE(ct.IsMultipart());
  ASSERT_EQ(ct.parameters.items().size(), 1u);
  EXPECT_EQ(ct.parameters.items()[0].name, "charset");
  EXPECT_EQ(Param(ct.parameters, "CHARSET"), "UTF-8");
  EXPECT_EQ(ct.parameters.Find("boundary"), nullptr);
  EXPECT_THAT(defects, IsEmpty());
}

TEST(ContentTypeTest, MultipartBoundaryWithTspecialsUnquoted) {
  Defects defects;
  const ContentType ct = ParseContentType(
      "multipart/mixed;\r\n boundary=----=_Part_0_1.2;  foo=bar", &defects);
  EXPECT_TRUE(ct.IsMultipart());
  EXPECT_EQ(Param(ct.parameters, "boundary"), "----=_Part_0_1.2");
  EXPECT_EQ(Param(ct.parameters, "foo"), "bar");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(ContentTypeTest, CommentsAndWhitespaceAnywhere) {
  Defects defects;
  const ContentType ct = ParseContentType(
      " (c) text (x) / (y) plain (z) ; charset = us-ascii (Plain text) ;"
      " (a (nested) comment) format=flowed",
      &defects);
  EXPECT_EQ(ct.MimeType(), "text/plain");
  EXPECT_EQ(Param(ct.parameters, "charset"), "us-ascii");
  EXPECT_EQ(Param(ct.parameters, "format"), "flowed");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(ContentTypeTest, EncapsulatedMessage) {
  EXPECT_TRUE(ParseContentType("message/rfc822").IsEncapsulatedMessage());
  EXPECT_TRUE(ParseContentType("Message/Global").IsEncapsulatedMessage());
  EXPECT_FALSE(
      ParseContentType("message/delivery-status").IsEncapsulatedMessage());
}

TEST(ContentTypeTest, InvalidTypeIsTextPlain) {
  for (std::string_view v : {"", "text", "text/", "/plain", "; charset=x",
                             "text plain", "@@@"}) {
    Defects defects;
    const ContentType ct = ParseContentType(v, &defects, 10);
    EXPECT_EQ(ct.MimeType(), "text/plain") << v;
    ASSERT_FALSE(defects.empty()) << v;
    EXPECT_EQ(defects[0].kind, DefectKind::kInvalidContentType) << v;
  }
  Defects defects;
  const ContentType ct = ParseContentType("text; charset=koi8-r", &defects);
  EXPECT_EQ(ct.MimeType(), "text/plain");
  EXPECT_EQ(Param(ct.parameters, "charset"), "koi8-r");
}

TEST(ContentTypeTest, MissingSemicolon) {
  Defects defects;
  const ContentType ct =
      ParseContentType("text/plain charset=us-ascii", &defects, 100);
  EXPECT_EQ(ct.MimeType(), "text/plain");
  EXPECT_EQ(Param(ct.parameters, "charset"), "us-ascii");
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kInvalidParameter, 111}));
}

TEST(MimeParametersTest, QuotedStrings) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "a=\"x y\"; b=\"q\\\"uo\\\\te\"; c=\"\"; d=\"semi;colon\"", &defects);
  EXPECT_EQ(Param(p, "a"), "x y");
  EXPECT_EQ(Param(p, "b"), "q\"uo\\te");
  EXPECT_EQ(Param(p, "c"), "");
  EXPECT_EQ(Param(p, "d"), "semi;colon");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(MimeParametersTest, UnterminatedQuotedString) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters("name=\"abc; x=y", &defects, 7);
  EXPECT_EQ(Param(p, "name"), "abc; x=y");
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kUnterminatedQuotedString, 12}));
}

TEST(MimeParametersTest, Duplicates) {
  Defects defects;
  const MimeParameters p =
      ParseMimeParameters("charset=a; CHARSET=b; x=1", &defects);
  EXPECT_EQ(Param(p, "charset"), "a");
  EXPECT_EQ(p.items().size(), 2u);
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kDuplicateParameter, 11}));
}

TEST(MimeParametersTest, Garbage) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "=x; novalue; ;; \"q\"=1; good=yes; a=\"b\" junk; e=", &defects);
  EXPECT_EQ(Param(p, "good"), "yes");
  EXPECT_EQ(Param(p, "a"), "b");
  EXPECT_EQ(Param(p, "e"), "");
  EXPECT_EQ(Param(p, "novalue"), "<none>");
  EXPECT_THAT(Kinds(defects),
              ElementsAre(DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter));
}

TEST(MimeParametersTest, Rfc2047InsideQuotedValues) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "filename=\"=?utf-8?B?0J/RgNC40LLQtdGCLnR4dA==?=\"; "
      "name==?iso-8859-1?q?caf=E9.pdf?=",
      &defects);
  EXPECT_EQ(Param(p, "filename"),
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82.txt");
  EXPECT_EQ(Param(p, "name"), "caf\xC3\xA9.pdf");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(MimeParametersTest, RawEightBitValues) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "a=\"caf\xC3\xA9\"; b=\"caf\xE9\"", &defects);
  EXPECT_EQ(Param(p, "a"), "caf\xC3\xA9");
  EXPECT_EQ(Param(p, "b"), "caf\xC3\xA9");  // taken as ISO-8859-1
  EXPECT_THAT(Kinds(defects), ElementsAre(DefectKind::kInvalidCharsetData));
}

// --- RFC 2231 ---------------------------------------------------------------

TEST(Rfc2231Test, Section3Continuations) {
  Defects defects;
  const ContentType ct = ParseContentType(
      "message/external-body; access-type=URL;\r\n"
      "         URL*0=\"ftp://\";\r\n"
      "         URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
      &defects);
  EXPECT_EQ(Param(ct.parameters, "url"),
            "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
  EXPECT_EQ(Param(ct.parameters, "access-type"), "URL");
  EXPECT_EQ(ct.parameters.items().size(), 2u);
  EXPECT_THAT(defects, IsEmpty());
}

TEST(Rfc2231Test, Section4CharsetAndLanguage) {
  Defects defects;
  const ContentType ct = ParseContentType(
      "application/x-stuff;\r\n"
      "         title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
      &defects);
  EXPECT_EQ(Param(ct.parameters, "title"), "This is ***fun***");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(Rfc2231Test, Section41Combined) {
  Defects defects;
  const ContentType ct = ParseContentType(
      "application/x-stuff;\r\n"
      "   title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n"
      "   title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n"
      "   title*2=\"isn't it!\"",
      &defects);
  EXPECT_EQ(Param(ct.parameters, "title"),
            "This is even more ***fun*** isn't it!");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(Rfc2231Test, Utf8SplitInsideACharacter) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "filename*0*=utf-8''%E2%82; filename*1*=%AC.txt", &defects);
  EXPECT_EQ(Param(p, "filename"), "\xE2\x82\xAC.txt");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(Rfc2231Test, OtherCharsets) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "a*=iso-8859-1''caf%E9; b*=koi8-r'ru'%C1; c*=''plain%20text",
      &defects);
  EXPECT_EQ(Param(p, "a"), "caf\xC3\xA9");
  EXPECT_EQ(Param(p, "b"), "\xD0\xB0");
  EXPECT_EQ(Param(p, "c"), "plain text");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(Rfc2231Test, OutOfOrderSectionsAreSorted) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "name*2=\"c\"; name*0=\"a\"; name*1=\"b\"", &defects, 50);
  EXPECT_EQ(Param(p, "name"), "abc");
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kRfc2231OutOfOrder, 62}));
}

TEST(Rfc2231Test, MissingSections) {
  Defects defects;
  MimeParameters p =
      ParseMimeParameters("name*0=\"a\"; name*2=\"c\"", &defects);
  EXPECT_EQ(Param(p, "name"), "ac");
  EXPECT_THAT(Kinds(defects),
              ElementsAre(DefectKind::kRfc2231MissingSection));
  defects.clear();
  p = ParseMimeParameters("name*1*=%41; name*2=\"c\"", &defects);
  EXPECT_EQ(Param(p, "name"), "Ac");
  EXPECT_THAT(Kinds(defects),
              ElementsAre(DefectKind::kRfc2231MissingSection));
}

TEST(Rfc2231Test, DuplicateSections) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "name*0=\"a\"; name*1=\"b\"; name*1=\"X\"", &defects);
  EXPECT_EQ(Param(p, "name"), "ab");
  EXPECT_THAT(Kinds(defects), ElementsAre(DefectKind::kDuplicateParameter));
}

TEST(Rfc2231Test, PlainAndExtendedDisagree) {
  Defects defects;
  const ContentDisposition cd = ParseContentDisposition(
      "attachment; filename=\"fallback.txt\";"
      " filename*=utf-8''%E2%82%AC.txt",
      &defects);
  EXPECT_EQ(cd.type, "attachment");
  EXPECT_EQ(Param(cd.parameters, "filename"), "\xE2\x82\xAC.txt");
  EXPECT_EQ(cd.parameters.items().size(), 1u);
  EXPECT_THAT(defects,
              ElementsAre(Defect{DefectKind::kConflictingParameter, 12}));
  // When they agree there is nothing to say.
  defects.clear();
  const ContentDisposition same = ParseContentDisposition(
      "attachment; filename*=utf-8''a.txt; filename=\"a.txt\"", &defects);
  EXPECT_EQ(Param(same.parameters, "filename"), "a.txt");
  EXPECT_THAT(defects, IsEmpty());
}

TEST(Rfc2231Test, ExtendedGivenTwice) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "t*=utf-8''one; t*=utf-8''two; t*0=\"three\"", &defects);
  EXPECT_EQ(Param(p, "t"), "three");  // sections win over the single one
  EXPECT_THAT(Kinds(defects), ElementsAre(DefectKind::kDuplicateParameter,
                                          DefectKind::kDuplicateParameter));
}

TEST(Rfc2231Test, Garbage) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(
      "a*x=1; *0=2; b*99999=3; c*=nocharset%20here; d*=utf-8''bad%zz%4;"
      " e*=x-klingon''%41; ok=1",
      &defects);
  EXPECT_EQ(Param(p, "a"), "<none>");
  EXPECT_EQ(Param(p, "b"), "<none>");
  EXPECT_EQ(Param(p, "c"), "nocharset here");
  EXPECT_EQ(Param(p, "d"), "bad%zz%4");
  EXPECT_EQ(Param(p, "e"), "A");
  EXPECT_EQ(Param(p, "ok"), "1");
  EXPECT_THAT(Kinds(defects),
              ElementsAre(DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter,
                          DefectKind::kInvalidParameter,
                          DefectKind::kUnknownCharset));
}

TEST(Rfc2231Test, QuotedExtendedValueIsAccepted) {
  const MimeParameters p =
      ParseMimeParameters("filename*=\"UTF-8''%C3%A9.txt\"");
  EXPECT_EQ(Param(p, "filename"), "\xC3\xA9.txt");
}

// --- Content-Disposition, Content-Transfer-Encoding ------------------------

TEST(ContentDispositionTest, Parse) {
  Defects defects;
  ContentDisposition cd = ParseContentDisposition(
      "Attachment; filename=genome.jpeg;\r\n"
      " modification-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"",
      &defects);
  EXPECT_EQ(cd.type, "attachment");
  EXPECT_EQ(Param(cd.parameters, "filename"), "genome.jpeg");
  EXPECT_EQ(Param(cd.parameters, "modification-date"),
            "Wed, 12 Feb 1997 16:29:51 -0500");
  EXPECT_THAT(defects, IsEmpty());
  cd = ParseContentDisposition("inline", &defects);
  EXPECT_EQ(cd.type, "inline");
  EXPECT_TRUE(cd.parameters.items().empty());
  cd = ParseContentDisposition("; filename=x", &defects);
  EXPECT_EQ(cd.type, "");
  EXPECT_EQ(Param(cd.parameters, "filename"), "x");
  EXPECT_THAT(Kinds(defects), ElementsAre(DefectKind::kInvalidParameter));
}

TEST(TransferEncodingTest, Parse) {
  struct Case {
    std::string_view in;
    TransferEncoding out;
  };
  const Case kCases[] = {
      {"7bit", TransferEncoding::k7Bit},
      {"8BIT", TransferEncoding::k8Bit},
      {" Binary ", TransferEncoding::kBinary},
      {"Quoted-Printable", TransferEncoding::kQuotedPrintable},
      {"(comment) base64 (more)", TransferEncoding::kBase64},
  };
  for (const Case& c : kCases) {
    Defects defects;
    EXPECT_EQ(ParseTransferEncoding(c.in, &defects), c.out) << c.in;
    EXPECT_THAT(defects, IsEmpty()) << c.in;
  }
  Defects defects;
  EXPECT_EQ(ParseTransferEncoding("x-uuencode", &defects, 40),
            TransferEncoding::kUnknown);
  EXPECT_THAT(defects, ElementsAre(Defect{
                           DefectKind::kInvalidContentTransferEncoding, 40}));
  defects.clear();
  EXPECT_EQ(ParseTransferEncoding("base64 junk", &defects),
            TransferEncoding::kBase64);
  EXPECT_THAT(Kinds(defects),
              ElementsAre(DefectKind::kInvalidContentTransferEncoding));
  defects.clear();
  EXPECT_EQ(ParseTransferEncoding("", &defects), TransferEncoding::k7Bit);
  EXPECT_EQ(defects.size(), 1u);
}

TEST(TransferEncodingTest, Names) {
  EXPECT_EQ(TransferEncodingName(TransferEncoding::k7Bit), "7bit");
  EXPECT_EQ(TransferEncodingName(TransferEncoding::k8Bit), "8bit");
  EXPECT_EQ(TransferEncodingName(TransferEncoding::kBinary), "binary");
  EXPECT_EQ(TransferEncodingName(TransferEncoding::kQuotedPrintable),
            "quoted-printable");
  EXPECT_EQ(TransferEncodingName(TransferEncoding::kBase64), "base64");
  EXPECT_EQ(TransferEncodingName(TransferEncoding::kUnknown), "unknown");
  for (auto e : {TransferEncoding::k7Bit, TransferEncoding::k8Bit,
                 TransferEncoding::kBinary, TransferEncoding::kQuotedPrintable,
                 TransferEncoding::kBase64}) {
    EXPECT_EQ(ParseTransferEncoding(TransferEncodingName(e)), e);
  }
}

// --- Formatting ------------------------------------------------------------

// Parses what FormatMimeParameter wrote (after "; " on its own line).
std::string ReParse(std::string_view name, const std::string& formatted) {
  Defects defects;
  const MimeParameters p = ParseMimeParameters(formatted, &defects);
  EXPECT_THAT(defects, IsEmpty()) << formatted;
  EXPECT_EQ(p.items().size(), 1u) << formatted;
  return Param(p, name);
}

void ExpectShortLines(const std::string& formatted) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t eol = formatted.find("\r\n", pos);
    const std::size_t end = eol == std::string::npos ? formatted.size() : eol;
    // Each line is " " + text, and the last one gets a ";" after it.
    EXPECT_LE(end - pos + (eol == std::string::npos ? 2 : 1), 78u)
        << formatted;
    if (eol == std::string::npos) break;
    EXPECT_EQ(formatted[eol + 2], ' ');
    pos = eol + 3;
  }
}

TEST(FormatMimeParameterTest, TokensQuotedAndEncoded) {
  EXPECT_EQ(FormatMimeParameter("charset", "utf-8"), "charset=utf-8");
  EXPECT_EQ(FormatMimeParameter("filename", "my file.txt"),
            "filename=\"my file.txt\"");
  EXPECT_EQ(FormatMimeParameter("x", "a\"b\\c"), "x=\"a\\\"b\\\\c\"");
  EXPECT_EQ(FormatMimeParameter("x", ""), "x=\"\"");
  EXPECT_EQ(FormatMimeParameter("boundary", "=_a/b"), "boundary=\"=_a/b\"");
  EXPECT_EQ(FormatMimeParameter("filename", "\xE2\x82\xAC rates.txt"),
            "filename*=utf-8''%E2%82%AC%20rates.txt");
  EXPECT_EQ(FormatMimeParameter("x", "a\r\nb"), "x*=utf-8''a%0D%0Ab");
  // Not to be taken for an RFC 2047 word when read back.
  EXPECT_EQ(FormatMimeParameter("x", "=?utf-8?q?a?="),
            "x*=utf-8''%3D%3Futf-8%3Fq%3Fa%3F%3D");
  EXPECT_EQ(ReParse("x", FormatMimeParameter("x", "=?utf-8?q?a?=")),
            "=?utf-8?q?a?=");
}

TEST(FormatMimeParameterTest, LongValuesAreSplit) {
  const std::string ascii(200, 'a');
  const std::string f = FormatMimeParameter("filename", ascii);
  EXPECT_NE(f.find("filename*0=\""), std::string::npos) << f;
  EXPECT_NE(f.find("filename*2=\""), std::string::npos) << f;
  ExpectShortLines(f);
  EXPECT_EQ(ReParse("filename", f), ascii);

  std::string utf8;
  for (int i = 0; i < 40; ++i) utf8 += "\xC3\xA9t\xC3\xA9 ";
  const std::string g = FormatMimeParameter("filename", utf8);
  EXPECT_EQ(g.rfind("filename*0*=utf-8''", 0), 0u) << g;
  ExpectShortLines(g);
  EXPECT_EQ(ReParse("filename", g), utf8);

  // A boundary is never split.
  const std::string boundary(70, 'b');
  EXPECT_EQ(FormatMimeParameter("boundary", boundary), "boundary=" + boundary);
}

TEST(FormatMimeParameterTest, RandomRoundTrips) {
  std::mt19937 rng(8);
  static const char* const kPool[] = {"a", "Z", " ", "\"", "\\", ";", "=",
                                      "=?",
                                      "%", "'", "*", "\xC3\xA9",
                                      "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                      "\t", "(", "?"};
  for (int iter = 0; iter < 1000; ++iter) {
    std::string value;
    const std::size_t n = rng() % 80;
    for (std::size_t i = 0; i < n; ++i) {
      value += kPool[rng() % (sizeof(kPool) / sizeof(kPool[0]))];
    }
    const std::string f = FormatMimeParameter("name", value);
    ExpectShortLines(f);
    EXPECT_EQ(ReParse("name", f), value) << f;
  }
}

TEST(MimeParametersTest, MutableItems) {
  MimeParameters p = ParseMimeParameters("a=1");
  p.mutable_items().push_back({"b", "2"});
  EXPECT_EQ(Param(p, "B"), "2");
}

}  // namespace
}  // namespace posthorn::message
