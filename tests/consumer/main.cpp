// tests/consumer/main.cpp — an application's first afternoon with
// posthorn: build a message with an attachment, parse it back, walk its
// parts. Prints one summary line and exits 1 unless it equals argv[1].

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "posthorn/message/builder.h"
#include "posthorn/message/encoded_word.h"
#include "posthorn/message/mime.h"

namespace msg = posthorn::message;

int main(int argc, char** argv) {
  constexpr std::string_view kCsv = "quarter,total\r\nQ3,1234\r\n";
  msg::Mailbox from, to;
  from.display_name = "Ana";
  from.local_part = "ana";
  from.domain = "example.org";
  to.local_part = "bo";
  to.domain = "example.net";
  msg::MessageBuilder builder;
  builder.SetFrom(from)
      .AddTo(to)
      .SetSubject("Quarterly report")
      .SetText("The numbers are attached.\r\n")
      .AddAttachment("report.csv", "text/csv",
                     msg::BodySource::Borrowed(kCsv));
  msg::BuildContext context;  // fixed, so the output is reproducible
  context.now = absl::FromUnixSeconds(1700000000);
  context.random = 42;
  context.hostname = "mx.example.org";
  const absl::StatusOr<std::string> built = builder.Build(context);
  if (!built.ok()) {
    std::fprintf(stderr, "build: %s\n", built.status().ToString().c_str());
    return 1;
  }

  const absl::StatusOr<msg::Message> parsed = msg::ParseMessage(*built);
  if (!parsed.ok()) {
    std::fprintf(stderr, "parse: %s\n", parsed.status().ToString().c_str());
    return 1;
  }
  const msg::HeaderField* subject = parsed->root().headers.Find("Subject");
  std::string subject_text =
      subject ? msg::DecodeUnstructured(subject->raw_value) : "(none)";
  // The raw value starts after the colon, with its blank.
  subject_text.erase(0, subject_text.find_first_not_of(' '));
  std::string attachment;
  std::size_t bytes = 0;
  const auto leaves = parsed->Leaves();
  for (const auto& [path, part] : leaves) {
    if (!part->Filename().empty()) {
      attachment = part->Filename();
      bytes = msg::DecodeBodyToString(*part).size();
    }
  }
  char line[256];
  std::snprintf(line, sizeof line, "parts=%zu subject=%s attachment=%s bytes=%zu",
                leaves.size(), subject_text.c_str(), attachment.c_str(),
                bytes);
  std::puts(line);
  return argc > 1 && std::string_view(line) == argv[1] ? 0 : 1;
}
