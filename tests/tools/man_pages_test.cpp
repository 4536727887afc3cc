// tests/tools/man_pages_test.cpp — the manual pages agree with the code.
//
// For sendmail, popper and popauth: every row of the program's flag table
// (the table its parser refuses anything outside of) has a .TP entry
// under OPTIONS in docs/man/<program>.8 and a line in the --help text,
// and every row is handled by the parser. For posthorn.conf: every key of
// the parser has a .TP entry in docs/man/posthorn.conf.5 whose text says
// "Default: <the default of Config{}>", and a line in
// packaging/posthorn.conf when that file exists. sendmail.8 names the
// programs sendmail is also run as.
//
// The pages are read from $POSTHORN_SOURCE_ROOT (set by meson). roff is
// turned into plain text by a small reader of the man(7) macros the pages
// use; groff is run only when it is installed.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "tools/common/config.h"
#include "tools/common/flag_spec.h"
#include "tools/popauth/flags.h"
#include "tools/popper/flags.h"
#include "tools/sendmail/flags.h"

namespace posthorn::tools {
namespace {

// Separates the pieces of an alternating-font macro (".BI \-qR domain"),
// so that "-qR" stays a word of its own; removed for prose checks.
constexpr char kFontBreak = '\x01';

std::string SourceRoot() {
  const char* root = std::getenv("POSTHORN_SOURCE_ROOT");
  return root != nullptr ? root : ".";
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ReadPage(std::string_view name) {
  const std::string path = fmt::format("{}/docs/man/{}", SourceRoot(), name);
  std::optional<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.has_value()) << "cannot read " << path;
  return text.value_or("");
}

// Escapes of the text: \- \(aq \fB ... to plain characters; font changes
// become kFontBreak.
std::string Unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char next = text[++i];
    switch (next) {
      case '-': out += '-'; break;
      case 'e': out += '\\'; break;
      case '&': case 'c': case '%': break;
      case ' ': case '~': out += ' '; break;
      case 'f':  // \fB, \fI, \fR, \fP, \f(XX, \f[XX]
        if (i + 1 < text.size() && text[i + 1] == '(') {
          i += 3;
        } else if (i + 1 < text.size() && text[i + 1] == '[') {
          const std::size_t end = text.find(']', i);
          i = end == std::string_view::npos ? text.size() : end;
        } else {
          ++i;
        }
        out += kFontBreak;
        break;
      case '(': {  // \(aq \(lq \(rq \(dq \(bu ...
        const std::string_view name = text.substr(i + 1, 2);
        i += 2;
        if (name == "aq") out += '\'';
        else if (name == "lq" || name == "rq" || name == "dq") out += '"';
        else out += ' ';
        break;
      }
      default: out += next; break;
    }
  }
  return out;
}

// The arguments of a macro line, double quotes grouping.
std::vector<std::string> MacroArguments(std::string_view rest) {
  std::vector<std::string> args;
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    if (i == rest.size()) break;
    std::string arg;
    if (rest[i] == '"') {
      ++i;
      while (i < rest.size() && rest[i] != '"') arg += rest[i++];
      ++i;
    } else {
      while (i < rest.size() && rest[i] != ' ') arg += rest[i++];
    }
    args.push_back(arg);
  }
  return args;
}

// One source line as text: the words of .B/.I, the pieces of .BR/.IR/...
// (with kFontBreak between them), nothing for the other macros.
std::string LineText(std::string_view line) {
  if (line.empty()) return "";
  if (line.front() != '.' && line.front() != '\'') {
    return Unescape(line);
  }
  const std::size_t space = line.find(' ');
  const std::string_view macro = line.substr(1, space == std::string_view::npos
                                                    ? std::string_view::npos
                                                    : space - 1);
  const std::string_view rest =
      space == std::string_view::npos ? "" : line.substr(space + 1);
  const std::vector<std::string> args = MacroArguments(rest);
  std::string out;
  if (macro == "B" || macro == "I" || macro == "SM" || macro == "SB") {
    for (const std::string& arg : args) {
      if (!out.empty()) out += ' ';
      out += Unescape(arg);
    }
  } else if (macro.size() == 2 && std::string_view("BIR").find(macro[0]) !=
                                      std::string_view::npos &&
             std::string_view("BIR").find(macro[1]) !=
                 std::string_view::npos) {
    for (const std::string& arg : args) {
      out += Unescape(arg);
      out += kFontBreak;
    }
  }
  return out;
}

// A .TP entry: its tag line and the text up to the next .TP, .SH or .SS.
struct Entry {
  std::string section;  // the .SH it is under
  std::string tag;
  std::string body;
};

struct Page {
  std::vector<Entry> entries;
  std::map<std::string, std::string> sections;  // .SH name -> its text
};

bool IsMacro(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line.front() == '.' &&
         line.substr(1, name.size()) == name &&
         (line.size() == name.size() + 1 || line[name.size() + 1] == ' ');
}

Page ReadRoff(std::string_view text) {
  Page page;
  std::string section;
  Entry* entry = nullptr;
  bool tag_next = false;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.starts_with(".\\\"")) continue;  // a comment
    if (IsMacro(line, "SH")) {
      section = Unescape(line.substr(std::min<std::size_t>(4, line.size())));
      if (section.size() > 1 && section.front() == '"') {
        section = section.substr(1, section.size() - 2);
      }
      entry = nullptr;
      continue;
    }
    if (IsMacro(line, "SS")) {
      entry = nullptr;
      continue;
    }
    if (IsMacro(line, "TP")) {
      page.entries.push_back(Entry{section, "", ""});
      entry = &page.entries.back();
      tag_next = true;
      continue;
    }
    const std::string words = LineText(line);
    if (tag_next) {
      entry->tag = words;
      tag_next = false;
      continue;
    }
    std::string& sink = entry != nullptr ? entry->body : page.sections[section];
    if (!sink.empty() && !words.empty() && !line.ends_with("\\c")) {
      sink += ' ';
    }
    sink += words;
  }
  return page;
}

// The words of a text: flags and keys end at white space, font breaks and
// the punctuation of a synopsis.
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == kFontBreak || c == '[' ||
        c == ']' || c == '|' || c == ',' || c == '<' || c == '>' ||
        c == '(' || c == ')' || c == '"') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

bool HasWord(std::string_view text, std::string_view word) {
  for (const std::string& w : Words(text)) {
    // A word that ends a sentence: "-bi." is "-bi".
    if (w == word || (w.size() == word.size() + 1 && w.starts_with(word) &&
                      (w.back() == '.' || w.back() == ';' || w.back() == ':'))) {
      return true;
    }
  }
  return false;
}

// Prose: font breaks removed, white space collapsed.
std::string Prose(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == kFontBreak) continue;
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// The .TP entries under OPTIONS whose tag has `flag` as a word.
bool TaggedUnder(const Page& page, std::string_view section,
                 std::string_view flag) {
  for (const Entry& entry : page.entries) {
    if (entry.section == section && HasWord(entry.tag, flag)) return true;
  }
  return false;
}

// Flags missing from the page's OPTIONS, or from the usage text.
void ExpectFlagsDocumented(std::span<const FlagSpec> table,
                           std::string_view page_name,
                           std::string_view usage) {
  const Page page = ReadRoff(ReadPage(page_name));
  ASSERT_FALSE(page.entries.empty()) << page_name;
  // The flag lines of the usage text (the synopsis is hand-written).
  const std::size_t flags_at = usage.find("\nflags:\n");
  ASSERT_NE(flags_at, std::string_view::npos) << usage;
  std::vector<std::string> usage_flags;
  std::string_view lines = usage.substr(flags_at + 8);
  while (!lines.empty()) {
    const std::size_t end = lines.find('\n');
    const std::vector<std::string> words = Words(lines.substr(0, end));
    if (!words.empty()) usage_flags.push_back(words.front());
    lines.remove_prefix(end == std::string_view::npos ? lines.size()
                                                      : end + 1);
  }
  for (const FlagSpec& spec : table) {
    EXPECT_TRUE(TaggedUnder(page, "OPTIONS", spec.flag))
        << spec.flag << " has no .TP entry under OPTIONS in docs/man/"
        << page_name;
    EXPECT_NE(std::find(usage_flags.begin(), usage_flags.end(), spec.flag),
              usage_flags.end())
        << spec.flag << " is missing from the usage text";
  }
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS",
                              "FILES", "EXIT STATUS", "SEE ALSO"}) {
    bool found = page.sections.contains(section);
    for (const Entry& entry : page.entries) found |= entry.section == section;
    EXPECT_TRUE(found) << page_name << " has no " << section << " section";
  }
  const std::string see_also = Prose(page.sections.count("SEE ALSO") != 0
                                         ? page.sections.at("SEE ALSO")
                                         : "");
  EXPECT_NE(see_also.find("posthorn documentation"), std::string::npos)
      << page_name << ": SEE ALSO should point to the posthorn documentation";
}

TEST(ManPagesTest, SendmailFlagsAreInThePageAndTheUsage) {
  ExpectFlagsDocumented(SendmailFlagSpecs(), "sendmail.8", SendmailUsage());
}

TEST(ManPagesTest, PopperFlagsAreInThePageAndTheUsage) {
  ExpectFlagsDocumented(PopperFlagSpecs(), "popper.8", PopperUsage());
}

TEST(ManPagesTest, PopauthFlagsAreInThePageAndTheUsage) {
  ExpectFlagsDocumented(PopauthFlagSpecs(), "popauth.8", PopauthUsage());
}

TEST(ManPagesTest, SendmailPageNamesEveryName) {
  const Page page = ReadRoff(ReadPage("sendmail.8"));
  const std::string name = page.sections.count("NAME") != 0
                               ? page.sections.at("NAME")
                               : std::string();
  for (const char* program : {"sendmail", "mailq", "newaliases", "praliases",
                              "hoststat", "purgestat", "mailstats"}) {
    EXPECT_TRUE(HasWord(name, program)) << program << " not in NAME: " << name;
    bool described = false;
    for (const Entry& entry : page.entries) {
      described |= entry.section == "DESCRIPTION" && HasWord(entry.tag, program);
    }
    if (std::string_view(program) != "sendmail") {
      EXPECT_TRUE(described) << program << " has no .TP entry in DESCRIPTION";
    }
  }
}

// --- every row has a handler in its parser -----------------------------

// A value that the parser takes for a row's value_name.
std::string SampleValue(std::string_view value_name) {
  static const std::map<std::string_view, std::string_view> kSamples = {
      {"sender", "alice@example.org"}, {"name", "Alice"},
      {"notify", "never"},             {"ret", "full"},
      {"envid", "env1"},               {"type", "8BITMIME"},
      {"file", "posthorn.conf"},       {"[interval]", "30m"},
      {"domain", "example.org"},       {"id", "0M4Y7B2K3Z00010A3X2C"},
      {"[N]", "17"},                   {"addr:port", "127.0.0.1:0"},
      {"dir", "bulletins"},            {"seconds", "600"},
      {"path", "pop.auth"},
  };
  const auto it = kSamples.find(value_name);
  EXPECT_NE(it, kSamples.end()) << "no sample value for " << value_name;
  return it != kSamples.end() ? std::string(it->second) : "x";
}

// argv for one flag with its value, plus `extra`.
struct Argv {
  std::vector<std::string> words;
  std::vector<char*> pointers;
  Argv(std::string_view program, const FlagSpec& spec,
       const std::vector<std::string>& extra) {
    words.emplace_back(program);
    if (spec.value_name.empty()) {
      words.emplace_back(spec.flag);
    } else if (spec.attached) {
      words.push_back(fmt::format("{}{}", spec.flag,
                                  SampleValue(spec.value_name)));
    } else {
      words.emplace_back(spec.flag);
      words.push_back(SampleValue(spec.value_name));
    }
    for (const std::string& word : extra) words.push_back(word);
    for (std::string& word : words) pointers.push_back(word.data());
    pointers.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(words.size()); }
};

TEST(ManPagesTest, SendmailParserHandlesEveryRow) {
  for (const FlagSpec& spec : SendmailFlagSpecs()) {
    // Some modes need recipients or addresses, others refuse them.
    bool parsed = false;
    for (const std::vector<std::string>& extra :
         {std::vector<std::string>{}, std::vector<std::string>{"alice"}}) {
      Argv argv("sendmail", spec, extra);
      testing::internal::CaptureStderr();
      parsed |= ParseSendmailFlags(argv.argc(), argv.pointers.data())
                    .has_value();
      testing::internal::GetCapturedStderr();
    }
    EXPECT_TRUE(parsed) << spec.flag << " is in the table but not parsed";
  }
  Argv unknown("sendmail", FlagSpec{"-Z", "", ""}, {"alice"});
  testing::internal::CaptureStderr();
  EXPECT_FALSE(ParseSendmailFlags(unknown.argc(), unknown.pointers.data()));
  EXPECT_NE(testing::internal::GetCapturedStderr().find("unknown flag"),
            std::string::npos);
}

TEST(ManPagesTest, PopperParserHandlesEveryRow) {
  for (const FlagSpec& spec : PopperFlagSpecs()) {
    if (spec.flag == "-k") continue;  // refused on purpose, below
    std::vector<std::string> extra;
    if (spec.flag == "--tls-cert") extra = {"--tls-key", "key.pem"};
    if (spec.flag == "--tls-key") extra = {"--tls-cert", "cert.pem"};
    Argv argv("popper", spec, extra);
    testing::internal::CaptureStderr();
    const auto flags =
        ParsePopperCommandLine(argv.argc(), argv.pointers.data());
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(flags.has_value()) << spec.flag << ": " << err;
  }
  for (const char* refused : {"-k", "-x", "--bogus"}) {
    Argv argv("popper", FlagSpec{refused, "", ""}, {});
    testing::internal::CaptureStderr();
    EXPECT_FALSE(ParsePopperCommandLine(argv.argc(), argv.pointers.data()))
        << refused;
    testing::internal::GetCapturedStderr();
  }
}

TEST(ManPagesTest, PopauthParserHandlesEveryRow) {
  for (const FlagSpec& spec : PopauthFlagSpecs()) {
    std::vector<std::string> extra;
    if (spec.flag == "-force") extra = {"-init"};
    if (spec.flag == "-password-only") extra = {"-user", "alice"};
    if (spec.flag == "-db" || spec.flag == "-C") extra = {"-list"};
    Argv argv("popauth", spec, extra);
    testing::internal::CaptureStderr();
    const auto flags = ParsePopauthFlags(argv.argc(), argv.pointers.data());
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(flags.has_value()) << spec.flag << ": " << err;
  }
  Argv argv("popauth", FlagSpec{"-bogus", "", ""}, {"-list"});
  testing::internal::CaptureStderr();
  EXPECT_FALSE(ParsePopauthFlags(argv.argc(), argv.pointers.data()));
  testing::internal::GetCapturedStderr();
}

// --- posthorn.conf ------------------------------------------------------

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out.empty() ? "none" : out;
}

std::string Text(const std::string& value) {
  return value.empty() ? "none" : value;
}

std::string Duration(std::chrono::seconds value) {
  const long long s = value.count();
  if (s == 0) return "0";
  if (s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

std::string Bool(bool value) { return value ? "yes" : "no"; }

// The default of each key as the page writes it, from Config{}. Keys
// whose default depends on the host (hostname, local_domains) are not
// here: for them the page must only say "Default:".
std::map<std::string, std::string> ConfigDefaults() {
  const Config d;
  std::string recipients;
  for (const RecipientSource source : d.local_recipients) {
    if (!recipients.empty()) recipients += ", ";
    switch (source) {
      case RecipientSource::kPasswd: recipients += "passwd"; break;
      case RecipientSource::kAliases: recipients += "aliases"; break;
      case RecipientSource::kAuthDb: recipients += "auth_db"; break;
      case RecipientSource::kMaildrop: recipients += "maildrop"; break;
    }
  }
  return {
      {"smtpd_listen", Join(d.smtpd_listen)},
      {"trusted_networks", Join(d.trusted_networks)},
      {"relay_host", Text(d.relay_host)},
      {"transport_map", Text(d.transport_map)},
      {"dns_servers", Join(d.dns_servers)},
      {"queue_dir", d.queue_dir},
      {"spool_dir", d.spool_dir},
      {"mailbox_format",
       d.mailbox_format == MailboxFormat::kMbox ? "mbox" : "maildir"},
      {"alias_file", d.alias_file},
      {"auth_db", d.auth_db},
      {"help_file", d.help_file},
      {"tls_cert", Text(d.tls_cert)},
      {"tls_key", Text(d.tls_key)},
      {"plaintext_auth", Bool(d.plaintext_auth)},
      {"message_size_limit", std::to_string(d.message_size_limit)},
      {"recipient_limit", std::to_string(d.recipient_limit)},
      {"smtpd_timeout", Duration(d.smtpd_timeout)},
      {"pop3_timeout", Duration(d.pop3_timeout)},
      {"queue_run_interval", Duration(d.queue_run_interval)},
      {"max_backoff", Duration(d.max_backoff)},
      {"queue_lifetime", Duration(d.queue_lifetime)},
      {"delay_warning", Duration(d.delay_warning)},
      {"bare_newline",
       d.bare_newline == BareNewline::kReject ? "reject" : "normalize"},
      {"run_as", Text(d.run_as)},
      {"pop3_listen", Join(d.pop3_listen)},
      {"pop3_tls_listen", Join(d.pop3_tls_listen)},
      {"bulletin_dir", Text(d.bulletin_dir)},
      {"pop3_failed_login_delay", Duration(d.pop3_failed_login_delay)},
      {"pop3_address_max_failures",
       std::to_string(d.pop3_address_max_failures)},
      {"pop3_address_window", Duration(d.pop3_address_window)},
      {"pop3_max_connections", std::to_string(d.pop3_max_connections)},
      {"hop_limit", std::to_string(d.hop_limit)},
      {"max_deliveries", std::to_string(d.max_deliveries)},
      {"smtpd_threads", std::to_string(d.smtpd_threads)},
      {"smtpd_max_connections", std::to_string(d.smtpd_max_connections)},
      {"expn_enabled", Bool(d.expn_enabled)},
      {"allow_file_targets", Bool(d.allow_file_targets)},
      {"allow_program_targets", Bool(d.allow_program_targets)},
      {"local_recipients", recipients.empty() ? "none" : recipients},
      {"smtp_connect_timeout", Duration(d.smtp_connect_timeout)},
      {"smtp_reply_timeout", Duration(d.smtp_reply_timeout)},
      {"mail_log", Text(d.mail_log)},
  };
}

// "Default: <value>" in `body`, the value ending there (not "Default: 10"
// for "Default: 100").
bool SaysDefault(const std::string& body, const std::string& value) {
  const std::string needle = "Default: " + value;
  for (std::size_t at = body.find(needle); at != std::string::npos;
       at = body.find(needle, at + 1)) {
    const std::size_t after = at + needle.size();
    if (after == body.size() || body[after] == ' ' || body[after] == '.' ||
        body[after] == ';') {
      return true;
    }
  }
  return false;
}

TEST(ManPagesTest, EveryConfigKeyIsInThePageWithItsDefault) {
  const Page page = ReadRoff(ReadPage("posthorn.conf.5"));
  const std::map<std::string, std::string> defaults = ConfigDefaults();
  const std::vector<std::string_view> keys = ConfigKeyNames();
  ASSERT_GT(keys.size(), 30u);
  for (const std::string_view key : keys) {
    const Entry* found = nullptr;
    for (const Entry& entry : page.entries) {
      if (entry.section == "KEYS" && HasWord(entry.tag, key)) found = &entry;
    }
    if (found == nullptr) {
      ADD_FAILURE() << key << " has no .TP entry under KEYS in "
                    << "docs/man/posthorn.conf.5";
      continue;
    }
    const std::string body = Prose(found->body);
    const auto it = defaults.find(std::string(key));
    if (it == defaults.end()) {
      EXPECT_NE(body.find("Default: "), std::string::npos)
          << key << ": no \"Default:\" in posthorn.conf.5: " << body;
    } else {
      EXPECT_TRUE(SaysDefault(body, it->second))
          << key << ": posthorn.conf.5 should say \"Default: " << it->second
          << "\": " << body;
    }
  }
  // A key the table above names but the parser does not: the test is
  // out of date.
  for (const auto& [key, value] : defaults) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end())
        << key << " is not a key of the parser";
  }
}

TEST(ManPagesTest, EveryConfigKeyIsInTheSampleFile) {
  const std::string path =
      fmt::format("{}/packaging/posthorn.conf", SourceRoot());
  const std::optional<std::string> text = ReadFile(path);
  if (!text) GTEST_SKIP() << path << " does not exist yet";
  for (const std::string_view key : ConfigKeyNames()) {
    // "key =" or "# key =" at the start of a line.
    bool found = false;
    std::string_view rest = *text;
    while (!rest.empty() && !found) {
      const std::size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest.remove_prefix(end == std::string_view::npos ? rest.size()
                                                       : end + 1);
      while (!line.empty() && (line.front() == '#' || line.front() == ' ')) {
        line.remove_prefix(1);
      }
      if (!line.starts_with(key)) continue;
      line.remove_prefix(key.size());
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      found = line.starts_with("=");
    }
    EXPECT_TRUE(found) << key << " is missing from packaging/posthorn.conf";
  }
}

// groff's own check, when groff is installed: no warnings at all.
TEST(ManPagesTest, GroffFindsNothingToWarnAbout) {
  if (std::system("groff --version >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "groff is not installed";
  }
  for (const char* name :
       {"sendmail.8", "popper.8", "popauth.8", "posthorn.conf.5"}) {
    const std::string command =
        fmt::format("groff -man -Tutf8 -ww -z '{}/docs/man/{}' 2>&1",
                    SourceRoot(), name);
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buffer[512];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0 &&
           output.size() < 65536) {
      output.append(buffer, n);
    }
    EXPECT_EQ(::pclose(pipe), 0) << name;
    EXPECT_EQ(output, "") << name;
  }
}

}  // namespace
}  // namespace posthorn::tools
