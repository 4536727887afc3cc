// decode_body.cpp — streaming a part's body through its transfer decoding.
//
// The raw body is fed to the decoder in slices of kInputSlice bytes; the
// decoded bytes collect in one buffer that is handed to the sink in pieces
// of exactly chunk_size (the last one shorter). The buffer never holds more
// than chunk_size - 1 + (what one slice decodes to) bytes, whatever the size
// of the body: a 100 MiB attachment decodes in well under 200 KiB.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "posthorn/message/base64.h"
#include "posthorn/message/charset.h"
#include "posthorn/message/mime.h"
#include "posthorn/message/quoted_printable.h"

namespace posthorn::message {
namespace {

// Raw bytes given to the decoder at a time.
constexpr std::size_t kInputSlice = 64 * 1024;

// Hands `buffer` to `sink` in pieces of chunk_size, keeping the remainder
// (or everything, when `flush`).
void Drain(std::string* buffer, std::size_t chunk_size, bool flush,
           absl::FunctionRef<void(std::string_view)> sink) {
  std::size_t done = 0;
  const std::size_t size = buffer->size();
  while (size - done >= chunk_size || (flush && done < size)) {
    const std::size_t n = std::min(chunk_size, size - done);
    sink(std::string_view(buffer->data() + done, n));
    done += n;
  }
  buffer->erase(0, done);
}

template <typename Decoder>
void DecodeWith(const MimePart& part, DefectKind invalid_kind,
                absl::FunctionRef<void(std::string_view)> sink,
                Defects* defects, std::size_t chunk_size) {
  Decoder decoder;
  std::string buffer;
  buffer.reserve(chunk_size + kInputSlice);
  const std::string_view body = part.body;
  const std::size_t body_offset = part.offset + (part.raw.size() - body.size());
  bool reported = false;
  auto note_invalid = [&](std::size_t offset) {
    if (!reported && decoder.saw_invalid()) {
      reported = true;
      if (defects != nullptr) defects->push_back({invalid_kind, offset});
    }
  };
  for (std::size_t i = 0; i < body.size(); i += kInputSlice) {
    decoder.Update(body.substr(i, kInputSlice), &buffer);
    note_invalid(body_offset + i);
    Drain(&buffer, chunk_size, /*flush=*/false, sink);
  }
  decoder.Finish(&buffer);
  note_invalid(body_offset + body.size());
  Drain(&buffer, chunk_size, /*flush=*/true, sink);
}

}  // namespace

void DecodeBody(const MimePart& part,
                absl::FunctionRef<void(std::string_view)> sink,
                Defects* defects, std::size_t chunk_size) {
  chunk_size = std::max<std::size_t>(chunk_size, 1);
  switch (part.encoding) {
    case TransferEncoding::kBase64:
      DecodeWith<Base64Decoder>(part, DefectKind::kInvalidBase64, sink,
                                defects, chunk_size);
      return;
    case TransferEncoding::kQuotedPrintable:
      DecodeWith<QuotedPrintableDecoder>(
          part, DefectKind::kInvalidQuotedPrintable, sink, defects,
          chunk_size);
      return;
    case TransferEncoding::k7Bit:
    case TransferEncoding::k8Bit:
    case TransferEncoding::kBinary:
    case TransferEncoding::kUnknown:
      // Identity: views of the input, no copy.
      for (std::size_t i = 0; i < part.body.size(); i += chunk_size) {
        sink(part.body.substr(i, chunk_size));
      }
      return;
  }
}

std::string DecodeBodyToString(const MimePart& part, Defects* defects) {
  std::string out;
  const std::size_t body_offset =
      part.offset + (part.raw.size() - part.body.size());
  auto whole = [&](auto decoder, DefectKind invalid_kind) {
    decoder.Update(part.body, &out);
    decoder.Finish(&out);
    if (decoder.saw_invalid() && defects != nullptr) {
      defects->push_back({invalid_kind, body_offset});
    }
  };
  switch (part.encoding) {
    case TransferEncoding::kBase64:
      out.reserve(part.body.size() / 4 * 3 + 3);
      whole(Base64Decoder(), DefectKind::kInvalidBase64);
      break;
    case TransferEncoding::kQuotedPrintable:
      out.reserve(part.body.size());
      whole(QuotedPrintableDecoder(), DefectKind::kInvalidQuotedPrintable);
      break;
    case TransferEncoding::k7Bit:
    case TransferEncoding::k8Bit:
    case TransferEncoding::kBinary:
    case TransferEncoding::kUnknown:
      out.assign(part.body);
      break;
  }
  return out;
}

std::string DecodeTextToUtf8(const MimePart& part, Defects* defects) {
  const std::string bytes = DecodeBodyToString(part, defects);
  std::string_view charset = part.Charset();
  if (charset.empty()) charset = "us-ascii";
  std::string out;
  const std::size_t body_offset =
      part.offset + (part.raw.size() - part.body.size());
  switch (ConvertToUtf8(charset, bytes, &out)) {
    case CharsetResult::kOk:
      break;
    case CharsetResult::kUnknownCharset:
      if (defects != nullptr) {
        defects->push_back({DefectKind::kUnknownCharset, body_offset});
      }
      out.clear();
      if (!AppendValidUtf8(bytes, &out) && defects != nullptr) {
        defects->push_back({DefectKind::kInvalidCharsetData, body_offset});
      }
      break;
    case CharsetResult::kInvalidData:
      if (defects != nullptr) {
        defects->push_back({DefectKind::kInvalidCharsetData, body_offset});
      }
      break;
  }
  return out;
}

}  // namespace posthorn::message
