// src/message/codec/quoted_printable.cpp — streaming quoted-printable
// (RFC 2045 section 6.7).
//
//   quoted-printable := qp-line *(CRLF qp-line)
//   qp-line := *(qp-segment transport-padding CRLF)
//              qp-part transport-padding
//   qp-segment := qp-section *(SPACE / TAB) "="   ; soft line break
//   ptext := hex-octet / safe-char
//   hex-octet := "=" 2(DIGIT / "A" / "B" / "C" / "D" / "E" / "F")
//   transport-padding := *LWSP-char  ; removed by the decoder (rule 3)
//
// Decoder leniency: lower-case hex digits are accepted (rule 2 asks decoders
// to), a bare LF ends a line like CRLF (and "=" LF is a soft break), "="
// followed by whitespace and then a line end is a soft break, a "=" at the
// very end of the stream is a soft break (a body that does not end in a
// line break is encoded that way, and the MIME parser hands the body
// without the CRLF that belongs to the next boundary).

#include "posthorn/message/quoted_printable.h"

#include <algorithm>
#include <array>

#include "message/codec/ascii.h"

namespace posthorn::message {
namespace {

using codec_internal::kHexValue;
using codec_internal::kUpperHex;

// Longest run of whitespace the decoder holds back while it waits to learn
// whether a line end follows (then the run is dropped). A longer run is
// passed through: no valid encoder writes one (lines are at most 76).
constexpr std::size_t kMaxHeldWhitespace = 256;

// Characters the decoder's fast scan stops at. Blanks are not among them:
// a run of text is copied whole, and only the blanks at its end are looked
// at again when a line end (or the end of the chunk) follows it.
constexpr std::array<bool, 256> kDecodeSpecial = [] {
  std::array<bool, 256> t{};
  t['='] = t['\r'] = t['\n'] = true;
  return t;
}();

inline bool IsHex(char c) {
  return kHexValue[static_cast<unsigned char>(c)] != 0xFF;
}

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Decodes buffer[0, n). Returns the number of bytes consumed; the rest (a
// short tail whose meaning depends on bytes not yet seen) is for the caller
// to hold. With `final` everything is consumed.
std::size_t DecodeSome(const char* b, std::size_t n, bool final,
                       std::string* out, std::size_t* invalid) {
  std::size_t i = 0;
  while (i < n) {
    const std::size_t start = i;
    while (i < n && !kDecodeSpecial[static_cast<unsigned char>(b[i])]) ++i;
    // [start, i) is plain text; `text_end` excludes its trailing blanks.
    std::size_t text_end = i;
    while (text_end > start && IsBlank(b[text_end - 1])) --text_end;
    if (i == n) {
      // The blanks at the end of the chunk may be trailing whitespace:
      // held until the next chunk tells (dropped at the end of the stream).
      if (final || i - text_end > kMaxHeldWhitespace) {
        out->append(b + start, (final ? text_end : i) - start);
        return n;
      }
      out->append(b + start, text_end - start);
      return text_end;
    }
    const char c = b[i];
    if (c == '\n') {
      out->append(b + start, text_end - start);  // trailing blanks dropped
      out->append("\r\n");  // a bare LF ends a line as well
      ++i;
      continue;
    }
    if (c == '\r') {
      if (i + 1 == n && !final) {
        if (i - text_end > kMaxHeldWhitespace) {
          out->append(b + start, i - start);
          return i;
        }
        out->append(b + start, text_end - start);
        return text_end;
      }
      if (i + 1 < n && b[i + 1] == '\n') {
        out->append(b + start, text_end - start);
        out->append("\r\n");
        i += 2;
      } else {
        out->append(b + start, i - start + 1);  // a bare CR is kept
        ++i;
      }
      continue;
    }
    // c == '='
    out->append(b + start, i - start);
    if (i + 1 == n) {
      if (!final) return i;
      return n;  // "=" at the end of the stream: a soft break
    }
    const char h1 = b[i + 1];
    if (IsHex(h1)) {
      if (i + 2 == n) {
        if (!final) return i;
        out->push_back('=');
        ++*invalid;
        ++i;
        continue;
      }
      if (IsHex(b[i + 2])) {
        out->push_back(static_cast<char>(
            (kHexValue[static_cast<unsigned char>(h1)] << 4) |
            kHexValue[static_cast<unsigned char>(b[i + 2])]));
        i += 3;
        continue;
      }
    } else if (IsBlank(h1) || h1 == '\r' || h1 == '\n') {
      std::size_t j = i + 1;
      while (j < n && IsBlank(b[j])) ++j;
      if (j - i <= kMaxHeldWhitespace) {
        if (j == n) {
          if (!final) return i;
          return n;  // "=" and blanks at the end: a soft break
        }
        if (b[j] == '\n') {
          i = j + 1;
          continue;
        }
        if (b[j] == '\r') {
          if (j + 1 == n) {
            if (!final) return i;
            return n;
          }
          if (b[j + 1] == '\n') {
            i = j + 2;
            continue;
          }
        }
      }
    }
    out->push_back('=');  // junk after "=": kept as written
    ++*invalid;
    ++i;
  }
  return n;
}

}  // namespace

void QuotedPrintableDecoder::Update(std::string_view chunk, std::string* out) {
  // Bytes held from the previous chunk are completed with a few bytes of
  // this one at a time, so the held tail stays small.
  constexpr std::size_t kStep = 16;
  std::string combined;
  while (!held_.empty() && !chunk.empty()) {
    const std::size_t take = std::min(kStep, chunk.size());
    combined.assign(held_);
    combined.append(chunk.data(), take);
    chunk.remove_prefix(take);
    const std::size_t used =
        DecodeSome(combined.data(), combined.size(), false, out, &invalid_);
    held_.assign(combined, used, std::string::npos);
  }
  if (chunk.empty()) return;
  out->reserve(out->size() + chunk.size());
  const std::size_t used =
      DecodeSome(chunk.data(), chunk.size(), false, out, &invalid_);
  held_.assign(chunk.substr(used));
}

void QuotedPrintableDecoder::Finish(std::string* out) {
  if (!held_.empty()) {
    DecodeSome(held_.data(), held_.size(), true, out, &invalid_);
    held_.clear();
  }
}

namespace {

// Characters written as themselves: printable ASCII except "=" (rule 2).
// SP and HT are literal only where a non-blank follows on the same line.
constexpr std::array<bool, 256> kQpLiteral = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c <= 126; ++c) t[c] = true;
  t['='] = false;
  return t;
}();

// Octets of a line before a soft break: 75, so that with the "=" the line
// has 76 characters (rule 5).
constexpr std::size_t kMaxQpLine = 76;

}  // namespace

void QuotedPrintableEncoder::Update(std::string_view chunk,
                                    std::string* out) {
  out->reserve(out->size() + chunk.size() + chunk.size() / 8 + 8);
  auto put = [&](const char* s, std::size_t len) {
    if (column_ + len > kMaxQpLine - 1) {
      out->append("=\r\n");
      column_ = 0;
    }
    out->append(s, len);
    column_ += len;
  };
  auto put_encoded = [&](unsigned char c) {
    const char e[3] = {'=', kUpperHex[c >> 4], kUpperHex[c & 15]};
    put(e, 3);
  };
  auto hard_break = [&] {
    out->append("\r\n");
    column_ = 0;
  };
  // held_ holds one blank that waits for its successor (literal, unless a
  // line end or the end of the stream follows) and, in text mode, a CR
  // that waits to see whether LF follows.
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    const unsigned char u = static_cast<unsigned char>(c);
    if (!held_.empty()) {
      if (held_.back() == '\r') {
        const bool crlf = c == '\n';
        if (held_.size() == 2) {  // blank then CR
          if (crlf) {
            put_encoded(static_cast<unsigned char>(held_[0]));
          } else {
            put(held_.data(), 1);
          }
        }
        held_.clear();
        if (crlf) {
          hard_break();
          continue;
        }
        put_encoded('\r');  // a bare CR in text
      } else {  // a blank
        if (!binary_ && (c == '\n' || c == '\r')) {
          if (c == '\n') {
            put_encoded(static_cast<unsigned char>(held_[0]));
            held_.clear();
            hard_break();
          } else {
            held_.push_back('\r');
          }
          continue;
        }
        put(held_.data(), 1);
        held_.clear();
      }
    }
    if (kQpLiteral[u]) {
      // The fast path: a run of literal characters.
      std::size_t j = i + 1;
      while (j < chunk.size() &&
             kQpLiteral[static_cast<unsigned char>(chunk[j])]) {
        ++j;
      }
      const char* p = chunk.data() + i;
      std::size_t len = j - i;
      while (len > 0) {
        if (column_ >= kMaxQpLine - 1) {
          out->append("=\r\n");
          column_ = 0;
        }
        const std::size_t room = kMaxQpLine - 1 - column_;
        const std::size_t n = std::min(room, len);
        out->append(p, n);
        column_ += n;
        p += n;
        len -= n;
      }
      i = j - 1;
      continue;
    }
    if (c == ' ' || c == '\t') {
      held_.push_back(c);
      continue;
    }
    if (!binary_ && c == '\n') {
      hard_break();
      continue;
    }
    if (!binary_ && c == '\r') {
      held_.push_back('\r');
      continue;
    }
    put_encoded(u);
  }
}

void QuotedPrintableEncoder::Finish(std::string* out) {
  // A blank at the end of the stream is trailing whitespace: encoded.
  std::string rest;
  rest.swap(held_);
  for (char c : rest) {
    const char e[3] = {'=', kUpperHex[static_cast<unsigned char>(c) >> 4],
                       kUpperHex[static_cast<unsigned char>(c) & 15]};
    if (column_ + 3 > kMaxQpLine - 1) {
      out->append("=\r\n");
      column_ = 0;
    }
    out->append(e, 3);
    column_ += 3;
  }
  column_ = 0;
}

std::string QuotedPrintableDecode(std::string_view in, bool* invalid) {
  std::string out;
  QuotedPrintableDecoder decoder;
  decoder.Update(in, &out);
  decoder.Finish(&out);
  if (invalid != nullptr) *invalid = decoder.saw_invalid();
  return out;
}

std::string QuotedPrintableEncode(std::string_view in, bool binary) {
  std::string out;
  QuotedPrintableEncoder encoder(binary);
  encoder.Update(in, &out);
  encoder.Finish(&out);
  return out;
}

}  // namespace posthorn::message
