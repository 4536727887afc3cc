// libFuzzer target for posthorn/wire/line_reader.h.
//
// Input layout: byte 0 picks the limit (2..257), byte 1 seeds the chunk
// sizes, the rest is the stream. Invariants checked, not just "no crash":
//   - the events are the same fed whole and fed in pseudo-random chunks;
//   - lines and discarded lines tile the stream exactly: each event starts
//     where the previous one ended, and the total is the stream size;
//   - a line's text is the stream's bytes at its offset, holds no CR or LF,
//     and fits the limit; an overlong line does not fit it;
//   - the ending matches the bytes that follow in the stream.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "posthorn/wire/line_reader.h"

namespace {

using posthorn::wire::LineEnding;
using posthorn::wire::LineEndingSize;
using posthorn::wire::LineReader;

struct Event {
  bool overlong;
  std::string text;
  LineEnding ending;
  std::uint64_t offset;
  std::uint64_t length;
  bool operator==(const Event&) const = default;
};

void Check(bool ok) {
  if (!ok) std::abort();
}

std::vector<Event> Feed(std::string_view stream, std::size_t limit,
                        std::uint32_t seed) {
  LineReader reader(limit);
  std::vector<Event> events;
  auto record = [&](LineReader::Event e) {
    if (e == LineReader::Event::kLine) {
      const auto& l = reader.line();
      events.push_back({false, std::string(l.text), l.ending, l.offset,
                        l.text.size()});
    } else {
      const auto& o = reader.overlong();
      events.push_back({true, "", o.ending, o.offset, o.length});
    }
  };
  std::size_t pos = 0;
  while (pos < stream.size()) {
    std::size_t n = stream.size() - pos;
    if (seed != 0) {
      seed = seed * 1103515245u + 12345u;
      n = std::min<std::size_t>(n, 1 + (seed >> 16) % 19);
    }
    // Own copy, freed after use: views must not outlive it.
    std::string chunk(stream.substr(pos, n));
    std::string_view in = chunk;
    pos += n;
    for (;;) {
      const LineReader::Event e = reader.Next(&in);
      if (e == LineReader::Event::kNeedMoreData) break;
      Check(e != LineReader::Event::kEndOfStream);
      record(e);
    }
    Check(in.empty());
    Check(reader.offset() == pos);
  }
  for (LineReader::Event e = reader.Finish();
       e != LineReader::Event::kEndOfStream; e = reader.Finish()) {
    record(e);
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = 2 + data[0];
  const std::uint32_t seed = 1u + data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2,
                                size - 2);

  const std::vector<Event> whole = Feed(stream, limit, 0);
  Check(Feed(stream, limit, seed) == whole);

  std::uint64_t at = 0;
  for (const Event& e : whole) {
    Check(e.offset == at);
    Check(stream.substr(at, e.length).find_first_of("\r\n") ==
          std::string_view::npos);
    if (e.overlong) {
      Check(e.length + 2 > limit);
    } else {
      Check(e.length + 2 <= limit);
      Check(stream.substr(at, e.text.size()) == e.text);
    }
    at += e.length;
    switch (e.ending) {
      case LineEnding::kCrLf:
        Check(stream.substr(at, 2) == "\r\n");
        break;
      case LineEnding::kLf:
        Check(stream[at] == '\n');
        break;
      case LineEnding::kCr:
        Check(stream[at] == '\r');
        Check(at + 1 == stream.size() || stream[at + 1] != '\n');
        break;
      case LineEnding::kNone:
        Check(at == stream.size());
        break;
    }
    at += LineEndingSize(e.ending);
  }
  Check(at == stream.size());
  return 0;
}
