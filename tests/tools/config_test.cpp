// tests/tools/config_test.cpp — posthorn.conf: defaults, every key, value
// kinds (lists, booleans, durations, numbers, paths, addresses),
// continuation lines, comments, errors with file:line, loading a file,
// and where the file is looked for (-C, $POSTHORN_CONF, the default).
// Also the trace-file open and the log line format of tools/common.

#include "tools/common/config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/common/logging.h"
#include "tools/common/trace_file.h"

namespace posthorn::tools {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A folder under $TMPDIR (or /tmp), removed with its files at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") +
        "/config_test.XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::string command = "rm -rf '" + path_ + "'";
      [[maybe_unused]] int rc = std::system(command.c_str());
    }
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::string path_;
};

// Sets or unsets an environment variable for one scope.
class EnvScope {
 public:
  EnvScope(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~EnvScope() {
    if (old_.has_value()) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

Config MustParse(const std::string& text,
                 const std::string& path = "/etc/posthorn/posthorn.conf") {
  auto config = ParseConfig(text, path);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config{};
}

std::string ParseError(const std::string& text,
                       const std::string& path = "/x/posthorn.conf") {
  auto config = ParseConfig(text, path);
  EXPECT_FALSE(config.ok()) << text;
  if (config.ok()) return "";
  EXPECT_TRUE(absl::IsInvalidArgument(config.status())) << config.status();
  return std::string(config.status().message());
}

std::string SystemHostName() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name[0] != '\0' ? name : "localhost";
}

TEST(ConfigTest, EmptyFileGivesTheDocumentedDefaults) {
  const Config c = MustParse("");
  EXPECT_EQ(c.path, "/etc/posthorn/posthorn.conf");
  EXPECT_EQ(c.hostname, SystemHostName());
  EXPECT_THAT(c.local_domains, ElementsAre(SystemHostName(), "localhost"));
  EXPECT_THAT(c.smtpd_listen, ElementsAre("0.0.0.0:25", "[::]:25"));
  EXPECT_THAT(c.trusted_networks, ElementsAre("127.0.0.0/8", "[::1]/128"));
  EXPECT_EQ(c.relay_host, "");
  EXPECT_EQ(c.transport_map, "");
  EXPECT_TRUE(c.dns_servers.empty());
  EXPECT_EQ(c.queue_dir, "/var/spool/mqueue");
  EXPECT_EQ(c.spool_dir, "/var/spool/mail");
  EXPECT_EQ(c.mailbox_format, MailboxFormat::kMbox);
  EXPECT_EQ(c.alias_file, "/etc/aliases");
  EXPECT_EQ(c.auth_db, "/etc/pop.auth");
  EXPECT_EQ(c.help_file, "/etc/mail/helpfile");
  EXPECT_EQ(c.tls_cert, "");
  EXPECT_EQ(c.tls_key, "");
  EXPECT_FALSE(c.plaintext_auth);
  EXPECT_EQ(c.message_size_limit, 10240000u);
  EXPECT_EQ(c.recipient_limit, 1000u);
  EXPECT_EQ(c.smtpd_timeout, seconds(300));
  EXPECT_EQ(c.pop3_timeout, seconds(600));
  EXPECT_EQ(c.queue_run_interval, seconds(30 * 60));
  EXPECT_EQ(c.max_backoff, seconds(4 * 3600));
  EXPECT_EQ(c.queue_lifetime, seconds(5 * 24 * 3600));
  EXPECT_EQ(c.delay_warning, seconds(4 * 3600));
  EXPECT_EQ(c.bare_newline, BareNewline::kReject);
  EXPECT_EQ(c.run_as, "mail");
  EXPECT_THAT(c.pop3_listen, ElementsAre("127.0.0.1:1100", "[::1]:1100"));
  EXPECT_TRUE(c.pop3_tls_listen.empty());
  EXPECT_EQ(c.bulletin_dir, "");
  EXPECT_EQ(c.pop3_failed_login_delay, seconds(1));
  EXPECT_EQ(c.pop3_address_max_failures, 10u);
  EXPECT_EQ(c.pop3_address_window, seconds(600));
  EXPECT_EQ(c.pop3_max_connections, 1000u);
  EXPECT_EQ(c.hop_limit, 100u);
  EXPECT_EQ(c.max_deliveries, 8u);
  EXPECT_EQ(c.smtpd_threads, 16u);
  EXPECT_EQ(c.smtpd_max_connections, 1000u);
  EXPECT_FALSE(c.expn_enabled);
  EXPECT_FALSE(c.allow_file_targets);
  EXPECT_FALSE(c.allow_program_targets);
  EXPECT_THAT(c.local_recipients,
              ElementsAre(RecipientSource::kPasswd, RecipientSource::kAliases,
                          RecipientSource::kAuthDb));
  EXPECT_EQ(c.smtp_connect_timeout, seconds(30));
  EXPECT_EQ(c.smtp_reply_timeout, seconds(300));
  EXPECT_EQ(c.mail_log, "");
}

TEST(ConfigTest, EveryKeyIsParsed) {
  const Config c = MustParse(R"(# every key once
hostname = mail.example.org
local_domains = example.org, example.net
smtpd_listen = 127.0.0.1:2525 [::1]:2525
trusted_networks = 10.0.0.0/8, [2001:db8::]/32, 192.0.2.7
relay_host = [smarthost.example.org]:587
transport_map = /etc/posthorn/transport
dns_servers = 192.0.2.53, 2001:db8::53
queue_dir = /q
spool_dir = /spool
mailbox_format = maildir
alias_file = /etc/mail/aliases
auth_db = /etc/mail/pop.auth
help_file = /etc/mail/help
tls_cert = /etc/ssl/cert.pem
tls_key = /etc/ssl/key.pem
plaintext_auth = yes
message_size_limit = 2048
recipient_limit = 7
smtpd_timeout = 7m
pop3_timeout = 20m
queue_run_interval = 15m
max_backoff = 2h
queue_lifetime = 3d
delay_warning = 1h
bare_newline = normalize
run_as =
pop3_listen = 127.0.0.1:1100
pop3_tls_listen = 127.0.0.1:1995, [::1]:1995
bulletin_dir = /var/spool/bulls
pop3_failed_login_delay = 0
pop3_address_max_failures = 3
pop3_address_window = 30m
pop3_max_connections = 50
hop_limit = 30
max_deliveries = 2
smtpd_threads = 1
smtpd_max_connections = 20
expn_enabled = yes
allow_file_targets = on
allow_program_targets = true
local_recipients = maildrop, passwd
smtp_connect_timeout = 5s
smtp_reply_timeout = 2m
mail_log = /var/log/posthorn.log
)");
  EXPECT_EQ(c.hostname, "mail.example.org");
  EXPECT_THAT(c.local_domains, ElementsAre("example.org", "example.net"));
  EXPECT_THAT(c.smtpd_listen, ElementsAre("127.0.0.1:2525", "[::1]:2525"));
  EXPECT_THAT(c.trusted_networks,
              ElementsAre("10.0.0.0/8", "[2001:db8::]/32", "192.0.2.7"));
  EXPECT_EQ(c.relay_host, "[smarthost.example.org]:587");
  EXPECT_EQ(c.transport_map, "/etc/posthorn/transport");
  EXPECT_THAT(c.dns_servers, ElementsAre("192.0.2.53", "2001:db8::53"));
  EXPECT_EQ(c.queue_dir, "/q");
  EXPECT_EQ(c.spool_dir, "/spool");
  EXPECT_EQ(c.mailbox_format, MailboxFormat::kMaildir);
  EXPECT_EQ(c.alias_file, "/etc/mail/aliases");
  EXPECT_EQ(c.auth_db, "/etc/mail/pop.auth");
  EXPECT_EQ(c.help_file, "/etc/mail/help");
  EXPECT_EQ(c.tls_cert, "/etc/ssl/cert.pem");
  EXPECT_EQ(c.tls_key, "/etc/ssl/key.pem");
  EXPECT_TRUE(c.plaintext_auth);
  EXPECT_EQ(c.message_size_limit, 2048u);
  EXPECT_EQ(c.recipient_limit, 7u);
  EXPECT_EQ(c.smtpd_timeout, seconds(420));
  EXPECT_EQ(c.pop3_timeout, seconds(1200));
  EXPECT_EQ(c.queue_run_interval, seconds(900));
  EXPECT_EQ(c.max_backoff, seconds(7200));
  EXPECT_EQ(c.queue_lifetime, seconds(3 * 86400));
  EXPECT_EQ(c.delay_warning, seconds(3600));
  EXPECT_EQ(c.bare_newline, BareNewline::kNormalize);
  EXPECT_EQ(c.run_as, "");
  EXPECT_THAT(c.pop3_listen, ElementsAre("127.0.0.1:1100"));
  EXPECT_THAT(c.pop3_tls_listen,
              ElementsAre("127.0.0.1:1995", "[::1]:1995"));
  EXPECT_EQ(c.bulletin_dir, "/var/spool/bulls");
  EXPECT_EQ(c.pop3_failed_login_delay, seconds(0));
  EXPECT_EQ(c.pop3_address_max_failures, 3u);
  EXPECT_EQ(c.pop3_address_window, seconds(1800));
  EXPECT_EQ(c.pop3_max_connections, 50u);
  EXPECT_EQ(c.hop_limit, 30u);
  EXPECT_EQ(c.max_deliveries, 2u);
  EXPECT_EQ(c.smtpd_threads, 1u);
  EXPECT_EQ(c.smtpd_max_connections, 20u);
  EXPECT_TRUE(c.expn_enabled);
  EXPECT_TRUE(c.allow_file_targets);
  EXPECT_TRUE(c.allow_program_targets);
  EXPECT_THAT(c.local_recipients,
              ElementsAre(RecipientSource::kMaildrop, RecipientSource::kPasswd));
  EXPECT_EQ(c.smtp_connect_timeout, seconds(5));
  EXPECT_EQ(c.smtp_reply_timeout, seconds(120));
  EXPECT_EQ(c.mail_log, "/var/log/posthorn.log");
}

TEST(ConfigTest, SendmailKeysAreChecked) {
  EXPECT_EQ(ParseError("hop_limit = 0\n"),
            "/x/posthorn.conf:1: hop_limit: 0 is out of range (1 to 1000)");
  EXPECT_THAT(ParseError("hostname = a\nhop_limit = 1001\n"),
              HasSubstr(":2: hop_limit: 1001 is out of range"));
  EXPECT_THAT(ParseError("max_deliveries = 0\n"),
              HasSubstr(":1: max_deliveries: 0 is out of range"));
  EXPECT_THAT(ParseError("smtpd_threads = 65\n"),
              HasSubstr(":1: smtpd_threads: 65 is out of range (1 to 64)"));
  EXPECT_THAT(ParseError("smtpd_max_connections = 0\n"),
              HasSubstr(":1: smtpd_max_connections: 0 is out of range"));
  EXPECT_THAT(ParseError("smtpd_threads = four\n"),
              HasSubstr(":1: smtpd_threads: bad number"));
  EXPECT_THAT(ParseError("expn_enabled = maybe\n"),
              HasSubstr(":1: expn_enabled: bad boolean"));
  EXPECT_THAT(ParseError("allow_program_targets = 2\n"),
              HasSubstr(":1: allow_program_targets: bad boolean"));
  EXPECT_THAT(ParseError("smtp_connect_timeout = 0\n"),
              HasSubstr(":1: smtp_connect_timeout: must be at least 1 second"));
  EXPECT_THAT(ParseError("smtp_reply_timeout = 5x\n"),
              HasSubstr(":1: smtp_reply_timeout: bad duration"));
  EXPECT_THAT(ParseError("local_recipients = passwd, ldap\n"),
              HasSubstr(":1: local_recipients: bad source \"ldap\""));
  EXPECT_THAT(ParseError("local_recipients = aliases aliases\n"),
              HasSubstr(":1: local_recipients: \"aliases\" listed twice"));
  EXPECT_THAT(ParseError("local_recipients =\n"),
              HasSubstr(":1: local_recipients: empty list"));
  EXPECT_THAT(ParseError("local_recipients = none, passwd\n"),
              HasSubstr(":1: local_recipients: bad source \"none\""));
  // "none" alone: no check at RCPT.
  EXPECT_TRUE(MustParse("local_recipients = none\n").local_recipients.empty());
  EXPECT_THAT(
      MustParse("local_recipients = auth_db,maildrop\n").local_recipients,
      ElementsAre(RecipientSource::kAuthDb, RecipientSource::kMaildrop));
  // mail_log is a path: relative to the file's folder, "" = none.
  EXPECT_EQ(MustParse("mail_log = log/mail\n", "/etc/p/posthorn.conf").mail_log,
            "/etc/p/log/mail");
  EXPECT_EQ(MustParse("mail_log =\n").mail_log, "");
}

TEST(ConfigTest, LocalDomainsDefaultFollowsTheHostname) {
  EXPECT_THAT(MustParse("hostname = mx.example.com\n").local_domains,
              ElementsAre("mx.example.com", "localhost"));
  // An empty hostname means the system's.
  EXPECT_EQ(MustParse("hostname =\n").hostname, SystemHostName());
}

TEST(ConfigTest, ListsSplitOnCommasAndWhiteSpace) {
  for (const char* value :
       {"a.example, b.example", "a.example b.example", "a.example,b.example",
        " a.example ,, b.example,", "a.example\t b.example"}) {
    EXPECT_THAT(
        MustParse(std::string("local_domains = ") + value + "\n")
            .local_domains,
        ElementsAre("a.example", "b.example"))
        << value;
  }
  EXPECT_TRUE(MustParse("pop3_listen =\n").pop3_listen.empty());
}

TEST(ConfigTest, Booleans) {
  for (const char* yes : {"yes", "true", "on", "1", "YES", "True"}) {
    EXPECT_TRUE(MustParse(std::string("plaintext_auth = ") + yes + "\n")
                    .plaintext_auth)
        << yes;
  }
  for (const char* no : {"no", "false", "off", "0", "No"}) {
    EXPECT_FALSE(MustParse(std::string("plaintext_auth = ") + no + "\n")
                     .plaintext_auth)
        << no;
  }
  EXPECT_THAT(ParseError("plaintext_auth = maybe\n"),
              HasSubstr("/x/posthorn.conf:1: plaintext_auth: bad boolean"));
  EXPECT_THAT(ParseError("plaintext_auth =\n"), HasSubstr(":1: "));
}

TEST(ConfigTest, Durations) {
  EXPECT_EQ(*ParseDuration("600"), seconds(600));
  EXPECT_EQ(*ParseDuration("600s"), seconds(600));
  EXPECT_EQ(*ParseDuration("10m"), seconds(600));
  EXPECT_EQ(*ParseDuration("4h"), seconds(4 * 3600));
  EXPECT_EQ(*ParseDuration("5d"), seconds(5 * 86400));
  EXPECT_EQ(*ParseDuration("0"), seconds(0));
  for (const char* bad : {"", "m", "-1", "+5", "10x", "1.5h", "10 m", "1mm",
                          "99999999999999999999", "36600000d", "0x10"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(MustParse("pop3_timeout = 10m\n").pop3_timeout, seconds(600));
  EXPECT_EQ(MustParse("pop3_timeout = 0\n").pop3_timeout, seconds(0));
  EXPECT_THAT(ParseError("\n\npop3_timeout = 10 minutes\n"),
              StartsWith("/x/posthorn.conf:3: pop3_timeout: bad duration"));
}

TEST(ConfigTest, Numbers) {
  EXPECT_EQ(MustParse("message_size_limit = 18446744073709551615\n")
                .message_size_limit,
            18446744073709551615ULL);
  for (const char* bad : {"-1", "+1", "1k", "18446744073709551616", "0x10",
                          "1 000"}) {
    EXPECT_THAT(ParseError(std::string("recipient_limit = ") + bad + "\n"),
                HasSubstr(":1: recipient_limit: bad number"))
        << bad;
  }
}

TEST(ConfigTest, EnumsAndAddressesAreChecked) {
  EXPECT_THAT(ParseError("mailbox_format = mh\n"),
              HasSubstr(":1: mailbox_format: bad mailbox format \"mh\""));
  EXPECT_THAT(ParseError("bare_newline = accept\n"), HasSubstr(":1: "));
  EXPECT_THAT(ParseError("pop3_listen = 127.0.0.1\n"),
              HasSubstr(":1: pop3_listen: bad endpoint"));
  EXPECT_THAT(ParseError("pop3_listen = ::1:110\n"), HasSubstr(":1: "));
  EXPECT_THAT(ParseError("smtpd_listen = 127.0.0.1:99999\n"),
              HasSubstr(":1: "));
  EXPECT_THAT(ParseError("trusted_networks = 10.0.0.0/33\n"),
              HasSubstr(":1: trusted_networks: bad prefix"));
  EXPECT_THAT(ParseError("trusted_networks = example.org\n"),
              HasSubstr(":1: trusted_networks: bad network"));
  EXPECT_THAT(ParseError("dns_servers = 10.0.0.0/8\n"), HasSubstr(":1: "));
  EXPECT_THAT(ParseError("run_as = ../root\n"), HasSubstr(":1: run_as"));
  EXPECT_THAT(ParseError("hostname = a b\n"), HasSubstr(":1: hostname"));
}

// dns_servers takes what mta::MakeAresResolver takes (include/posthorn/
// mta/dns.h): an address, with a port when it is IPv4 or in brackets.
TEST(ConfigTest, DnsServersTakeTheResolversForms) {
  const Config c = MustParse(
      "dns_servers = 127.0.0.1, 127.0.0.1:5353, [::1]:53, ::1, "
      "[2001:db8::1], [127.0.0.1]:53\n");
  EXPECT_THAT(c.dns_servers,
              ElementsAre("127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1",
                          "[2001:db8::1]", "[127.0.0.1]:53"));
  for (const char* bad : {"[::1", "[::1]x", "1.2.3.4:", "1.2.3.4:70000",
                          "1.2.3.4:0", "1.2.3.4:x", "host.example",
                          "[1.2.3]:53", "[::1]:", "10.0.0.0/8", "[]:53"}) {
    EXPECT_THAT(ParseError(fmt::format("dns_servers = {}\n", bad)),
                HasSubstr(fmt::format(":1: dns_servers: bad DNS server \"{}\"",
                                      bad)))
        << bad;
  }
  std::string many = "dns_servers =";
  for (int i = 1; i <= 17; ++i) many += fmt::format(" 192.0.2.{}", i);
  EXPECT_THAT(ParseError(many + "\n"), HasSubstr("too many DNS servers"));
}

TEST(ConfigTest, RelativePathsAreTakenFromTheFilesFolder) {
  const Config c = MustParse(
      "spool_dir = spool\nauth_db = ./pop.auth\nqueue_dir = /abs/q\n"
      "tls_cert = tls/cert.pem\ntls_key = tls/key.pem\n"
      "bulletin_dir = bulls\nalias_file = aliases\nhelp_file = help\n"
      "transport_map = transport\n",
      "/srv/instance/posthorn.conf");
  EXPECT_EQ(c.spool_dir, "/srv/instance/spool");
  EXPECT_EQ(c.auth_db, "/srv/instance/./pop.auth");
  EXPECT_EQ(c.queue_dir, "/abs/q");
  EXPECT_EQ(c.tls_cert, "/srv/instance/tls/cert.pem");
  EXPECT_EQ(c.tls_key, "/srv/instance/tls/key.pem");
  EXPECT_EQ(c.bulletin_dir, "/srv/instance/bulls");
  EXPECT_EQ(c.alias_file, "/srv/instance/aliases");
  EXPECT_EQ(c.help_file, "/srv/instance/help");
  EXPECT_EQ(c.transport_map, "/srv/instance/transport");
  // An empty path stays unset (TLS off).
  EXPECT_EQ(MustParse("tls_cert =\n", "/srv/p.conf").tls_cert, "");
}

TEST(ConfigTest, RelativeConfigPathGivesAbsolutePaths) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_EQ(MustParse("spool_dir = spool\n", "etc/p.conf").spool_dir,
            std::string(cwd) + "/etc/spool");
  EXPECT_EQ(MustParse("spool_dir = spool\n", "p.conf").spool_dir,
            std::string(cwd) + "/spool");
}

TEST(ConfigTest, CommentsBlankLinesAndContinuations) {
  const Config c = MustParse(
      "# a comment\n"
      "\n"
      "   \t\n"
      "   # an indented comment\n"
      "local_domains = a.example,\n"
      "    b.example\n"
      "\tc.example\n"
      "# between\n"
      "hostname=h.example\r\n"
      "relay_host = [r.example]:25   \n");
  EXPECT_THAT(c.local_domains,
              ElementsAre("a.example", "b.example", "c.example"));
  EXPECT_EQ(c.hostname, "h.example");
  EXPECT_EQ(c.relay_host, "[r.example]:25");
  // A '#' after a value is part of it (as in Postfix's main.cf).
  EXPECT_EQ(MustParse("run_as = mail\nhelp_file = /h#1\n").help_file, "/h#1");
}

TEST(ConfigTest, ErrorsNameFileAndLine) {
  EXPECT_EQ(ParseError("hostname = a\n\nfrobnicate = 1\n"),
            "/x/posthorn.conf:3: unknown key \"frobnicate\"");
  EXPECT_EQ(ParseError("spool_dir = /a\n# x\nspool_dir = /b\n"),
            "/x/posthorn.conf:3: duplicate key \"spool_dir\" (first set on "
            "line 1)");
  EXPECT_THAT(ParseError("hostname = a\nspool_dir /var/mail\n"),
              StartsWith("/x/posthorn.conf:2: missing '='"));
  EXPECT_THAT(ParseError("  hostname = a\n"),
              StartsWith("/x/posthorn.conf:1: continuation line"));
  EXPECT_THAT(ParseError("= value\n"),
              StartsWith("/x/posthorn.conf:1: missing key"));
  EXPECT_THAT(ParseError("Hostname = a\n"),
              StartsWith("/x/posthorn.conf:1: bad key"));
  EXPECT_THAT(ParseError("hostname = a\npop3_timeout = soon\n"),
              StartsWith("/x/posthorn.conf:2: pop3_timeout: bad duration"));
  EXPECT_THAT(ParseError(std::string("hostname = a\0b\n", 15)),
              StartsWith("/x/posthorn.conf:1: NUL"));
  // A value error on a continued entry names the entry's first line.
  EXPECT_THAT(ParseError("x = 1\n", "/y.conf"),
              StartsWith("/y.conf:1: unknown key"));
  EXPECT_THAT(ParseError("\nmailbox_format =\n  mh\n"),
              StartsWith("/x/posthorn.conf:2: mailbox_format"));
}

TEST(ConfigTest, LoadConfigReadsTheFile) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path =
      dir.Write("posthorn.conf", "spool_dir = spool\nrun_as =\n");
  auto config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->path, path);
  EXPECT_EQ(config->spool_dir, dir.path() + "/spool");
  EXPECT_EQ(config->run_as, "");

  const std::string bad = dir.Write("bad.conf", "\nnope = 1\n");
  auto failed = LoadConfig(bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), bad + ":2: unknown key \"nope\"");
}

TEST(ConfigTest, MissingFiles) {
  TempDir dir;
  const std::string missing = dir.path() + "/none.conf";
  auto strict = LoadConfig(missing);
  ASSERT_FALSE(strict.ok());
  EXPECT_TRUE(absl::IsNotFound(strict.status())) << strict.status();
  EXPECT_THAT(strict.status().message(), HasSubstr(missing));

  auto lenient = LoadConfig(missing, /*allow_missing=*/true);
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->path, "");
  EXPECT_EQ(lenient->spool_dir, "/var/spool/mail");
  EXPECT_EQ(lenient->hostname, SystemHostName());

  // A folder is no config file.
  EXPECT_FALSE(LoadConfig(dir.path()).ok());
}

TEST(ConfigTest, ConfigPathPrecedence) {
  {
    EnvScope env("POSTHORN_CONF", "/from/env.conf");
    const ConfigLocation dash_c = ConfigPath(std::string("/from/c.conf"));
    EXPECT_EQ(dash_c.path, "/from/c.conf");
    EXPECT_TRUE(dash_c.must_exist);
    const ConfigLocation env_only = ConfigPath(std::nullopt);
    EXPECT_EQ(env_only.path, "/from/env.conf");
    EXPECT_TRUE(env_only.must_exist);
  }
  {
    EnvScope env("POSTHORN_CONF", nullptr);
    const ConfigLocation fallback = ConfigPath(std::nullopt);
    EXPECT_EQ(fallback.path, kDefaultConfigPath);
    EXPECT_EQ(fallback.path, "/etc/posthorn/posthorn.conf");
    EXPECT_FALSE(fallback.must_exist);
  }
  {
    EnvScope env("POSTHORN_CONF", "");  // empty: as if unset
    EXPECT_EQ(ConfigPath(std::nullopt).path, kDefaultConfigPath);
  }
}

// The shared store: `store`, `postgresql_dsn`, `postgresql_max_connections`
// (docs/configuration.md, docs/postgresql.md).
TEST(ConfigTest, StoreKeys) {
  const Config d = MustParse("");
  EXPECT_EQ(d.store, StoreBackend::kLocal);
  EXPECT_EQ(d.postgresql_dsn, "");
  EXPECT_EQ(d.postgresql_max_connections, 8u);

  const Config c = MustParse(
      "store = postgresql\n"
      "postgresql_dsn = host=db1 port=5433 dbname=mail user=posthorn\n"
      "postgresql_max_connections = 20\n");
  EXPECT_EQ(c.store, StoreBackend::kPostgresql);
  EXPECT_EQ(c.postgresql_dsn, "host=db1 port=5433 dbname=mail user=posthorn");
  EXPECT_EQ(c.postgresql_max_connections, 20u);
  // A URI, continued on the next line, is kept as written (no path
  // resolution: it is no file).
  EXPECT_EQ(MustParse("store = postgresql\npostgresql_dsn =\n"
                      "  postgresql://posthorn@db1/mail\n",
                      "/etc/p/posthorn.conf")
                .postgresql_dsn,
            "postgresql://posthorn@db1/mail");
  // The order of the keys does not matter.
  EXPECT_EQ(MustParse("postgresql_dsn = dbname=mail\nstore = postgresql\n")
                .store,
            StoreBackend::kPostgresql);
  EXPECT_EQ(MustParse("store = local\n").store, StoreBackend::kLocal);
  // A DSN without store = postgresql is allowed (and unused).
  EXPECT_EQ(MustParse("postgresql_dsn = dbname=mail\n").store,
            StoreBackend::kLocal);

  EXPECT_EQ(ParseError("hostname = a\nstore = mysql\n"),
            "/x/posthorn.conf:2: store: bad store \"mysql\" (local or "
            "postgresql)");
  EXPECT_THAT(ParseError("store =\n"), HasSubstr(":1: store: bad store"));
  // postgresql needs a DSN: the error names the line of `store`.
  EXPECT_EQ(ParseError("hostname = a\n\nstore = postgresql\n"),
            "/x/posthorn.conf:3: store = postgresql needs postgresql_dsn");
  EXPECT_EQ(ParseError("store = postgresql\npostgresql_dsn =\n"),
            "/x/posthorn.conf:1: store = postgresql needs postgresql_dsn");
  EXPECT_THAT(ParseError("postgresql_max_connections = 0\n"),
              HasSubstr(":1: postgresql_max_connections: 0 is out of range "
                        "(1 to 1000)"));
  EXPECT_THAT(ParseError("postgresql_max_connections = 1001\n"),
              HasSubstr("out of range"));
  EXPECT_THAT(ParseError("postgresql_max_connections = many\n"),
              HasSubstr(":1: postgresql_max_connections: bad number"));
  // local_recipients = maildrop looks in spool_dir: not with the database.
  EXPECT_EQ(ParseError("store = postgresql\npostgresql_dsn = dbname=m\n"
                       "local_recipients = aliases, maildrop\n"),
            "/x/posthorn.conf:3: local_recipients: maildrop needs store = "
            "local (it looks in spool_dir)");
  EXPECT_EQ(MustParse("store = postgresql\npostgresql_dsn = dbname=m\n"
                      "local_recipients = aliases, auth_db\n")
                .local_recipients.size(),
            2u);
  // The keys are in the table (and so in the manual page and the sample).
  const std::vector<std::string_view> keys = ConfigKeyNames();
  for (const std::string_view key :
       {"store", "postgresql_dsn", "postgresql_max_connections"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
}

TEST(TraceFileTest, CreatesWithMode0600AndAppends) {
  TempDir dir;
  const std::string path = dir.path() + "/trace";
  const mode_t old_mask = ::umask(0);
  auto fd = OpenTraceFile(path);
  ::umask(old_mask);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_EQ(::write(*fd, "a\n", 2), 2);
  ::close(*fd);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = OpenTraceFile(path);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(::write(*again, "b\n", 2), 2);
  ::close(*again);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "a\nb\n");
}

TEST(TraceFileTest, RefusesSymlinksHardLinksAndNonFiles) {
  TempDir dir;
  const std::string target = dir.Write("target", "keep\n");
  const std::string link = dir.path() + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto via_symlink = OpenTraceFile(link);
  ASSERT_FALSE(via_symlink.ok());
  EXPECT_EQ(via_symlink.status().message(), link + ": is a symbolic link");

  const std::string dangling = dir.path() + "/dangling";
  ASSERT_EQ(::symlink((dir.path() + "/nothing").c_str(), dangling.c_str()), 0);
  EXPECT_FALSE(OpenTraceFile(dangling).ok());
  EXPECT_NE(::access((dir.path() + "/nothing").c_str(), F_OK), 0);

  const std::string hard = dir.path() + "/hard";
  ASSERT_EQ(::link(target.c_str(), hard.c_str()), 0);
  auto via_hard_link = OpenTraceFile(hard);
  ASSERT_FALSE(via_hard_link.ok());
  EXPECT_EQ(via_hard_link.status().message(), hard + ": has 2 links");

  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto via_fifo = OpenTraceFile(fifo);  // must not block
  ASSERT_FALSE(via_fifo.ok());

  std::ifstream in(target);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "keep\n");
}

TEST(LoggerTest, TraceLinesCarryTimestampIdentAndPid) {
  constexpr char kRest[] = "popper[4711]: Stats: a 1 2 3 4 injected\n";
  const std::string line =
      Logger::FormatTraceLine("popper", 4711, "Stats: a 1 2 3 4\ninjected");
  // "YYYY-MM-DD HH:MM:SS " then the rest; no std::regex (GCC 12 warns
  // inside it under the sanitizers).
  ASSERT_EQ(line.size(), 20 + std::string_view(kRest).size()) << line;
  for (std::size_t i = 0; i < 19; ++i) {
    if (i == 4 || i == 7) {
      EXPECT_EQ(line[i], '-') << line;
    } else if (i == 10) {
      EXPECT_EQ(line[i], ' ') << line;
    } else if (i == 13 || i == 16) {
      EXPECT_EQ(line[i], ':') << line;
    } else {
      EXPECT_TRUE(line[i] >= '0' && line[i] <= '9') << line;
    }
  }
  EXPECT_EQ(line.substr(19), std::string(" ") + kRest);
}

TEST(LoggerTest, StderrLinesCarryIdentAndPidOnOneLine) {
  EXPECT_EQ(Logger::FormatStderrLine("sendmail", 123,
                                     "0ABC: removed\r\nforged"),
            "sendmail[123]: 0ABC: removed  forged\n");
}

TEST(LoggerTest, WritesEveryLineToTheTraceFileAndDebugOnlyWithDebug) {
  TempDir dir;
  LoggerOptions options;
  options.use_syslog = false;
  options.trace_path = dir.path() + "/trace";
  {
    auto logger = Logger::Create(options);
    ASSERT_TRUE(logger.ok()) << logger.status();
    (*logger)->Log(LOG_NOTICE, "Stats: alice 0 0 1 10");
    (*logger)->Log(LOG_DEBUG, "hidden");
    (*logger)->Debug("hidden too");
  }
  options.debug = true;
  {
    auto logger = Logger::Create(options);
    ASSERT_TRUE(logger.ok()) << logger.status();
    (*logger)->Debug("127.0.0.1:5 > USER alice");
  }
  std::ifstream in(options.trace_path);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("]: Stats: alice 0 0 1 10\n"));
  EXPECT_THAT(text, HasSubstr("]: 127.0.0.1:5 > USER alice\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("hidden")));
}

}  // namespace
}  // namespace posthorn::tools
