// parse_and_walk — parse a message and walk its MIME tree.
//
//   parse_and_walk [FILE]      (no FILE: the message is read from stdin)
//
// Prints From, To and Subject with RFC 2047 encoded words decoded, then one
// line per MIME part, indented by depth: its content type, for a leaf its
// disposition, filename and size after decoding base64 / quoted-printable,
// and at the end every defect found, with its byte offset. Exit status: 0,
// or 1 when the file cannot be read or a parse limit was passed.
//
// The message is parsed in memory: MimePart fields are views into `input`,
// which must outlive the parsed Message.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "fmt/format.h"
#include "posthorn/message/address.h"
#include "posthorn/message/encoded_word.h"
#include "posthorn/message/mime.h"

namespace msg = posthorn::message;

namespace {

void PrintAddresses(const msg::HeaderSection& headers, const char* name) {
  const msg::HeaderField* field = headers.Find(name);
  if (field == nullptr) return;
  // Display names come back decoded to UTF-8 (RFC 2047 words and all).
  std::string line;
  for (const msg::Mailbox& m :
       msg::ParseAddressList(field->Unfolded()).Mailboxes()) {
    if (!line.empty()) line += ", ";
    line += m.display_name.empty()
                ? m.Address()
                : fmt::format("{} <{}>", m.display_name, m.Address());
  }
  fmt::print("{}: {}\n", name, line);
}

// Prints `part` and, below it, its children. Decoding problems (bad base64,
// say) are added to *defects: a bad message is reported, never refused.
void Walk(const msg::MimePart& part, msg::Defects* defects) {
  const std::string indent(2 * part.depth, ' ');
  if (!part.IsLeaf()) {
    fmt::print("{}{} ({} parts)\n", indent, part.content_type.MimeType(),
               part.children.size());
    for (const msg::MimePart& child : part.children) Walk(child, defects);
    return;
  }
  std::size_t decoded = 0;
  msg::DecodeBody(
      part, [&](std::string_view chunk) { decoded += chunk.size(); }, defects);
  std::string line = fmt::format("{}{}", indent, part.content_type.MimeType());
  if (part.disposition) line += " " + part.disposition->type;
  if (const std::string name = part.Filename(); !name.empty()) {
    line += fmt::format(" filename=\"{}\"", name);
  }
  fmt::print("{} {} -> {} bytes decoded\n", line,
             msg::TransferEncodingName(part.encoding), decoded);
}

}  // namespace

int main(int argc, char** argv) {
  std::string input;
  if (argc > 1) {
    std::ifstream file(argv[1], std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "parse_and_walk: cannot open %s\n", argv[1]);
      return 1;
    }
    input.assign(std::istreambuf_iterator<char>(file), {});
  } else {
    input.assign(std::istreambuf_iterator<char>(std::cin), {});
  }

  // Only a limit (too many parts, a huge header) is an error status;
  // everything else the parser repairs and records as a defect.
  absl::StatusOr<msg::Message> parsed = msg::ParseMessage(input);
  if (!parsed.ok()) {
    std::fprintf(stderr, "parse_and_walk: %s\n",
                 parsed.status().ToString().c_str());
    return 1;
  }
  const msg::HeaderSection& headers = parsed->root().headers;
  PrintAddresses(headers, "From");
  PrintAddresses(headers, "To");
  if (const msg::HeaderField* subject = headers.Find("Subject")) {
    fmt::print("Subject: {}\n", msg::DecodeUnstructured(subject->Unfolded()));
  }

  msg::Defects defects = parsed->defects();
  Walk(parsed->root(), &defects);
  for (const msg::Defect& d : defects) {
    fmt::print("defect {} at offset {}\n", msg::DefectName(d.kind), d.offset);
  }
  return 0;
}
