// fuzz_mime.cpp — libFuzzer target for ParseMessage and DecodeBody.
//
// Parses the input (with a small max_depth half of the time, to reach the
// opaque-leaf path), walks the tree without recursion, decodes every leaf in
// small chunks, and checks the invariants: every view lies inside the input,
// raw = headers + body, children in increasing order inside their parent,
// depth <= max_depth, defect offsets within the input, chunks within bound.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "posthorn/message/mime.h"

namespace pm = posthorn::message;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view v, std::string_view input) {
  return v.empty() || (v.data() >= input.data() &&
                       v.data() + v.size() <= input.data() + input.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  pm::ParseOptions options;
  if (size > 0 && (data[0] & 1) != 0) options.max_depth = 3;
  options.max_parts = 1000;
  absl::StatusOr<pm::Message> msg = pm::ParseMessage(input, options);
  if (!msg.ok()) return 0;

  std::vector<const pm::MimePart*> todo = {&msg->root()};
  while (!todo.empty()) {
    const pm::MimePart* p = todo.back();
    todo.pop_back();
    Check(Inside(p->raw, input) && Inside(p->body, input));
    Check(Inside(p->preamble, input) && Inside(p->epilogue, input));
    Check(p->depth <= options.max_depth);
    Check(p->offset <= size && p->raw.size() <= size - p->offset);
    Check(p->body.size() <= p->raw.size());
    if (!p->raw.empty()) {
      Check(p->raw.data() == input.data() + p->offset);
    }
    if (!p->body.empty()) {
      Check(p->body.data() + p->body.size() == p->raw.data() + p->raw.size());
    }
    for (const pm::HeaderField& f : p->headers.fields()) {
      Check(Inside(f.name, input) && Inside(f.raw_value, input));
    }
    std::size_t last_end = p->offset;
    for (const pm::MimePart& c : p->children) {
      Check(c.depth == p->depth + 1);
      Check(c.offset >= last_end);  // offsets increase
      Check(c.offset + c.raw.size() <= p->offset + p->raw.size());
      last_end = c.offset + c.raw.size();
      todo.push_back(&c);
    }
  }
  for (const pm::Defect& d : msg->defects()) Check(d.offset <= size);

  pm::Defects defects;
  for (const auto& [path, part] : msg->Leaves()) {
    Check(!path.empty());
    std::size_t total = 0;
    pm::DecodeBody(
        *part,
        [&](std::string_view chunk) {
          Check(chunk.size() <= 13);
          total += chunk.size();
        },
        &defects, 13);
    Check(total == pm::DecodeBodyToString(*part).size());
    (void)pm::DecodeTextToUtf8(*part);
  }
  return 0;
}
