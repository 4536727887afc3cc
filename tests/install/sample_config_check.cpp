// tests/install/sample_config_check.cpp — packaging/posthorn.conf, the
// sample installed for administrators, documents every key as
// `#key = default`. This check uncomments each such line, loads the result
// with the real parser (tools/common/config.h) and compares every value
// with the built-in defaults, so the sample can neither show a value the
// parser refuses nor a default that is not the default.
//
// local_domains is the one exception: its default is derived (the host
// name and localhost), so the sample shows an example; it must still parse.
//
// Usage: sample_config_check path/to/posthorn.conf. Exit 0 when right,
// 1 with one line per difference on stderr otherwise.

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

#include "tools/common/config.h"

namespace {

namespace tools = posthorn::tools;

// "#key = value" -> "key = value"; other lines stay (comments, blanks).
std::string Uncomment(const std::string& text, int* count) {
  std::istringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) {
    std::size_t key_end = 1;
    while (key_end < line.size() &&
           ((line[key_end] >= 'a' && line[key_end] <= 'z') ||
            (line[key_end] >= '0' && line[key_end] <= '9') ||
            line[key_end] == '_')) {
      ++key_end;
    }
    const bool setting = line.size() > 1 && line[0] == '#' && key_end > 1 &&
                         line.compare(key_end, 2, " =") == 0;
    if (setting) {
      line.erase(0, 1);
      ++*count;
    }
    out += line;
    out += '\n';
  }
  return out;
}

int differences = 0;

template <typename T>
void Same(std::string_view key, const T& sample, const T& builtin) {
  if (sample == builtin) return;
  ++differences;
  std::fprintf(stderr, "sample_config: %.*s differs from the default\n",
               static_cast<int>(key.size()), key.data());
}

#define SAME(field) Same(#field, sample->field, builtin->field)

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sample_config_check posthorn.conf\n");
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "sample_config: cannot read %s\n", argv[1]);
    return 1;
  }
  const std::string text{std::istreambuf_iterator<char>(file),
                         std::istreambuf_iterator<char>()};
  int settings = 0;
  const std::string uncommented = Uncomment(text, &settings);

  // The same path as the sample, so relative values would resolve alike.
  const auto sample = tools::ParseConfig(uncommented, argv[1]);
  if (!sample.ok()) {
    std::fprintf(stderr, "sample_config: rejected: %s\n",
                 std::string(sample.status().message()).c_str());
    return 1;
  }
  const auto builtin = tools::ParseConfig("", argv[1]);
  if (!builtin.ok()) return 1;

  SAME(hostname);
  SAME(smtpd_listen);
  SAME(trusted_networks);
  SAME(relay_host);
  SAME(transport_map);
  SAME(dns_servers);
  SAME(queue_dir);
  SAME(spool_dir);
  SAME(mailbox_format);
  SAME(alias_file);
  SAME(auth_db);
  SAME(help_file);
  SAME(tls_cert);
  SAME(tls_key);
  SAME(plaintext_auth);
  SAME(message_size_limit);
  SAME(recipient_limit);
  SAME(smtpd_timeout);
  SAME(pop3_timeout);
  SAME(queue_run_interval);
  SAME(max_backoff);
  SAME(queue_lifetime);
  SAME(delay_warning);
  SAME(bare_newline);
  SAME(run_as);
  SAME(pop3_listen);
  SAME(pop3_tls_listen);
  SAME(bulletin_dir);
  SAME(pop3_failed_login_delay);
  SAME(pop3_address_max_failures);
  SAME(pop3_address_window);
  SAME(pop3_max_connections);
  SAME(hop_limit);
  SAME(max_deliveries);
  SAME(smtpd_threads);
  SAME(smtpd_max_connections);
  SAME(expn_enabled);
  SAME(allow_file_targets);
  SAME(allow_program_targets);
  SAME(local_recipients);
  SAME(smtp_connect_timeout);
  SAME(smtp_reply_timeout);
  SAME(mail_log);
  if (sample->local_domains.empty()) {
    ++differences;
    std::fprintf(stderr, "sample_config: local_domains is empty\n");
  }
  if (differences != 0) return 1;
  std::printf("sample_config: %d settings accepted, defaults as built in\n",
              settings);
  return 0;
}
