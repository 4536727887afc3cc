#include "message/builder/body_writer.h"

#include <cstring>

#include "posthorn/message/base64.h"
#include "posthorn/message/quoted_printable.h"

namespace posthorn::message::builder_internal {
namespace {

// Either encoder behind one interface; the chunked loops below are shared.
// (Both members are a few bytes; a std::variant here makes g++ -O2 with
// sanitizers warn about maybe-uninitialized storage.)
class Encoder {
 public:
  Encoder(TransferEncoding encoding, bool qp_binary)
      : base64_(encoding == TransferEncoding::kBase64),
        b64_(76),
        qp_(qp_binary) {}
  void Update(std::string_view chunk, std::string* out) {
    if (base64_) {
      b64_.Update(chunk, out);
    } else {
      qp_.Update(chunk, out);
    }
  }
  void Finish(std::string* out) {
    if (base64_) {
      b64_.Finish(out);
    } else {
      qp_.Finish(out);
    }
  }

 private:
  bool base64_;
  Base64Encoder b64_;
  QuotedPrintableEncoder qp_;
};

// Ends the encoded output with CRLF so that the delimiter (or the end of
// the message) starts a line. For quoted-printable a soft break "=" CRLF
// is added: it decodes to nothing.
void EndLine(TransferEncoding encoding, bool ended_with_crlf,
             std::string* out) {
  if (ended_with_crlf) return;
  if (encoding == TransferEncoding::kQuotedPrintable) out->push_back('=');
  out->append("\r\n");
}

bool EndsWithCrlf(std::string_view s) {
  return s.size() >= 2 && s[s.size() - 2] == '\r' && s[s.size() - 1] == '\n';
}

}  // namespace

BodyShape InspectBody(std::string_view data) {
  BodyShape shape;
  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    const char* lf = static_cast<const char*>(
        std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* line_end = lf != nullptr ? lf : end;
    const char* content_end = line_end;
    if (lf != nullptr) {
      if (lf > p && lf[-1] == '\r') {
        --content_end;
      } else {
        shape.bare_line_end = true;
      }
    }
    // OR and compare in one pass over the line: no branch per byte.
    unsigned char high = 0;
    bool nul = false, cr = false;
    for (const char* q = p; q < content_end; ++q) {
      auto c = static_cast<unsigned char>(*q);
      high |= c;
      nul |= (c == 0);
      cr |= (c == '\r');
    }
    shape.eight_bit |= (high & 0x80) != 0;
    shape.nul |= nul;
    shape.bare_line_end |= cr;
    auto length = static_cast<std::size_t>(content_end - p);
    if (length > shape.longest_line) shape.longest_line = length;
    p = lf != nullptr ? lf + 1 : end;
  }
  return shape;
}

bool Qualifies(const BodyShape& shape, TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::k7Bit:
      return !shape.eight_bit && !shape.nul && !shape.bare_line_end &&
             shape.longest_line <= 998;
    case TransferEncoding::k8Bit:
      return !shape.nul && !shape.bare_line_end && shape.longest_line <= 998;
    case TransferEncoding::kBinary:
      return true;
    default:
      return false;
  }
}

bool HasBareLineEnd(std::string_view data) {
  for (std::size_t i = data.find_first_of("\r\n"); i != std::string_view::npos;
       i = data.find_first_of("\r\n", i + 1)) {
    if (data[i] == '\r') {
      if (i + 1 >= data.size() || data[i + 1] != '\n') return true;
      ++i;  // skip the LF of this CRLF
    } else {
      return true;  // an LF not after CR
    }
  }
  return false;
}

std::string NormalizeLineEnds(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 32);
  std::size_t start = 0;
  for (std::size_t i = data.find_first_of("\r\n"); i != std::string_view::npos;
       i = data.find_first_of("\r\n", start)) {
    out.append(data.substr(start, i - start));
    out.append("\r\n");
    start = (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n')
                ? i + 2
                : i + 1;
  }
  out.append(data.substr(start));
  return out;
}

void WriteEncoded(std::string_view data, TransferEncoding encoding,
                  bool qp_binary,
                  absl::FunctionRef<void(std::string_view)> sink,
                  std::string* scratch) {
  if (encoding != TransferEncoding::kBase64 &&
      encoding != TransferEncoding::kQuotedPrintable) {
    if (!data.empty()) sink(data);  // as is: no copy
    return;
  }
  Encoder encoder(encoding, qp_binary);
  bool ended_with_crlf = true;  // nothing written yet: nothing to end
  for (std::size_t pos = 0; pos < data.size(); pos += kEncodeChunk) {
    scratch->clear();
    encoder.Update(data.substr(pos, kEncodeChunk), scratch);
    if (!scratch->empty()) {
      ended_with_crlf = EndsWithCrlf(*scratch);
      sink(*scratch);
    }
  }
  scratch->clear();
  encoder.Finish(scratch);
  if (!scratch->empty()) ended_with_crlf = EndsWithCrlf(*scratch);
  EndLine(encoding, ended_with_crlf, scratch);
  if (!scratch->empty()) sink(*scratch);
}

absl::Status WriteEncodedFromReader(
    const BodyReader& reader, TransferEncoding encoding, bool qp_binary,
    absl::FunctionRef<void(std::string_view)> sink, std::string* scratch) {
  Encoder encoder(encoding, qp_binary);
  bool ended_with_crlf = true;
  while (true) {
    absl::StatusOr<std::string_view> chunk = reader();
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    // A reader may hand over big chunks: encode them in bounded pieces so
    // the scratch buffer stays small.
    for (std::size_t pos = 0; pos < chunk->size(); pos += kEncodeChunk) {
      scratch->clear();
      encoder.Update(chunk->substr(pos, kEncodeChunk), scratch);
      if (!scratch->empty()) {
        ended_with_crlf = EndsWithCrlf(*scratch);
        sink(*scratch);
      }
    }
  }
  scratch->clear();
  encoder.Finish(scratch);
  if (!scratch->empty()) ended_with_crlf = EndsWithCrlf(*scratch);
  EndLine(encoding, ended_with_crlf, scratch);
  if (!scratch->empty()) sink(*scratch);
  return absl::OkStatus();
}

}  // namespace posthorn::message::builder_internal
