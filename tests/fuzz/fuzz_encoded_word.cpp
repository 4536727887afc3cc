// libFuzzer target for posthorn/message/encoded_word.h (and charset.h).
//
// The input is a header value. Invariants checked, not just "no crash":
//   - DecodeUnstructured gives valid UTF-8, appends (never touches what was
//     in the output before), and its defect offsets lie inside the value;
//   - plain printable ASCII without "=?" decodes to itself;
//   - for the input made valid UTF-8, EncodeUnstructured gives lines of at
//     most 78 octets (unless it returned the plain ASCII as it was) with
//     CRLF SP folds only, and unfolding and decoding it gives the text back
//     without a defect;
//   - EncodePhrase gives no CR/LF, and its encoded form decodes back;
//   - ConvertToUtf8 in a charset picked by the first byte gives valid UTF-8.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "posthorn/message/charset.h"
#include "posthorn/message/encoded_word.h"

namespace {

using namespace posthorn::message;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsValidUtf8(std::string_view s) {
  std::string scratch;
  return AppendValidUtf8(s, &scratch);
}

std::string Unfold(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 2 < s.size() && s[i + 1] == '\n' &&
        (s[i + 2] == ' ' || s[i + 2] == '\t')) {
      ++i;
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

// Folds are CRLF followed by WSP, never at the end; every encoded word ends
// by column 78, unless only white space too long for any line precedes it
// (plain words and white space are written as they are).
void CheckFolding(const std::string& enc, std::size_t used) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t eol = enc.find("\r\n", pos);
    const std::size_t end = eol == std::string::npos ? enc.size() : eol;
    const std::string_view line(enc.data() + pos, end - pos);
    std::size_t w = 0;
    while ((w = line.find("=?", w)) != std::string_view::npos) {
      const std::size_t e = line.find("?=", line.find('?', w + 8) + 1);
      Check(e != std::string_view::npos);
      Check(e + 2 - w <= 75);
      const bool long_indent =
          line.find_first_not_of(" \t") == w && w + 20 > 78;
      Check(used + e + 2 <= 78 || long_indent);
      w = e + 2;
    }
    if (eol == std::string::npos) break;
    Check(eol + 2 < enc.size());
    Check(enc[eol + 2] == ' ' || enc[eol + 2] == '\t');
    pos = eol + 2;
    used = 0;
  }
}

constexpr std::string_view kCharsets[] = {
    "utf-8", "us-ascii", "iso-8859-1", "iso-8859-2", "iso-8859-15",
    "windows-1252", "koi8-r", "shift_jis", "iso-2022-jp", "gb2312",
    "utf-16", "x-unknown", "big5", "euc-kr", "utf-7", "windows-1250"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  Defects defects;
  std::string out = "prefix";
  DecodeUnstructured(in, &out, &defects, 1000);
  Check(out.compare(0, 6, "prefix") == 0);
  Check(IsValidUtf8(out));
  for (const Defect& d : defects) Check(d.offset >= 1000 && d.offset < 1000 + size);

  bool plain = true;
  for (char c : in) {
    if (static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) > 0x7E) {
      plain = false;
    }
  }
  if (plain && !MayContainEncodedWords(in)) Check(out.substr(6) == in);

  std::string text;
  AppendValidUtf8(in, &text);
  const std::size_t used = size > 0 ? data[0] % 40 : 0;
  const std::string enc = EncodeUnstructured(text, used);
  if (enc != text) CheckFolding(enc, used);
  std::string unfolded = Unfold(enc);
  if (enc.rfind("\r\n ", 0) == 0 &&
      (text.empty() || (text[0] != ' ' && text[0] != '\t'))) {
    unfolded.erase(0, 1);  // the space of a fold at the very start
  }
  Defects round_defects;
  std::string round;
  DecodeUnstructured(unfolded, &round, &round_defects);
  Check(round == text);
  Check(round_defects.empty());

  const std::string phrase = EncodePhrase(text);
  Check(phrase.find('\r') == std::string::npos &&
        phrase.find('\n') == std::string::npos);
  if (MayContainEncodedWords(phrase)) {
    Check(IsValidUtf8(DecodeUnstructured(phrase)));
  }

  if (size > 0) {
    std::string converted;
    const CharsetResult r = ConvertToUtf8(
        kCharsets[data[0] % (sizeof(kCharsets) / sizeof(kCharsets[0]))],
        in.substr(1), &converted);
    Check(IsValidUtf8(converted));
    if (r == CharsetResult::kUnknownCharset) Check(converted.empty());
  }
  return 0;
}
