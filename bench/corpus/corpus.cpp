// bench/corpus/corpus.cpp — see corpus.h.
//
// The encoders here (base64, quoted-printable, RFC 2047, RFC 2231) are
// written for the generator alone, on purpose independent of the library
// under test: a bug in posthorn's encoders must not shape its own benchmark.

#include "corpus/corpus.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::bench {
namespace {

// ---------------------------------------------------------------------------
// Randomness: splitmix64, integers only.

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0. The modulo bias (n << 2^64) does not matter.
  std::size_t Below(std::size_t n) { return Next() % n; }
  // Uniform in [lo, hi].
  std::size_t Range(std::size_t lo, std::size_t hi) {
    return lo + Below(hi - lo + 1);
  }
  // True with probability percent / 100.
  bool Percent(unsigned percent) { return Below(100) < percent; }
  template <typename T, std::size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[Below(N)];
  }
  // Roughly log-uniform in [lo, hi]: a power-of-two octave chosen uniformly,
  // then a uniform point inside it.
  std::size_t LogUniform(std::size_t lo, std::size_t hi) {
    std::size_t octaves = 0;
    while ((lo << (octaves + 1)) <= hi) ++octaves;
    std::size_t base = lo << Below(octaves + 1);
    return std::min(hi, base + Below(base));
  }
  // Like LogUniform, but the octave is the smaller of two draws: small
  // sizes are common, the largest rare (as attachments in a mailbox).
  std::size_t LogSkewed(std::size_t lo, std::size_t hi) {
    std::size_t octaves = 0;
    while ((lo << (octaves + 1)) <= hi) ++octaves;
    std::size_t base = lo << std::min(Below(octaves + 1), Below(octaves + 1));
    return std::min(hi, base + Below(base));
  }

 private:
  std::uint64_t state_;
};

// ---------------------------------------------------------------------------
// Vocabulary. Only characters of ISO-8859-1 appear, so every text can also be
// written in that charset.

constexpr std::array<std::string_view, 64> kEnglish = {
    "the",      "meeting",  "project",  "report",   "please",   "review",
    "attached", "document", "before",   "Friday",   "thanks",   "budget",
    "schedule", "we",       "should",   "discuss",  "next",     "week",
    "client",   "feedback", "about",    "release",  "version",  "server",
    "update",   "deadline", "team",     "quarter",  "numbers",  "are",
    "looking",  "good",     "but",      "there",    "is",       "still",
    "an",       "issue",    "with",     "the",      "invoice",  "from",
    "last",     "month",    "could",    "you",      "check",    "whether",
    "it",       "has",      "been",     "paid",     "already",  "I",
    "will",     "send",     "a",        "summary",  "tomorrow", "morning",
    "regards",  "and",      "of",       "to"};

constexpr std::array<std::string_view, 64> kFrench = {
    "réunion",  "à",         "propos",    "du",        "projet",  "été",
    "déjà",     "très",      "où",        "ça",        "français", "élève",
    "garçon",   "façade",    "noël",      "naïf",      "cœur",    "être",
    "fenêtre",  "hôtel",     "tâche",     "forêt",     "dû",      "sûr",
    "la",       "le",        "les",       "des",       "nous",    "vous",
    "avons",    "reçu",      "votre",     "message",   "merci",   "pour",
    "réponse",  "rapide",    "prochaine", "semaine",   "équipe",  "complète",
    "budget",   "prévu",     "décembre",  "février",   "août",    "mère",
    "frère",    "problème",  "système",   "deuxième",  "bientôt", "aussi",
    "et",       "de",        "en",        "un",        "une",     "sur",
    "cordialement", "bonne", "journée",   "leçon"};

constexpr std::array<std::string_view, 64> kGerman = {
    "Grüße",    "Straße",   "Größe",     "Übersicht", "Änderung", "Öffnung",
    "für",      "über",     "können",    "müssen",    "Bücher",   "schön",
    "Mädchen",  "Brötchen", "Käse",      "hören",     "Tür",      "weiß",
    "groß",     "Fuß",      "heißen",    "Besprechung", "nächste", "Woche",
    "Projekt",  "Bericht",  "bitte",     "prüfen",    "Anhang",   "vielen",
    "Dank",     "die",      "der",       "das",       "und",      "mit",
    "ist",      "wir",      "Sie",       "Ihre",      "Rückmeldung", "gemäß",
    "Gebühr",   "Verfügung", "zurück",   "Lösung",    "Männer",   "Häuser",
    "ähnlich",  "übermorgen", "Frühstück", "Glück",   "Küche",    "Schlüssel",
    "Zuständigkeit", "Abstimmung", "Unterlagen", "Termin", "heute", "morgen",
    "Freundliche", "Grüßen",  "zwölf",    "Äpfel"};

constexpr std::array<std::string_view, 40> kFirstNames = {
    "John",    "Mary",     "Peter",    "Susan",   "David",   "Linda",
    "Michael", "Karen",    "James",    "Emma",    "François", "Hélène",
    "Jérôme",  "Céline",   "Benoît",   "Amélie",  "Noël",    "Zoë",
    "Jürgen",  "Jörg",     "Björn",    "Käthe",   "Günther", "Sören",
    "Ånund",   "Øystein",  "Iñaki",    "José",    "Inés",    "Raúl",
    "Chloé",   "Gaëlle",   "Maël",     "Léa",     "Ana",     "Paul",
    "Anna",    "Thomas",   "Laura",    "Mark"};

constexpr std::array<std::string_view, 40> kLastNames = {
    "Smith",    "Johnson",  "Brown",    "Taylor",   "Miller",  "Wilson",
    "Müller",   "Schäfer",  "Groß",     "Köhler",   "Weiß",    "Hoffmann",
    "Böhm",     "Krüger",   "Lefèvre",  "Dupré",    "Girard",  "Bérénger",
    "Gaël",     "Mercier",  "Fontaine", "Lévêque",  "Faÿ",     "Martín",
    "Núñez",    "García",   "López",    "Sørensen", "Ångström", "Nyström",
    "O'Brien",  "Doe",      "Clark",    "Lewis",    "Walker",  "Hall",
    "Young",    "King",     "Wright",   "Scott"};

constexpr std::array<std::string_view, 16> kDomains = {
    "example.com",      "example.org",      "example.net",
    "mail.example.de",  "corp.example.fr",  "lists.example.org",
    "exemple.fr",       "beispiel.de",      "sub.domain.example",
    "university.example.edu", "bank.example", "shop.example.co.uk",
    "example.ch",       "news.example.info", "team.example.io",
    "example.at"};

constexpr std::array<std::string_view, 12> kHosts = {
    "mx1",  "mx2",   "smtp",   "mail",  "relay", "out",
    "in-1", "in-2",  "filter", "mta-7", "edge",  "gw"};

constexpr std::array<std::string_view, 6> kMailers = {
    "Postfix", "Exim 4.96", "Microsoft SMTP Server (version=TLS1_2)",
    "Sendmail 8.17.1/8.17.1", "OpenSMTPD", "Google Transport Security"};

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                   "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 12> kMonths = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 6> kZones = {
    "+0000", "+0100", "+0200", "-0500", "-0800", "+0530"};

enum class Language { kEnglish, kFrench, kGerman };

std::span<const std::string_view> Words(Language language) {
  switch (language) {
    case Language::kFrench:
      return kFrench;
    case Language::kGerman:
      return kGerman;
    case Language::kEnglish:
      break;
  }
  return kEnglish;
}

// ---------------------------------------------------------------------------
// Charset helpers.

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (static_cast<unsigned char>(c) &
                                          0x80) == 0; });
}

// UTF-8 to ISO-8859-1 for the code points U+0000..U+00FF ("?" otherwise).
std::string ToLatin1(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < utf8.size()) {
      auto d = static_cast<unsigned char>(utf8[++i]);
      out += static_cast<char>(((c & 0x03) << 6) | (d & 0x3f));
    } else {
      // Skip the continuation bytes of a character Latin-1 lacks (œ, ÿ...).
      while (i + 1 < utf8.size() &&
             (static_cast<unsigned char>(utf8[i + 1]) & 0xc0) == 0x80) {
        ++i;
      }
      out += '?';
    }
  }
  return out;
}

// Length in bytes of the character starting with `lead` in `charset`.
std::size_t CharLength(unsigned char lead, bool utf8) {
  if (!utf8 || lead < 0xc0) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return 4;
}

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// ---------------------------------------------------------------------------
// Encoders.

// Base64 with CRLF after every `line_length` characters (0: one line, no
// line end).
void AppendBase64(std::string_view in, std::size_t line_length,
                  std::string* out) {
  std::size_t column = 0;
  auto put = [&](char c) {
    out->push_back(c);
    if (line_length != 0 && ++column == line_length) {
      out->append("\r\n");
      column = 0;
    }
  };
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                      (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    put(kBase64Alphabet[v >> 18]);
    put(kBase64Alphabet[(v >> 12) & 63]);
    put(kBase64Alphabet[(v >> 6) & 63]);
    put(kBase64Alphabet[v & 63]);
  }
  if (i < in.size()) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    put(kBase64Alphabet[v >> 18]);
    put(kBase64Alphabet[(v >> 12) & 63]);
    put(i + 1 < in.size() ? kBase64Alphabet[(v >> 6) & 63] : '=');
    put('=');
  }
  if (line_length != 0 && column != 0) out->append("\r\n");
}

// Quoted-printable of text whose lines end with "\n" (written as CRLF hard
// breaks); soft breaks keep every line at most 76 characters.
void AppendQuotedPrintable(std::string_view text, std::string* out) {
  std::size_t column = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out->append("\r\n");
      column = 0;
      continue;
    }
    bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n';
    bool literal = (c >= 33 && c <= 126 && c != '=') ||
                   ((c == ' ' || c == '\t') && !at_line_end);
    std::size_t width = literal ? 1 : 3;
    // Leave room for the "=" of a soft break.
    if (column + width > 75) {
      out->append("=\r\n");
      column = 0;
    }
    if (literal) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('=');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
    column += width;
  }
}

// RFC 2047 encoded words for `text` (UTF-8), written in `charset` ("UTF-8"
// or "ISO-8859-1") with encoding 'Q' or 'B'. Words are at most 75 octets and
// separated by CRLF SP folds; `column` is where the first word starts.
// `phrase` restricts Q to the characters allowed in a phrase (RFC 2047
// section 5 rule 3).
std::string EncodeWords(std::string_view text, std::string_view charset,
                        char encoding, std::size_t column, bool phrase) {
  bool utf8 = charset == "UTF-8";
  std::string bytes = utf8 ? std::string(text) : ToLatin1(text);
  std::string prefix = "=?" + std::string(charset) + "?" + encoding + "?";
  const std::size_t overhead = prefix.size() + 2;  // + "?="
  std::string out;
  std::string word;
  std::string raw;  // B: the bytes of the current word, encoded at the end
  auto flush = [&] {
    if (encoding == 'B') {
      word.clear();
      AppendBase64(raw, 0, &word);
      raw.clear();
    }
    if (word.empty()) return;
    std::size_t length = overhead + word.size();
    if (!out.empty()) {
      if (column + 1 + length > 76) {
        out.append("\r\n ");
        column = 1;
      } else {
        out.push_back(' ');
        ++column;
      }
    }
    out += prefix;
    out += word;
    out += "?=";
    column += length;
    word.clear();
  };
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t n = std::min(
        CharLength(static_cast<unsigned char>(bytes[i]), utf8),
        bytes.size() - i);
    std::string_view ch(bytes.data() + i, n);
    i += n;
    if (encoding == 'B') {
      if (overhead + 4 * ((raw.size() + n + 2) / 3) > 75) flush();
      raw += ch;
      continue;
    }
    std::string piece;
    for (char b : ch) {
      auto u = static_cast<unsigned char>(b);
      bool plain = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') ||
                   (u >= 'A' && u <= 'Z') ||
                   (phrase ? (u == '!' || u == '*' || u == '+' || u == '-' ||
                              u == '/')
                           : (u > 32 && u < 127 && u != '=' && u != '?' &&
                              u != '_'));
      if (u == ' ') {
        piece += '_';
      } else if (plain) {
        piece += b;
      } else {
        piece += '=';
        piece += kHex[u >> 4];
        piece += kHex[u & 15];
      }
    }
    if (overhead + word.size() + piece.size() > 75) flush();
    word += piece;
  }
  flush();
  return out;
}

// RFC 2231 extended value: utf-8''%XX... (one section; names stay short).
std::string Rfc2231Value(std::string_view utf8) {
  std::string out = "utf-8''";
  for (char c : utf8) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') ||
        (u >= 'A' && u <= 'Z') || u == '.' || u == '-' || u == '_') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// Joins items with ", " and folds before an item that would pass column 76.
std::string FoldList(const std::vector<std::string>& items,
                     std::size_t column) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& item = items[i];
    // An item may itself be folded; only its first line matters here.
    std::size_t first_line = std::min(item.size(), item.find("\r\n"));
    if (i > 0) {
      out += ',';
      ++column;
      if (column + 1 + first_line > 76) {
        out += "\r\n ";
        column = 1;
      } else {
        out += ' ';
        ++column;
      }
    }
    out += item;
    std::size_t last_break = item.rfind("\r\n");
    column = last_break == std::string::npos
                 ? column + item.size()
                 : item.size() - last_break - 2;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The generator.

struct Person {
  std::string first, last;  // UTF-8
  std::string address;
};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  CorpusMessage Next();

 private:
  Language PickLanguage() {
    std::size_t r = rng_.Below(10);
    return r < 4 ? Language::kEnglish
                 : (r < 7 ? Language::kFrench : Language::kGerman);
  }
  std::string Sentence(Language language);
  // Paragraphs separated by "\n\n"; each paragraph one long line when
  // `wrap` is false (as HTML-era mailers write text for QP), else wrapped at
  // 72 columns.
  std::string Text(Language language, std::size_t bytes, bool wrap);
  Person MakePerson();
  std::string FormatPerson(const Person& person);
  std::string AddressList(std::size_t count, std::size_t column);
  std::string Date();
  std::string MessageId();
  std::string Boundary();
  std::string Subject(Language language);
  std::string Received(std::size_t hop);
  void CommonHeaders(Language language, std::string* out);

  // A body part: its header lines (each ending CRLF) then CRLF and the body.
  std::string PlainPart(Language language, std::size_t bytes,
                        std::string_view* kind);
  std::string QpPart(Language language, std::string_view subtype,
                     std::string_view text);
  std::string AlternativeBody(Language language, std::string* content_type);
  std::string Attachment(std::size_t bytes);
  std::string InlineImage(std::string* content_id);
  std::string MixedBody(Language language, std::size_t attachments,
                        bool forward, std::string* content_type);

  Rng rng_;
  std::uint64_t serial_ = 0;
};

std::string Generator::Sentence(Language language) {
  std::span<const std::string_view> words = Words(language);
  std::size_t n = rng_.Range(4, 18);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    std::string_view w = words[rng_.Below(words.size())];
    out += w;
    if (i == 0 && !w.empty() && w[0] >= 'a' && w[0] <= 'z') {
      out[out.size() - w.size()] = static_cast<char>(w[0] - 'a' + 'A');
    }
  }
  out += rng_.Percent(85) ? "." : (rng_.Percent(50) ? "?" : "!");
  return out;
}

std::string Generator::Text(Language language, std::size_t bytes, bool wrap) {
  std::string out;
  while (out.size() < bytes) {
    std::string paragraph;
    std::size_t sentences = rng_.Range(2, 7);
    for (std::size_t i = 0; i < sentences; ++i) {
      if (i > 0) paragraph += ' ';
      paragraph += Sentence(language);
    }
    if (wrap) {
      std::size_t column = 0;
      std::size_t start = 0;
      std::string wrapped;
      while (start < paragraph.size()) {
        std::size_t end = paragraph.find(' ', start);
        if (end == std::string::npos) end = paragraph.size();
        std::size_t len = end - start;
        if (column > 0 && column + 1 + len > 72) {
          wrapped += '\n';
          column = 0;
        } else if (column > 0) {
          wrapped += ' ';
          ++column;
        }
        wrapped.append(paragraph, start, len);
        column += len;
        start = end + 1;
      }
      paragraph = std::move(wrapped);
    }
    // Quoted replies now and then: "> " lines.
    if (wrap && rng_.Percent(15)) {
      std::string quoted = "> ";
      for (char c : paragraph) {
        quoted += c;
        if (c == '\n') quoted += "> ";
      }
      paragraph = std::move(quoted);
    }
    if (!out.empty()) out += "\n\n";
    out += paragraph;
  }
  out += '\n';
  return out;
}

Person Generator::MakePerson() {
  Person p;
  p.first = std::string(rng_.Pick(kFirstNames));
  p.last = std::string(rng_.Pick(kLastNames));
  std::string local;
  for (std::string_view part : {std::string_view(p.first),
                                std::string_view(p.last)}) {
    if (!local.empty()) local += rng_.Percent(70) ? '.' : '_';
    for (char c : part) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x80 && c != '\'') {
        local += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      }
    }
  }
  if (rng_.Percent(20)) local += std::to_string(rng_.Range(1, 99));
  p.address = local + "@" + std::string(rng_.Pick(kDomains));
  return p;
}

// One of the ways a mailbox is written in practice.
std::string Generator::FormatPerson(const Person& person) {
  std::string name = person.first + " " + person.last;
  std::size_t style = rng_.Below(100);
  if (style < 10) return person.address;                    // bare addr-spec
  if (style < 14) return "<" + person.address + ">";        // angle only
  if (IsAscii(name)) {
    if (person.last.find('\'') != std::string::npos || style < 30) {
      // "Last, First" needs quoting.
      return "\"" + person.last + ", " + person.first + "\" <" +
             person.address + ">";
    }
    if (style < 36) return person.address + " (" + name + ")";  // comment
    return name + " <" + person.address + ">";
  }
  if (style < 22) {
    // Raw 8-bit UTF-8 (RFC 6532), common in modern mail.
    return "\"" + name + "\" <" + person.address + ">";
  }
  std::string_view charset = rng_.Percent(60) ? "UTF-8" : "ISO-8859-1";
  char encoding = rng_.Percent(50) ? 'Q' : 'B';
  return EncodeWords(name, charset, encoding, 10, /*phrase=*/true) + " <" +
         person.address + ">";
}

std::string Generator::AddressList(std::size_t count, std::size_t column) {
  std::vector<std::string> items;
  items.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    items.push_back(FormatPerson(MakePerson()));
  }
  return FoldList(items, column);
}

// Day of the week, 0 = Monday (days-from-civil, proleptic Gregorian).
std::size_t Weekday(std::size_t year, std::size_t month, std::size_t day) {
  long y = static_cast<long>(year) - (month <= 2 ? 1 : 0);
  long era = y / 400;
  long yoe = y - era * 400;
  long m = static_cast<long>(month);
  long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 +
             static_cast<long>(day) - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long days = era * 146097 + doe - 719468;  // since 1970-01-01, a Thursday
  return static_cast<std::size_t>(((days % 7) + 7 + 3) % 7);
}

std::string Generator::Date() {
  std::size_t year = rng_.Range(2015, 2024);
  std::size_t month = rng_.Range(1, 12);
  std::size_t day = rng_.Range(1, 28);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %zu %s %zu %02zu:%02zu:%02zu %s",
                std::string(kDays[Weekday(year, month, day)]).c_str(), day,
                std::string(kMonths[month - 1]).c_str(), year,
                rng_.Below(24), rng_.Below(60), rng_.Below(60),
                std::string(rng_.Pick(kZones)).c_str());
  std::string out = buf;
  if (rng_.Percent(20)) out += rng_.Percent(50) ? " (UTC)" : " (CET)";
  return out;
}

std::string Generator::MessageId() {
  char buf[96];
  std::snprintf(buf, sizeof buf, "<%016llx.%08llx.%llu@%s.%s>",
                static_cast<unsigned long long>(rng_.Next()),
                static_cast<unsigned long long>(rng_.Next() & 0xffffffffULL),
                static_cast<unsigned long long>(++serial_),
                std::string(rng_.Pick(kHosts)).c_str(),
                std::string(rng_.Pick(kDomains)).c_str());
  return buf;
}

std::string Generator::Boundary() {
  char buf[80];
  switch (rng_.Below(3)) {
    case 0:
      std::snprintf(buf, sizeof buf, "----=_Part_%llu_%llu.%llu",
                    static_cast<unsigned long long>(rng_.Below(100000)),
                    static_cast<unsigned long long>(rng_.Below(1000000000)),
                    static_cast<unsigned long long>(1600000000000ULL +
                                                    rng_.Below(1u << 30)));
      break;
    case 1:
      std::snprintf(buf, sizeof buf, "000000000000%012llx",
                    static_cast<unsigned long long>(rng_.Next() &
                                                    0xffffffffffffULL));
      break;
    default:
      std::snprintf(buf, sizeof buf, "=_%016llx%08llx",
                    static_cast<unsigned long long>(rng_.Next()),
                    static_cast<unsigned long long>(rng_.Next() &
                                                    0xffffffffULL));
      break;
  }
  return buf;
}

std::string Generator::Subject(Language language) {
  std::span<const std::string_view> words = Words(language);
  std::string text;
  std::size_t n = rng_.Range(2, 12);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) text += ' ';
    text += words[rng_.Below(words.size())];
  }
  std::size_t prefix = rng_.Below(10);
  std::string_view re = prefix < 3 ? "Re: "
                        : prefix == 3 ? (language == Language::kGerman
                                             ? "AW: "
                                             : "Fwd: ")
                                      : "";
  if (IsAscii(text) && !rng_.Percent(10)) return std::string(re) + text;
  std::string_view charset = rng_.Percent(65) ? "UTF-8" : "ISO-8859-1";
  char encoding = rng_.Percent(50) ? 'Q' : 'B';
  return std::string(re) +
         EncodeWords(text, charset, encoding, 9 + re.size(),
                     /*phrase=*/false);
}

std::string Generator::Received(std::size_t hop) {
  std::string from_host = std::string(rng_.Pick(kHosts)) + "-" +
                          std::to_string(hop) + "." +
                          std::string(rng_.Pick(kDomains));
  std::string by_host = std::string(rng_.Pick(kHosts)) + "." +
                        std::string(rng_.Pick(kDomains));
  char ip[32];
  std::snprintf(ip, sizeof ip, "%zu.%zu.%zu.%zu", rng_.Range(1, 223),
                rng_.Below(256), rng_.Below(256), rng_.Range(1, 254));
  char id[24];
  std::snprintf(id, sizeof id, "%012llX",
                static_cast<unsigned long long>(rng_.Next() &
                                                0xffffffffffffULL));
  std::string out = "Received: from " + from_host + " (" + from_host + " [" +
                    ip + "])\r\n\tby " + by_host + " (" +
                    std::string(rng_.Pick(kMailers)) + ") with " +
                    (rng_.Percent(70) ? "ESMTPS" : "ESMTP") + " id " + id;
  if (rng_.Percent(60)) {
    out += "\r\n\tfor <" + MakePerson().address + ">";
  }
  out += ";\r\n\t" + Date() + "\r\n";
  return out;
}

void Generator::CommonHeaders(Language language, std::string* out) {
  Person from = MakePerson();
  *out += "Return-Path: <" + from.address + ">\r\n";
  *out += "Delivered-To: " + MakePerson().address + "\r\n";
  std::size_t hops = rng_.Range(10, 20);
  for (std::size_t i = 0; i < hops; ++i) *out += Received(hops - i);
  if (rng_.Percent(60)) {
    std::string key(rng_.Range(128, 256), '\0');
    for (char& c : key) c = static_cast<char>(rng_.Next());
    std::string signature;
    AppendBase64(key, 0, &signature);
    std::string folded;
    for (std::size_t i = 0; i < signature.size(); i += 70) {
      folded += "\r\n\t ";
      folded.append(signature, i, 70);
    }
    *out += "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" +
            std::string(rng_.Pick(kDomains)) +
            "; s=selector1;\r\n\th=From:To:Subject:Date:Message-ID:"
            "MIME-Version:Content-Type;\r\n\tbh=" +
            signature.substr(0, 44) + ";\r\n\tb=" + folded + "\r\n";
    *out += "Authentication-Results: " + std::string(rng_.Pick(kHosts)) +
            "." + std::string(rng_.Pick(kDomains)) +
            ";\r\n\tdkim=pass header.d=example.com header.s=selector1;"
            "\r\n\tspf=pass (domain of " +
            from.address + " designates 192.0.2.1 as permitted sender)"
            "\r\n\tsmtp.mailfrom=" + from.address + ";\r\n\tdmarc=pass "
            "(p=NONE sp=NONE dis=NONE) header.from=example.com\r\n";
  }
  *out += "From: " + FormatPerson(from) + "\r\n";
  std::size_t r = rng_.Below(100);
  std::size_t to_count = r < 70   ? rng_.Range(1, 3)
                         : r < 90 ? rng_.Range(4, 15)
                                  : 50;
  *out += "To: " + AddressList(to_count, 4) + "\r\n";
  if (rng_.Percent(40)) {
    *out += "Cc: " + AddressList(rng_.Range(1, 10), 4) + "\r\n";
  }
  if (rng_.Percent(20)) {
    *out += "Reply-To: " + AddressList(1, 10) + "\r\n";
  }
  *out += "Subject: " + Subject(language) + "\r\n";
  *out += "Date: " + Date() + "\r\n";
  *out += "Message-ID: " + MessageId() + "\r\n";
  if (rng_.Percent(45)) {
    std::vector<std::string> ids;
    std::size_t n = rng_.Range(1, 10);
    for (std::size_t i = 0; i < n; ++i) ids.push_back(MessageId());
    *out += "In-Reply-To: " + ids.back() + "\r\n";
    std::string refs;
    std::size_t column = 12;
    for (const std::string& id : ids) {
      if (!refs.empty()) {
        if (column + 1 + id.size() > 76) {
          refs += "\r\n ";
          column = 1;
        } else {
          refs += ' ';
          ++column;
        }
      }
      refs += id;
      column += id.size();
    }
    *out += "References: " + refs + "\r\n";
  }
  if (rng_.Percent(30)) {
    *out += "List-Unsubscribe: <mailto:leave-" + std::to_string(rng_.Next()) +
            "@lists.example.org>,\r\n <https://lists.example.org/u/" +
            std::to_string(rng_.Next()) + ">\r\n";
  }
  if (rng_.Percent(50)) {
    *out += "X-Mailer: " +
            std::string(rng_.Percent(50) ? "Microsoft Outlook 16.0"
                                         : "Mozilla Thunderbird 115.3.1") +
            "\r\n";
  }
  *out += "MIME-Version: 1.0\r\n";
}

std::string Generator::QpPart(Language language, std::string_view subtype,
                              std::string_view text) {
  bool latin1 = language != Language::kEnglish && rng_.Percent(40);
  std::string out = "Content-Type: text/" + std::string(subtype) +
                    "; charset=" + (latin1 ? "\"iso-8859-1\"" : "\"utf-8\"") +
                    "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  AppendQuotedPrintable(latin1 ? ToLatin1(text) : std::string(text), &out);
  return out;
}

std::string Generator::PlainPart(Language language, std::size_t bytes,
                                 std::string_view* kind) {
  std::string out;
  if (language == Language::kEnglish || rng_.Percent(50)) {
    // 7bit or raw UTF-8 8bit, wrapped at 72.
    std::string text = Text(language, bytes, /*wrap=*/true);
    bool ascii = IsAscii(text);
    out += ascii ? "Content-Type: text/plain; charset=us-ascii; format=flowed"
                 : "Content-Type: text/plain; charset=UTF-8";
    out += ascii ? "\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                 : "\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
    for (char c : text) {
      if (c == '\n') {
        out += "\r\n";
      } else {
        out += c;
      }
    }
    if (kind) *kind = "plain";
  } else {
    out += QpPart(language, "plain", Text(language, bytes, /*wrap=*/false));
    if (kind) *kind = "qp";
  }
  return out;
}

std::string Generator::InlineImage(std::string* content_id) {
  *content_id = "image" + std::to_string(rng_.Below(1000)) + "@" +
                std::to_string(rng_.Next());
  std::size_t bytes = rng_.LogUniform(1024, 64 * 1024);
  std::string data(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) {
    data[i] = static_cast<char>(rng_.Next());
  }
  std::string out = "Content-Type: image/png; name=\"logo.png\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "Content-ID: <" + *content_id + ">\r\n"
                    "Content-Disposition: inline; filename=\"logo.png\"\r\n"
                    "\r\n";
  AppendBase64(data, 76, &out);
  return out;
}

std::string Generator::AlternativeBody(Language language,
                                       std::string* content_type) {
  std::string boundary = Boundary();
  *content_type = "multipart/alternative;\r\n\tboundary=\"" + boundary + "\"";
  std::string text = Text(language, rng_.LogUniform(512, 16 * 1024),
                          /*wrap=*/false);
  std::string html = "<html><head><meta http-equiv=\"Content-Type\" "
                     "content=\"text/html; charset=utf-8\"></head>\n"
                     "<body style=\"font-family: Calibri, sans-serif;\">\n";
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find("\n\n", start);
    if (end == std::string::npos) end = text.size();
    html += "<p class=\"MsoNormal\" style=\"margin:0cm\">";
    html.append(text, start, end - start);
    html += "</p>\n";
    start = end + 2;
  }
  html += "</body></html>\n";
  std::string out = "This is a multi-part message in MIME format.\r\n";
  out += "--" + boundary + "\r\n";
  out += QpPart(language, "plain", text);
  out += "\r\n--" + boundary + "\r\n";
  if (rng_.Percent(30)) {
    // multipart/related: the HTML and the images it shows.
    std::string inner = Boundary();
    out += "Content-Type: multipart/related;\r\n\tboundary=\"" + inner +
           "\"; type=\"text/html\"\r\n\r\n";
    out += "--" + inner + "\r\n";
    out += QpPart(language, "html", html);
    std::size_t images = rng_.Range(1, 3);
    for (std::size_t i = 0; i < images; ++i) {
      std::string cid;
      out += "\r\n--" + inner + "\r\n";
      out += InlineImage(&cid);
    }
    out += "\r\n--" + inner + "--\r\n";
  } else {
    out += QpPart(language, "html", html);
  }
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

std::string Generator::Attachment(std::size_t bytes) {
  struct Kind {
    std::string_view type, extension, magic;
  };
  static constexpr std::array<Kind, 6> kKinds = {{
      {"application/pdf", "pdf", "%PDF-1.7\n"},
      {"image/jpeg", "jpg", "\xff\xd8\xff\xe0"},
      {"image/png", "png", "\x89PNG\r\n\x1a\n"},
      {"application/zip", "zip", "PK\x03\x04"},
      {"application/vnd.openxmlformats-officedocument.wordprocessingml."
       "document",
       "docx", "PK\x03\x04"},
      {"text/csv", "csv", ""},
  }};
  const Kind& kind = rng_.Pick(kKinds);
  std::string data;
  data.reserve(bytes);
  if (kind.extension == "csv") {
    while (data.size() < bytes) {
      data += std::to_string(rng_.Below(100000)) + ";" +
              std::string(rng_.Pick(kGerman)) + ";" +
              std::to_string(rng_.Below(1000)) + "," +
              std::to_string(rng_.Below(100)) + "\r\n";
    }
  } else {
    data += kind.magic;
    while (data.size() < bytes) {
      std::uint64_t v = rng_.Next();
      for (int i = 0; i < 8; ++i) data += static_cast<char>(v >> (8 * i));
    }
  }
  data.resize(bytes);

  // A file name, sometimes non-ASCII (RFC 2231 in the disposition, RFC 2047
  // in the legacy Content-Type name=, as Outlook and Thunderbird write).
  std::string stem;
  std::size_t words = rng_.Range(1, 3);
  Language language = PickLanguage();
  std::span<const std::string_view> vocabulary = Words(language);
  for (std::size_t i = 0; i < words; ++i) {
    if (i > 0) stem += rng_.Percent(50) ? " " : "_";
    stem += vocabulary[rng_.Below(vocabulary.size())];
  }
  std::string filename = stem + "." + std::string(kind.extension);
  std::string out = "Content-Type: " + std::string(kind.type);
  if (IsAscii(filename)) {
    out += ";\r\n\tname=\"" + filename + "\"\r\n";
    out += "Content-Disposition: attachment;\r\n\tfilename=\"" + filename +
           "\"";
  } else {
    out += ";\r\n\tname=\"" +
           EncodeWords(filename, "UTF-8", 'B', 7, /*phrase=*/false) + "\"\r\n";
    out += "Content-Disposition: attachment;\r\n\tfilename*=" +
           Rfc2231Value(filename);
  }
  out += "; size=" + std::to_string(bytes) + "\r\n";
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  AppendBase64(data, 76, &out);
  return out;
}

std::string Generator::MixedBody(Language language, std::size_t attachments,
                                 bool forward, std::string* content_type) {
  std::string boundary = Boundary();
  *content_type = "multipart/mixed;\r\n\tboundary=\"" + boundary + "\"";
  std::string out = "This is a multi-part message in MIME format.\r\n";
  out += "--" + boundary + "\r\n";
  if (rng_.Percent(50)) {
    std::string inner_type;
    std::string inner = AlternativeBody(language, &inner_type);
    out += "Content-Type: " + inner_type + "\r\n\r\n" + inner;
  } else {
    out += PlainPart(language, rng_.LogUniform(256, 8 * 1024), nullptr);
  }
  if (forward) {
    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Type: message/rfc822\r\n"
           "Content-Disposition: attachment\r\n\r\n";
    std::string inner;
    Language inner_language = PickLanguage();
    CommonHeaders(inner_language, &inner);
    if (rng_.Percent(50)) {
      std::string inner_type;
      std::string body = AlternativeBody(inner_language, &inner_type);
      inner += "Content-Type: " + inner_type + "\r\n\r\n" + body;
    } else {
      inner += PlainPart(inner_language, rng_.LogUniform(512, 16 * 1024),
                         nullptr);
    }
    out += inner;
  }
  for (std::size_t i = 0; i < attachments; ++i) {
    out += "\r\n--" + boundary + "\r\n";
    out += Attachment(rng_.LogSkewed(1024, 2 * 1024 * 1024));
  }
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

CorpusMessage Generator::Next() {
  CorpusMessage message;
  Language language = PickLanguage();
  std::string& out = message.data;
  CommonHeaders(language, &out);
  std::size_t r = rng_.Below(100);
  std::string content_type;
  std::string body;
  if (r < 36) {
    // Single part: the part's own Content-* lines end the header section.
    std::string part = PlainPart(language, rng_.LogUniform(256, 32 * 1024),
                                 &message.kind);
    message.header_bytes = out.size() + part.find("\r\n\r\n") + 4;
    out += part;
    return message;
  }
  if (r < 58) {
    // Quoted-printable French or German text.
    Language qp_language =
        rng_.Percent(50) ? Language::kFrench : Language::kGerman;
    std::string part = QpPart(
        qp_language, "plain",
        Text(qp_language, rng_.LogUniform(512, 32 * 1024), /*wrap=*/false));
    message.kind = "qp";
    message.header_bytes = out.size() + part.find("\r\n\r\n") + 4;
    out += part;
    return message;
  }
  if (r < 88) {
    body = AlternativeBody(language, &content_type);
    message.kind = "alternative";
  } else if (r < 95) {
    // One to three attachments, mostly one: with sizes log-uniform up to
    // 2 MiB these few messages already hold most of the corpus bytes.
    std::size_t attachments = rng_.Percent(70) ? 1 : rng_.Range(2, 3);
    body = MixedBody(language, attachments, false, &content_type);
    message.kind = "mixed";
  } else {
    body = MixedBody(language, rng_.Percent(30) ? 1 : 0, true, &content_type);
    message.kind = "forward";
  }
  out += "Content-Type: " + content_type + "\r\n\r\n";
  message.header_bytes = out.size();
  out += body;
  return message;
}

}  // namespace

Corpus GenerateCorpus(const CorpusOptions& options) {
  Corpus corpus;
  Generator generator(options.seed);
  while (corpus.total_bytes < options.target_bytes) {
    CorpusMessage message = generator.Next();
    corpus.total_bytes += message.data.size();
    corpus.header_bytes += message.header_bytes;
    corpus.messages.push_back(std::move(message));
  }
  return corpus;
}

CorpusOptions OptionsFromEnvironment() {
  CorpusOptions options;
  if (const char* mib = std::getenv("POSTHORN_BENCH_CORPUS_MIB")) {
    unsigned long long v = std::strtoull(mib, nullptr, 10);
    if (v > 0) options.target_bytes = static_cast<std::size_t>(v) << 20;
  }
  if (const char* seed = std::getenv("POSTHORN_BENCH_SEED")) {
    options.seed = std::strtoull(seed, nullptr, 0);
  }
  return options;
}

const Corpus& SharedCorpus() {
  static const Corpus* corpus =
      new Corpus(GenerateCorpus(OptionsFromEnvironment()));
  return *corpus;
}

}  // namespace posthorn::bench
