// Tests of posthorn/message/address.h.

#include "posthorn/message/address.h"

#include <algorithm>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "message/fields/guarded_input.h"

namespace posthorn::message {

// Readable failure messages (found by argument-dependent lookup).
void PrintTo(const Mailbox& m, std::ostream* os) {
  *os << "{name=\"" << m.display_name << "\" local=" << m.local_part
      << " domain=" << m.domain << "}";
}

namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::GuardedInput;

Mailbox Mb(std::string name, std::string local, std::string domain) {
  return Mailbox{std::move(name), std::move(local), std::move(domain)};
}

std::vector<DefectKind> Kinds(const Defects& d) {
  std::vector<DefectKind> k;
  for (const Defect& x : d) k.push_back(x.kind);
  return k;
}

// Parses through a guarded copy so that any over-read is caught.
std::vector<Mailbox> List(std::string_view value, Defects* d = nullptr) {
  GuardedInput in(value);
  return ParseAddressList(in.view(), d).Mailboxes();
}

std::optional<Mailbox> One(std::string_view value, Defects* d = nullptr) {
  GuardedInput in(value);
  return ParseMailbox(in.view(), d);
}

// ---- RFC 5322 Appendix A.1.1: a message from one person to another.

TEST(AddressRfc5322, A11SimpleAddressing) {
  Defects d;
  EXPECT_EQ(One("John Doe <jdoe@machine.example>", &d),
            Mb("John Doe", "jdoe", "machine.example"));
  EXPECT_EQ(One(" Mary Smith <mary@example.net>", &d),
            Mb("Mary Smith", "mary", "example.net"));
  // The Sender variant.
  EXPECT_EQ(One(" Michael Jones <mjones@machine.example>", &d),
            Mb("Michael Jones", "mjones", "machine.example"));
  EXPECT_THAT(d, IsEmpty());
}

// ---- A.1.2: different types of mailboxes.

TEST(AddressRfc5322, A12DifferentTypesOfMailboxes) {
  Defects d;
  EXPECT_EQ(One("\"Joe Q. Public\" <john.q.public@example.com>", &d),
            Mb("Joe Q. Public", "john.q.public", "example.com"));
  EXPECT_THAT(
      List("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
           &d),
      ElementsAre(Mb("Mary Smith", "mary", "x.test"),
                  Mb("", "jdoe", "example.org"),
                  Mb("Who?", "one", "y.test")));
  EXPECT_THAT(
      List("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" "
           "<sysservices@example.net>",
           &d),
      ElementsAre(Mb("", "boss", "nil.test"),
                  Mb("Giant; \"Big\" Box", "sysservices", "example.net")));
  EXPECT_THAT(d, IsEmpty());
}

// ---- A.1.3: group addresses.

TEST(AddressRfc5322, A13GroupAddresses) {
  Defects d;
  AddressList to = ParseAddressList(
      "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", &d);
  ASSERT_EQ(to.items.size(), 1u);
  ASSERT_TRUE(to.items[0].is_group);
  EXPECT_EQ(to.items[0].group.display_name, "A Group");
  EXPECT_THAT(to.items[0].group.members,
              ElementsAre(Mb("Ed Jones", "c", "a.test"),
                          Mb("", "joe", "where.test"),
                          Mb("John", "jdoe", "one.test")));
  AddressList cc = ParseAddressList("Undisclosed recipients:;", &d);
  ASSERT_EQ(cc.items.size(), 1u);
  EXPECT_TRUE(cc.items[0].is_group);
  EXPECT_EQ(cc.items[0].group.display_name, "Undisclosed recipients");
  EXPECT_THAT(cc.items[0].group.members, IsEmpty());
  EXPECT_THAT(cc.Mailboxes(), IsEmpty());
  EXPECT_EQ(One("Pete <pete@silly.example>", &d),
            Mb("Pete", "pete", "silly.example"));
  EXPECT_THAT(d, IsEmpty());
}

// ---- A.2: reply messages.

TEST(AddressRfc5322, A2ReplyMessages) {
  Defects d;
  EXPECT_EQ(
      One("\"Mary Smith: Personal Account\" <smith@home.example>", &d),
      Mb("Mary Smith: Personal Account", "smith", "home.example"));
  EXPECT_EQ(One("John Doe <jdoe@machine.example>", &d),
            Mb("John Doe", "jdoe", "machine.example"));
  EXPECT_THAT(d, IsEmpty());
}

// ---- A.3: resent messages.

TEST(AddressRfc5322, A3ResentMessages) {
  Defects d;
  EXPECT_EQ(One("Mary Smith <mary@example.net>", &d),
            Mb("Mary Smith", "mary", "example.net"));
  EXPECT_EQ(One("Jane Brown <j-brown@other.example>", &d),
            Mb("Jane Brown", "j-brown", "other.example"));
  EXPECT_THAT(d, IsEmpty());
}

// ---- A.4: messages with trace fields.

TEST(AddressRfc5322, A4Trace) {
  Defects d;
  EXPECT_EQ(One("John Doe <jdoe@node.example>", &d),
            Mb("John Doe", "jdoe", "node.example"));
  EXPECT_THAT(d, IsEmpty());
}

// ---- A.5: white space, comments, and other oddities.

TEST(AddressRfc5322, A5CommentsEverywhere) {
  Defects d;
  EXPECT_EQ(One("Pete(A nice \\) chap) <pete(his account)@silly.test(his "
                "host)>",
                &d),
            Mb("Pete", "pete", "silly.test"));
  AddressList to = ParseAddressList(
      "A Group(Some people)\r\n"
      "     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
      "         joe@example.org,\r\n"
      "  John <jdoe@one.test> (my dear friend); (the end of the group)",
      &d);
  ASSERT_EQ(to.items.size(), 1u);
  ASSERT_TRUE(to.items[0].is_group);
  EXPECT_EQ(to.items[0].group.display_name, "A Group");
  EXPECT_THAT(to.items[0].group.members,
              ElementsAre(Mb("Chris Jones", "c", "public.example"),
                          Mb("", "joe", "example.org"),
                          Mb("John", "jdoe", "one.test")));
  AddressList cc = ParseAddressList(
      "(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", &d);
  ASSERT_EQ(cc.items.size(), 1u);
  EXPECT_TRUE(cc.items[0].is_group);
  EXPECT_EQ(cc.items[0].group.display_name, "Hidden recipients");
  EXPECT_THAT(cc.items[0].group.members, IsEmpty());
  EXPECT_THAT(d, IsEmpty());
}

// ---- A.6.1: obsolete addressing.

TEST(AddressRfc5322, A61ObsoleteAddressing) {
  Defects d;
  // The period in the unquoted display name is obs-phrase.
  EXPECT_EQ(One("Joe Q. Public <john.q.public@example.com>", &d),
            Mb("Joe Q. Public", "john.q.public", "example.com"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteAddressSyntax));
  d.clear();
  EXPECT_THAT(
      List("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
           &d),
      ElementsAre(Mb("Mary Smith", "mary", "example.net"),
                  Mb("", "jdoe", "test.example")));
  EXPECT_THAT(Kinds(d),
              ElementsAre(DefectKind::kObsoleteAddressSyntax,    // route
                          DefectKind::kEmptyAddressListElement,  // ", ,"
                          DefectKind::kObsoleteAddressSyntax));  // domain
}

// ---- A.6.3: obsolete white space and comments.

TEST(AddressRfc5322, A63ObsoleteWhiteSpaceAndComments) {
  Defects d;
  EXPECT_EQ(One("John Doe <jdoe@machine(comment).  example>", &d),
            Mb("John Doe", "jdoe", "machine.example"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteAddressSyntax));
  d.clear();
  // The field as written, folds and an all-blank line included.
  EXPECT_EQ(One(" Mary Smith\r\n  \r\n          <mary@example.net>", &d),
            Mb("Mary Smith", "mary", "example.net"));
  EXPECT_THAT(d, IsEmpty());
}

// ---- The seed guide's messages (shared/seed, RFC 822 era).

TEST(AddressSeed, CybercursosFields) {
  Defects d;
  EXPECT_EQ(One("Webmaster Cybercursos <gabriel@cybercursos.net>", &d),
            Mb("Webmaster Cybercursos", "gabriel", "cybercursos.net"));
  EXPECT_EQ(One("gabriel@cybercursos.net", &d),
            Mb("", "gabriel", "cybercursos.net"));
  EXPECT_EQ(One("mbone@norba.indexado.com", &d),
            Mb("", "mbone", "norba.indexado.com"));
  EXPECT_THAT(List("root@Arrakis.com", &d),
              ElementsAre(Mb("", "root", "Arrakis.com")));
  EXPECT_THAT(d, IsEmpty());
}

// ---- Local parts and domains.

TEST(AddressLocalPart, QuotedLocalParts) {
  Defects d;
  EXPECT_EQ(One("\"john doe\"@example.com", &d),
            Mb("", "\"john doe\"", "example.com"));
  // A quoted-string that is a dot-atom needs no quotes.
  EXPECT_EQ(One("\"john.doe\"@example.com", &d),
            Mb("", "john.doe", "example.com"));
  EXPECT_EQ(One("<\"a\\\"b\\\\c\"@example.com>", &d),
            Mb("", "\"a\\\"b\\\\c\"", "example.com"));
  EXPECT_EQ(One("\"\"@example.com", &d), Mb("", "\"\"", "example.com"));
  EXPECT_THAT(d, IsEmpty());
}

TEST(AddressLocalPart, ObsoleteLocalPartIsNormalised) {
  Defects d;
  EXPECT_EQ(One("john . doe@example.com", &d),
            Mb("", "john.doe", "example.com"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteAddressSyntax));
  d.clear();
  EXPECT_EQ(One("\"john\".\"doe\"@example.com", &d),
            Mb("", "john.doe", "example.com"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kObsoleteAddressSyntax));
  d.clear();
  EXPECT_EQ(One("\"john smith\".doe@example.com", &d),
            Mb("", "\"john smith.doe\"", "example.com"));
}

TEST(AddressDomain, DomainLiterals) {
  Defects d;
  EXPECT_EQ(One("root@[192.0.2.1]", &d), Mb("", "root", "[192.0.2.1]"));
  EXPECT_EQ(One("Admin <root@[ 192.0.2.1 ]>", &d),
            Mb("Admin", "root", "[192.0.2.1]"));
  EXPECT_EQ(One("root@[IPv6:2001:db8::1]", &d),
            Mb("", "root", "[IPv6:2001:db8::1]"));
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(One("root@[192.0.2.1", &d), Mb("", "root", "[192.0.2.1]"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kUnterminatedDomainLiteral));
}

// An escaped "]" does not close a literal, and an escaped space is dtext,
// not folding white space: both must survive FormatMailbox -> ParseMailbox
// (found by fuzz_address).
TEST(AddressDomain, QuotedPairsInDomainLiterals) {
  Defects d;
  EXPECT_EQ(One("x@[a\\]", &d), Mb("", "x", "[a\\]]"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kUnterminatedDomainLiteral));
  d.clear();
  EXPECT_EQ(One("x@[a\\\\]", &d), Mb("", "x", "[a\\\\]"));
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(One("x@[a\\ b]", &d), Mb("", "x", "[a\\ b]"));
  EXPECT_EQ(One("x@[a\\", &d), Mb("", "x", "[a]"));
  // A fold after the "\\" is unfolded before the pair is read (RFC 5322
  // 2.2.3): it escapes the space after the fold, not the line break.
  EXPECT_EQ(One("x@[a\\\r\n b]", &d), Mb("", "x", "[a\\ b]"));
  EXPECT_EQ(One("x@[a\\\r\n\tb]", &d), Mb("", "x", "[a\\\tb]"));
  EXPECT_EQ(One("x@[a\\\r\nb]", &d), Mb("", "x", "[ab]"));
  EXPECT_EQ(One("x@[a\\\r\n]", &d), Mb("", "x", "[a]"));
  for (const char* in : {"joh x@[IPv6:1\\]", "x@[a\\ ]", "x@[\\]]",
                         "x@[a\\]>", "<x@[a\\]>"}) {
    const std::optional<Mailbox> m = ParseMailbox(in);
    ASSERT_TRUE(m.has_value()) << in;
    EXPECT_EQ(ParseMailbox(FormatMailbox(*m)), m) << in;
  }
}

TEST(AddressMailbox, AddressJoinsLocalPartAndDomain) {
  EXPECT_EQ(Mb("X", "a.b", "c.d").Address(), "a.b@c.d");
  EXPECT_EQ(Mb("", "\"a b\"", "c").Address(), "\"a b\"@c");
  EXPECT_EQ(Mb("", "postmaster", "").Address(), "postmaster");
}

TEST(AddressMailbox, ParseAddrSpec) {
  Defects d;
  EXPECT_EQ(ParseAddrSpec("user@example.com", &d),
            Mb("", "user", "example.com"));
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(ParseAddrSpec("Name <user@example.com>", &d), std::nullopt);
  EXPECT_EQ(ParseAddrSpec("user", &d), std::nullopt);
  EXPECT_EQ(ParseAddrSpec("user@", &d), std::nullopt);
  EXPECT_EQ(ParseAddrSpec("", &d), std::nullopt);
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kInvalidAddress));
}

// ---- Display names: RFC 2047 encoded words and raw UTF-8.

TEST(AddressDisplayName, EncodedWordsAreDecoded) {
  Defects d;
  EXPECT_EQ(One("=?utf-8?q?J=C3=BCrgen?= <j@example.com>", &d),
            Mb("J\xC3\xBCrgen", "j", "example.com"));
  // RFC 2047 section 8's examples.
  EXPECT_EQ(One("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", &d),
            Mb("Andr\xC3\xA9 Pirard", "PIRARD", "vm1.ulg.ac.be"));
  EXPECT_EQ(One("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", &d),
            Mb("Keith Moore", "moore", "cs.utk.edu"));
  // Adjacent encoded words: the space between them is dropped.
  EXPECT_EQ(One("=?utf-8?q?a?= =?utf-8?q?b?= <x@y>", &d), Mb("ab", "x", "y"));
  EXPECT_THAT(d, IsEmpty());
}

TEST(AddressDisplayName, RawUtf8IsKept) {
  Defects d;
  EXPECT_EQ(One("J\xC3\xBCrgen M\xC3\xBCller <j@example.com>", &d),
            Mb("J\xC3\xBCrgen M\xC3\xBCller", "j", "example.com"));
  EXPECT_EQ(One("\"\xE6\x97\xA5\xE6\x9C\xAC\" <n@example.jp>", &d),
            Mb("\xE6\x97\xA5\xE6\x9C\xAC", "n", "example.jp"));
  EXPECT_THAT(d, IsEmpty());
}

TEST(AddressDisplayName, CommentsAndSpacing) {
  EXPECT_EQ(One("John (middle) Doe <j@x>"), Mb("John Doe", "j", "x"));
  EXPECT_EQ(One("  John \t  Doe   <j@x>"), Mb("John Doe", "j", "x"));
  // Whitespace is normalised: trimmed, runs made one space.
  EXPECT_EQ(One("\"  spaced \t out  \" <j@x>"), Mb("spaced out", "j", "x"));
  EXPECT_EQ(One("=?utf-8?q?_a=0D=0Ab_?= <j@x>"), Mb("a b", "j", "x"));
  EXPECT_EQ(One("j@x (John Doe)"), Mb("", "j", "x"));
}

// ---- Broken input: defects, best effort, the good mailboxes kept.

TEST(AddressBroken, UnterminatedQuotedString) {
  Defects d;
  EXPECT_EQ(One("\"Joe <joe@example.com>", &d),
            Mb("Joe", "joe", "example.com"));
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kUnterminatedQuotedString));
  d.clear();
  EXPECT_THAT(List("a@b, \"broken", &d), Contains(Mb("", "a", "b")));
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kUnterminatedQuotedString));
}

TEST(AddressBroken, UnterminatedComment) {
  Defects d;
  EXPECT_EQ(One("joe@example.com (Joe", &d), Mb("", "joe", "example.com"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kUnterminatedComment));
  d.clear();
  // The comment swallows the rest: only "Joe" is left, a bare word.
  (void)One("Joe (a (nested) comment <joe@example.com>", &d);
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kUnterminatedComment));
}

TEST(AddressBroken, UnterminatedAngleAddress) {
  Defects d;
  EXPECT_EQ(One("Joe <joe@example.com", &d),
            Mb("Joe", "joe", "example.com"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kUnterminatedAngleAddress));
  d.clear();
  EXPECT_THAT(List("Joe <joe@example.com, ann@example.org", &d),
              ElementsAre(Mb("Joe", "joe", "example.com"),
                          Mb("", "ann", "example.org")));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kUnterminatedAngleAddress));
}

TEST(AddressBroken, JunkKeepsTheGoodMailboxes) {
  Defects d;
  EXPECT_THAT(List("a@b, <<<>>>, c@d", &d),
              ElementsAre(Mb("", "a", "b"), Mb("", "c", "d")));
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kInvalidAddress));
  d.clear();
  EXPECT_THAT(List("a@b, @@@, ))), c@d, [x], e@f", &d),
              ElementsAre(Mb("", "a", "b"), Mb("", "c", "d"),
                          Mb("", "e", "f")));
  d.clear();
  // A missing comma, and Outlook's semicolons.
  EXPECT_THAT(List("a@b c@d; e@f", &d),
              ElementsAre(Mb("", "a", "b"), Mb("", "c", "d"),
                          Mb("", "e", "f")));
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kInvalidAddress));
  d.clear();
  EXPECT_THAT(List("<>, a@b", &d), ElementsAre(Mb("", "a", "b")));
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kInvalidAddress));
}

TEST(AddressBroken, WordsBeforeAnAddrSpecBecomeTheName) {
  Defects d;
  EXPECT_EQ(One("Joe Smith joe@example.com", &d),
            Mb("Joe Smith", "joe", "example.com"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidAddress));
}

TEST(AddressBroken, BareLocalPart) {
  Defects d;
  EXPECT_THAT(List("undisclosed-recipients", &d),
              ElementsAre(Mb("", "undisclosed-recipients", "")));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidAddress));
  d.clear();
  EXPECT_EQ(One("Postmaster <postmaster>", &d),
            Mb("Postmaster", "postmaster", ""));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidAddress));
}

TEST(AddressBroken, EmptyElements) {
  Defects d;
  EXPECT_THAT(List("", &d), IsEmpty());
  EXPECT_THAT(List("   ", &d), IsEmpty());
  EXPECT_THAT(d, IsEmpty());
  EXPECT_THAT(List(", a@b,,c@d,", &d),
              ElementsAre(Mb("", "a", "b"), Mb("", "c", "d")));
  EXPECT_EQ(std::count_if(d.begin(), d.end(),
                          [](const Defect& x) {
                            return x.kind ==
                                   DefectKind::kEmptyAddressListElement;
                          }),
            3);
}

TEST(AddressBroken, GroupWithoutSemicolon) {
  Defects d;
  AddressList l = ParseAddressList("Friends: a@b, c@d", &d);
  ASSERT_EQ(l.items.size(), 1u);
  EXPECT_THAT(l.items[0].group.members,
              ElementsAre(Mb("", "a", "b"), Mb("", "c", "d")));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidAddress));
}

TEST(AddressBroken, ParseMailboxOfAGroupOrAList) {
  Defects d;
  EXPECT_EQ(One("G: a@b, c@d;", &d), Mb("", "a", "b"));
  EXPECT_THAT(Kinds(d), Contains(DefectKind::kInvalidAddress));
  d.clear();
  EXPECT_EQ(One("a@b, c@d", &d), Mb("", "a", "b"));
  EXPECT_THAT(Kinds(d), ElementsAre(DefectKind::kInvalidAddress));
  EXPECT_EQ(One("", &d), std::nullopt);
  EXPECT_EQ(One("<>", &d), std::nullopt);
}

TEST(AddressBroken, DefectOffsetsIncludeTheBaseOffset) {
  Defects d;
  ParseAddressList("a@b, , c@d", &d, 100);
  ASSERT_THAT(d, ElementsAre(Defect{DefectKind::kEmptyAddressListElement,
                                    105}));
}

TEST(AddressList, MailboxesFlattensGroups) {
  AddressList l =
      ParseAddressList("a@b, G: c@d, e@f;, g@h, Empty:;, i@j");
  EXPECT_EQ(l.items.size(), 5u);
  EXPECT_THAT(l.Mailboxes(),
              ElementsAre(Mb("", "a", "b"), Mb("", "c", "d"),
                          Mb("", "e", "f"), Mb("", "g", "h"),
                          Mb("", "i", "j")));
}

TEST(AddressList, AppendingOverloadReusesTheList) {
  AddressList l;
  ParseAddressList("a@b", &l);
  ParseAddressList("c@d, e@f", &l);
  EXPECT_THAT(l.Mailboxes(), ElementsAre(Mb("", "a", "b"), Mb("", "c", "d"),
                                         Mb("", "e", "f")));
}

// ---- Formatting.

TEST(AddressFormat, FormatMailbox) {
  EXPECT_EQ(FormatMailbox(Mb("", "a", "example.com")), "a@example.com");
  EXPECT_EQ(FormatMailbox(Mb("John Doe", "jdoe", "example.com")),
            "John Doe <jdoe@example.com>");
  EXPECT_EQ(FormatMailbox(Mb("Joe Q. Public", "john.q.public", "example.com")),
            "\"Joe Q. Public\" <john.q.public@example.com>");
  EXPECT_EQ(FormatMailbox(Mb("", "\"a b\"", "c")), "\"a b\"@c");
  // A local part given unquoted is quoted as it must be.
  EXPECT_EQ(FormatMailbox(Mb("", "a b", "c")), "\"a b\"@c");
  const std::string encoded =
      FormatMailbox(Mb("J\xC3\xBCrgen", "j", "example.com"));
  EXPECT_EQ(encoded.rfind("=?", 0), 0u) << encoded;
  EXPECT_THAT(encoded, ::testing::EndsWith(" <j@example.com>"));
  for (char c : encoded) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
}

TEST(AddressFormat, RoundTripThroughParseMailbox) {
  const std::vector<Mailbox> cases = {
      Mb("", "a", "example.com"),
      Mb("John Doe", "jdoe", "example.com"),
      Mb("Joe Q. Public", "john.q.public", "example.com"),
      Mb("Giant; \"Big\" Box", "sysservices", "example.net"),
      Mb("Mary Smith: Personal Account", "smith", "home.example"),
      Mb("J\xC3\xBCrgen M\xC3\xBCller", "j", "example.com"),
      Mb("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "nihongo", "example.jp"),
      Mb("Ren\xC3\xA9 \"the\" (best)", "rene", "example.fr"),
      Mb("back\\slash", "x", "y"),
      Mb("=?not an encoded word?=", "x", "y"),
      Mb("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 "
         "\xD0\xBC\xD0\xB8\xD1\x80 a very long name that will need "
         "several encoded words to be written",
         "long", "example.ru"),
      Mb("", "\"john doe\"", "example.com"),
      Mb("Literal", "root", "[192.0.2.1]"),
  };
  for (const Mailbox& m : cases) {
    const std::string text = FormatMailbox(m);
    Defects d;
    EXPECT_EQ(One(text, &d), m) << text;
    EXPECT_THAT(d, IsEmpty()) << text;
  }
}

TEST(AddressFormat, FormatAddressListFoldsAt78) {
  std::vector<Mailbox> list;
  for (int i = 0; i < 50; ++i) {
    list.push_back(Mb(i % 3 == 0 ? "" : "Person Number " + std::to_string(i),
                      "user" + std::to_string(i), "example.com"));
  }
  const std::string text = FormatAddressList(list, 4);  // "To: "
  std::size_t line_start = 0;
  std::size_t first = 4;
  for (;;) {
    const std::size_t eol = text.find("\r\n", line_start);
    const std::size_t len =
        (eol == std::string::npos ? text.size() : eol) - line_start;
    EXPECT_LE(len + first, 78u);
    first = 0;
    if (eol == std::string::npos) break;
    ASSERT_LT(eol + 2, text.size());
    EXPECT_EQ(text[eol + 2], ' ');  // CRLF SP
    line_start = eol + 2;
  }
  Defects d;
  EXPECT_EQ(List(text, &d), list);
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(FormatAddressList({Mb("", "a", "b"), Mb("X", "c", "d")}, 4),
            "a@b, X <c@d>");
  EXPECT_EQ(FormatAddressList({}, 4), "");
}

// A long mailbox folds before its own " <", never at a " <" inside a
// quoted local part or a domain literal, where the fold would change the
// address (found by fuzz_address).
TEST(AddressFormat, FoldsOnlyBeforeTheAngleOfTheDisplayName) {
  const std::string filler(60, 'x');
  const std::vector<Mailbox> list = {
      Mb("Name", "u", "[a\\ <b" + filler + "]"),
      Mb("Other", "\"q <" + filler + "\"", "example.com"),
  };
  const std::string text = FormatAddressList(list, 4);
  EXPECT_EQ(text.find(" <b"), text.find("\\ <b") + 1) << text;
  EXPECT_EQ(text.find("\r\n <b"), std::string::npos) << text;
  EXPECT_EQ(text.find("\r\n <" + filler), std::string::npos) << text;
  EXPECT_NE(text.find("Name\r\n <u@"), std::string::npos) << text;
  Defects d;
  EXPECT_EQ(List(text, &d), list);
}

// ---- Bounds: every prefix of tricky inputs, each in a guarded buffer.

TEST(AddressBounds, EveryPrefixStaysInBounds) {
  const std::vector<std::string_view> inputs = {
      "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
      "A Group(Some people)\r\n :Chris Jones <c@(Chris's host.)public.example>"
      ",\r\n joe@example.org,\r\n John <jdoe@one.test> (my dear friend); "
      "(the end of the group)",
      "\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>, <@a,@b:u@[1.2.3.4]>",
      "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
      "=?utf-8?q?J=C3=BCrgen?= <j@example.com>, \"a\\",
      "x@[1.2\\", "(((", "\"\\", "<", "a@", "a@b.", "G:;", "G:a@b",
  };
  for (std::string_view full : inputs) {
    for (std::size_t n = 0; n <= full.size(); ++n) {
      GuardedInput in(full.substr(0, n));
      Defects d;
      AddressList l = ParseAddressList(in.view(), &d, 7);
      for (const Defect& x : d) {
        EXPECT_GE(x.offset, 7u);
        EXPECT_LE(x.offset, 7u + n);
      }
      (void)ParseMailbox(in.view(), &d);
      (void)ParseAddrSpec(in.view(), &d);
    }
  }
}

}  // namespace
}  // namespace posthorn::message
