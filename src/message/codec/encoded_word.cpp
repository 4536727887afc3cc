// src/message/codec/encoded_word.cpp — RFC 2047 encoded words.
//
//   encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
//   charset      = token    ; RFC 2231 section 5: charset ["*" language]
//   encoding     = token    ; "Q" or "B", either case
//   token        = 1*<Any CHAR except SPACE, CTLs, and especials>
//   encoded-text = 1*<Any printable ASCII character other than "?"
//                     or SPACE>
//
// Decoding is one pass over the value. Text between words is copied;
// encoded words are collected into a "run" while they follow each other
// (separated by nothing or by linear white space only, which RFC 2047
// section 6.2 says to drop) in the same charset; the run's bytes are
// converted to UTF-8 once, when something else comes. That is what lets a
// character or a base64 quantum split across two words decode.

#include "posthorn/message/encoded_word.h"

#include <algorithm>
#include <array>

#include "message/codec/ascii.h"
#include "posthorn/message/charset.h"

namespace posthorn::message {
namespace {

using codec_internal::EqualsIgnoreCase;
using codec_internal::kHexValue;
using codec_internal::kUpperHex;

// Longest charset name looked at; a longer one makes the word malformed.
constexpr std::size_t kMaxCharsetLength = 64;
// RFC 2047 section 2: an encoded word is at most 75 octets.
constexpr std::size_t kMaxEncodedWord = 75;
// RFC 5322 section 2.1.1: lines SHOULD be at most 78 octets.
constexpr std::size_t kMaxLine = 78;

constexpr std::array<std::int8_t, 256> kB64 = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}();

// RFC 2047 token characters (especials and "?" excluded), leniently also
// "." which some charset names contain.
inline bool IsCharsetChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127) return false;
  switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';':
    case ':': case '"': case '/': case '[': case ']': case '?': case '=':
      return false;
    default:
      return true;
  }
}

inline bool IsLwsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool IsAllLwsp(std::string_view s) {
  for (char c : s) {
    if (!IsLwsp(c)) return false;
  }
  return true;
}

struct EncodedWord {
  std::size_t begin = 0;  // of "=?"
  std::size_t end = 0;    // after "?="
  std::string_view charset;  // language suffix removed
  char encoding = 0;         // 'q' or 'b'
  std::string_view text;
};

enum class WordParse { kNotAWord, kMalformed, kOk };

class Decoder {
 public:
  Decoder(std::string_view value, std::string* out, Defects* defects,
          std::size_t base_offset)
      : value_(value), out_(out), defects_(defects), base_(base_offset) {}

  void Run() {
    std::size_t pos = 0;      // start of text not yet handled
    std::size_t search = 0;   // where to look for the next "=?"
    while (true) {
      const std::size_t at = value_.find("=?", search);
      if (at == std::string_view::npos) break;
      EncodedWord w;
      const WordParse r = ParseWord(at, &w);
      if (r == WordParse::kNotAWord) {
        search = at + 2;
        continue;
      }
      if (r == WordParse::kMalformed) {
        AddDefect(DefectKind::kInvalidEncodedWord, at);
        // The word is kept as text: go on after its "=?".
        search = at + 2;
        continue;
      }
      // Text before the word.
      Text(pos, at);
      Word(w);
      pos = w.end;
      search = w.end;
    }
    Text(pos, value_.size());
    FlushRun();
    FlushWhitespace();
  }

 private:
  void AddDefect(DefectKind kind, std::size_t at) {
    if (defects_ != nullptr) defects_->push_back({kind, base_ + at});
  }

  // Parses the encoded word at `at` (where "=?" is).
  WordParse ParseWord(std::size_t at, EncodedWord* w) {
    const std::size_t n = value_.size();
    std::size_t i = at + 2;
    const std::size_t cs_begin = i;
    while (i < n && IsCharsetChar(value_[i])) ++i;
    if (i == cs_begin || i >= n || value_[i] != '?') return WordParse::kNotAWord;
    std::string_view charset = value_.substr(cs_begin, i - cs_begin);
    // From here on it looks like an attempt at an encoded word.
    if (charset.size() > kMaxCharsetLength) return WordParse::kMalformed;
    const std::size_t star = charset.find('*');  // RFC 2231 language
    if (star != std::string_view::npos) charset = charset.substr(0, star);
    if (charset.empty()) return WordParse::kMalformed;
    ++i;
    if (i + 1 >= n || value_[i + 1] != '?') return WordParse::kMalformed;
    const char e = codec_internal::LowerAscii(value_[i]);
    if (e != 'q' && e != 'b') return WordParse::kMalformed;
    i += 2;
    // The end "?=". Once a search failed from some point, it fails from
    // every later point: remembering that keeps a value full of "=?a?q?"
    // linear.
    if (i >= no_end_from_) return WordParse::kMalformed;
    const std::size_t end = value_.find("?=", i);
    if (end == std::string_view::npos) {
      no_end_from_ = i;
      return WordParse::kMalformed;
    }
    w->begin = at;
    w->end = end + 2;
    w->charset = charset;
    w->encoding = e;
    w->text = value_.substr(i, end - i);
    return WordParse::kOk;
  }

  // Plain text value_[from, to).
  void Text(std::size_t from, std::size_t to) {
    if (from == to) return;
    const std::string_view t = value_.substr(from, to - from);
    if (run_active_ && IsAllLwsp(t)) {
      // Between two encoded words this is dropped; otherwise kept.
      pending_ws_from_ = from;
      pending_ws_to_ = to;
      return;
    }
    FlushRun();
    FlushWhitespace();
    AppendRaw(from, t);
  }

  void FlushWhitespace() {
    if (pending_ws_to_ > pending_ws_from_) {
      out_->append(value_.substr(pending_ws_from_,
                                 pending_ws_to_ - pending_ws_from_));
    }
    pending_ws_from_ = pending_ws_to_ = 0;
  }

  // Raw header text: UTF-8 is kept; other 8-bit bytes are taken as
  // ISO-8859-1 (the most common guess, and every byte maps).
  void AppendRaw(std::size_t from, std::string_view t) {
    if (!codec_internal::HasEightBit(t)) {
      out_->append(t);
      return;
    }
    std::string scratch;
    if (AppendValidUtf8(t, &scratch)) {
      out_->append(scratch);
      return;
    }
    AddDefect(DefectKind::kInvalidCharsetData, from);
    (void)ConvertToUtf8("iso-8859-1", t, out_);
  }

  // Decodes the payload of `w` into bytes_. Returns false when the payload
  // is broken (nothing appended then).
  bool DecodePayload(const EncodedWord& w) {
    const std::size_t old_size = bytes_.size();
    if (w.encoding == 'q') {
      FinishBase64();
      const std::string_view t = w.text;
      for (std::size_t i = 0; i < t.size(); ++i) {
        const char c = t[i];
        if (c == '_') {
          bytes_.push_back(' ');  // RFC 2047 4.2 (2)
        } else if (c == '=') {
          if (i + 2 >= t.size() ||
              kHexValue[static_cast<unsigned char>(t[i + 1])] == 0xFF ||
              kHexValue[static_cast<unsigned char>(t[i + 2])] == 0xFF) {
            bytes_.resize(old_size);
            return false;
          }
          bytes_.push_back(static_cast<char>(
              (kHexValue[static_cast<unsigned char>(t[i + 1])] << 4) |
              kHexValue[static_cast<unsigned char>(t[i + 2])]));
          i += 2;
        } else {
          bytes_.push_back(c);
        }
      }
      return true;
    }
    // Base64: the bit accumulator carries over from the previous word of
    // the run, so a quantum split across two words decodes.
    const std::uint32_t saved_acc = b64_acc_;
    const int saved_bits = b64_sextets_;
    for (char c : w.text) {
      const std::int8_t v = kB64[static_cast<unsigned char>(c)];
      if (v >= 0) {
        b64_acc_ = (b64_acc_ << 6) | static_cast<std::uint32_t>(v);
        if (++b64_sextets_ == 4) {
          bytes_.push_back(static_cast<char>(b64_acc_ >> 16));
          bytes_.push_back(static_cast<char>(b64_acc_ >> 8));
          bytes_.push_back(static_cast<char>(b64_acc_));
          b64_acc_ = 0;
          b64_sextets_ = 0;
        }
      } else if (c == '=') {
        FinishBase64();  // padding ends the quantum
      } else if (!IsLwsp(c)) {
        bytes_.resize(old_size);
        b64_acc_ = saved_acc;
        b64_sextets_ = saved_bits;
        return false;
      }
    }
    return true;
  }

  // Emits the whole bytes of a partial base64 quantum (missing padding is
  // common and harmless).
  void FinishBase64() {
    if (b64_sextets_ == 2) {
      bytes_.push_back(static_cast<char>(b64_acc_ >> 4));
    } else if (b64_sextets_ == 3) {
      bytes_.push_back(static_cast<char>(b64_acc_ >> 10));
      bytes_.push_back(static_cast<char>(b64_acc_ >> 2));
    }
    b64_acc_ = 0;
    b64_sextets_ = 0;
  }

  void Word(const EncodedWord& w) {
    if (w.end - w.begin > kMaxEncodedWord) {
      AddDefect(DefectKind::kEncodedWordTooLong, w.begin);
    }
    const bool joins =
        run_active_ && EqualsIgnoreCase(run_charset_, w.charset);
    if (!joins) {
      FlushRun();
      run_active_ = true;
      run_charset_ = w.charset;
      run_begin_ = w.begin;
      run_end_ = 0;
      bytes_.clear();
    }
    if (!DecodePayload(w)) {
      // Broken payload: the word is kept as written, and so is the
      // whitespace before it.
      AddDefect(DefectKind::kInvalidEncodedWord, w.begin);
      FlushRun();
      FlushWhitespace();
      AppendRaw(w.begin, value_.substr(w.begin, w.end - w.begin));
      return;
    }
    // Whitespace between two encoded words is dropped (RFC 2047 6.2).
    pending_ws_from_ = pending_ws_to_ = 0;
    run_end_ = w.end;
  }

  void FlushRun() {
    if (!run_active_) return;
    run_active_ = false;
    FinishBase64();
    if (run_end_ <= run_begin_) return;  // no word decoded into it
    const CharsetResult r = ConvertToUtf8(run_charset_, bytes_, out_);
    if (r == CharsetResult::kUnknownCharset) {
      AddDefect(DefectKind::kUnknownCharset, run_begin_);
      AppendRaw(run_begin_, value_.substr(run_begin_, run_end_ - run_begin_));
    } else if (r == CharsetResult::kInvalidData) {
      AddDefect(DefectKind::kInvalidCharsetData, run_begin_);
    }
    bytes_.clear();
    run_end_ = 0;
  }

  std::string_view value_;
  std::string* out_;
  Defects* defects_;
  std::size_t base_;
  std::size_t no_end_from_ = static_cast<std::size_t>(-1);

  // The current run of adjacent encoded words in one charset.
  bool run_active_ = false;
  std::string_view run_charset_;
  std::size_t run_begin_ = 0;
  std::size_t run_end_ = 0;
  std::string bytes_;
  std::uint32_t b64_acc_ = 0;
  int b64_sextets_ = 0;
  // Whitespace after the run, dropped if another encoded word follows.
  std::size_t pending_ws_from_ = 0;
  std::size_t pending_ws_to_ = 0;
};

}  // namespace

bool MayContainEncodedWords(std::string_view value) {
  return value.find("=?") != std::string_view::npos;
}

void DecodeUnstructured(std::string_view value, std::string* out,
                        Defects* defects, std::size_t base_offset) {
  const bool words = MayContainEncodedWords(value);
  if (!words && !codec_internal::HasEightBit(value)) {
    out->append(value);  // the common case: plain ASCII
    return;
  }
  Decoder(value, out, defects, base_offset).Run();
}

std::string DecodeUnstructured(std::string_view value) {
  std::string out;
  DecodeUnstructured(value, &out);
  return out;
}

void DecodePhrase(std::string_view phrase, std::string* out, Defects* defects,
                  std::size_t base_offset) {
  DecodeUnstructured(phrase, out, defects, base_offset);
}

// ---------------------------------------------------------------------------
// Encoding.

namespace {

constexpr std::string_view kWordPrefix = "=?UTF-8?";
// "=?UTF-8?Q?" + "?=".
constexpr std::size_t kWordOverhead = 12;
// Below this many octets of room a word is not started on the current line.
constexpr std::size_t kMinWordRoom = 20;

// RFC 2047 section 5 (3): in a phrase, Q text may hold only letters,
// digits, "!", "*", "+", "-", "/" (and "=" and "_" with their Q meaning).
// The same safe set is used for unstructured text.
constexpr std::array<bool, 256> kQSafe = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (char c : std::string_view("!*+-/")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

inline std::size_t QLength(unsigned char c) {
  return (kQSafe[c] || c == ' ') ? 1 : 3;
}

// Length of the UTF-8 character starting at s[i] (valid input).
inline std::size_t CharLength(std::string_view s, std::size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return std::min(len, s.size() - i);
}

void AppendQ(std::string_view bytes, std::string* out) {
  for (char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (kQSafe[c]) {
      out->push_back(ch);
    } else if (c == ' ') {
      out->push_back('_');
    } else {
      out->push_back('=');
      out->push_back(kUpperHex[c >> 4]);
      out->push_back(kUpperHex[c & 15]);
    }
  }
}

void AppendB(std::string_view bytes, std::string* out) {
  constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    out->push_back(kAlphabet[p[i] >> 2]);
    out->push_back(kAlphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
    out->push_back(kAlphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
    out->push_back(kAlphabet[p[i + 2] & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    const unsigned char a = p[i];
    const unsigned char b = rest > 1 ? p[i + 1] : 0;
    out->push_back(kAlphabet[a >> 2]);
    out->push_back(kAlphabet[((a & 3) << 4) | (b >> 4)]);
    out->push_back(rest > 1 ? kAlphabet[(b & 15) << 2] : '=');
    out->push_back('=');
  }
}

// Does this word have to be encoded? Non-ASCII, control characters, or
// something a decoder would take for an encoded word.
bool NeedsEncoding(std::string_view word) {
  for (char ch : word) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F) return true;
  }
  return word.find("=?") != std::string_view::npos;
}

// RFC 5322 atext.
bool IsAtext(char ch) {
  const unsigned char c = static_cast<unsigned char>(ch);
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(ch) !=
         std::string_view::npos;
}

bool IsAtom(std::string_view word) {
  if (word.empty()) return false;
  for (char c : word) {
    if (!IsAtext(c)) return false;
  }
  return true;
}

struct Token {
  std::string_view ws;    // whitespace before the word (may be empty)
  std::string_view word;  // may be empty only for the trailing token
};

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t ws_begin = i;
    while (i < s.size() && codec_internal::IsWsp(s[i])) ++i;
    const std::size_t word_begin = i;
    while (i < s.size() && !codec_internal::IsWsp(s[i])) ++i;
    tokens.push_back({s.substr(ws_begin, word_begin - ws_begin),
                      s.substr(word_begin, i - word_begin)});
  }
  return tokens;
}

// Octets the character at `at` takes inside an encoded word of its own.
std::size_t EncodedLength(std::string_view text, std::size_t at, bool use_b) {
  const std::size_t len = CharLength(text, at);
  if (use_b) return (len + 2) / 3 * 4;
  std::size_t q = 0;
  for (std::size_t k = at; k < at + len; ++k) {
    q += QLength(static_cast<unsigned char>(text[k]));
  }
  return q;
}

// The smallest encoded word that holds the character at `at`.
std::size_t MinWord(std::string_view text, std::size_t at, bool use_b) {
  return std::max(kMinWordRoom, kWordOverhead + EncodedLength(text, at, use_b));
}

// Writes encoded words and separators, folding lines.
class WordWriter {
 public:
  WordWriter(std::string* out, std::size_t column, bool fold)
      : out_(out), column_(column), fold_(fold) {}

  // Appends `ws` + `text` as they are, folding before `ws` when the line
  // would get too long.
  void Plain(std::string_view ws, std::string_view text) {
    // Never fold before trailing white space: that would leave a line of
    // white space only (RFC 5322 3.2.2).
    if (column_ + ws.size() + text.size() > kMaxLine && !text.empty() &&
        CanFold(ws)) {
      Fold(&ws);
    }
    out_->append(ws);
    out_->append(text);
    column_ += ws.size() + text.size();
    wrote_ = true;
  }

  // Appends `ws` then `text` (UTF-8) as encoded words.
  void Encoded(std::string_view ws, std::string_view text) {
    // Q or B, whichever is shorter for the whole run.
    std::size_t q_len = 0;
    for (char c : text) q_len += QLength(static_cast<unsigned char>(c));
    const std::size_t b_len = (text.size() + 2) / 3 * 4;
    const bool use_b = b_len < q_len;
    std::string_view sep = ws;
    std::size_t i = 0;
    while (i < text.size()) {
      std::size_t room = kMaxLine > column_ + sep.size()
                             ? kMaxLine - column_ - sep.size()
                             : 0;
      // A word holds at least one whole character: up to 12 octets of Q
      // for a 4-byte one, so a fixed minimum room is not always enough.
      bool word_b = use_b;
      std::size_t min_word = MinWord(text, i, word_b);
      if (room < min_word && CanFold(sep)) {
        Fold(&sep);
        room = sep.size() < kMaxLine ? kMaxLine - sep.size() : 0;
      }
      // Long white space kept as the fold's indent may leave less room than
      // the run's encoding needs for this character but enough for the
      // other one (B takes at most 20 octets for any character): this word
      // takes the other encoding, the next ones go back to the run's.
      if (fold_ && room < min_word && MinWord(text, i, !use_b) <= room) {
        word_b = !use_b;
        min_word = MinWord(text, i, word_b);
      }
      if (!fold_) room = kMaxEncodedWord;
      const std::size_t max_word =
          std::max(std::min(room, kMaxEncodedWord), min_word);
      const std::size_t max_text = max_word - kWordOverhead;
      // Take whole characters while they fit.
      std::size_t j = i;
      std::size_t q_used = 0;
      while (j < text.size()) {
        const std::size_t len = CharLength(text, j);
        std::size_t next;
        if (word_b) {
          next = (j + len - i + 2) / 3 * 4;
        } else {
          next = q_used;
          for (std::size_t k = j; k < j + len; ++k) {
            next += QLength(static_cast<unsigned char>(text[k]));
          }
        }
        if (next > max_text && j > i) break;
        q_used = next;
        j += len;
      }
      out_->append(sep);
      const std::size_t before = out_->size();
      out_->append(kWordPrefix);
      out_->push_back(word_b ? 'B' : 'Q');
      out_->push_back('?');
      if (word_b) {
        AppendB(text.substr(i, j - i), out_);
      } else {
        AppendQ(text.substr(i, j - i), out_);
      }
      out_->append("?=");
      column_ += sep.size() + (out_->size() - before);
      wrote_ = true;
      sep = " ";
      i = j;
    }
  }

 private:
  // A fold goes before white space that is there anyway; at the very start
  // of the value (after "Name: ") one is allowed too, with a space added
  // (header parsers trim it), when the first line has no room left.
  bool CanFold(std::string_view ws) const {
    if (!fold_) return false;
    return wrote_ ? !ws.empty() : column_ > 0;
  }

  void Fold(std::string_view* ws) {
    out_->append("\r\n");
    column_ = 0;
    if (ws->empty()) *ws = " ";
  }

  std::string* out_;
  std::size_t column_;
  bool fold_;
  bool wrote_ = false;
};

bool IsPlainPrintable(std::string_view s) {
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c >= 0x7F) return false;
  }
  return true;
}

// Emits the tokens: words that need encoding (and the whitespace between
// two of them) become runs of encoded words; the others stay as written.
template <typename NeedsEncodingFn>
void EmitTokens(const std::vector<Token>& tokens, NeedsEncodingFn needs,
                bool collapse_ws, WordWriter* writer, std::string_view text) {
  std::size_t t = 0;
  while (t < tokens.size()) {
    const Token& tok = tokens[t];
    std::string_view ws = tok.ws;
    if (collapse_ws && !ws.empty()) ws = " ";
    if (tok.word.empty() || !needs(tok.word)) {
      writer->Plain(ws, tok.word);
      ++t;
      continue;
    }
    // A run: this word and the following ones that need encoding, with
    // the whitespace between them (it is encoded with them).
    std::size_t last = t;
    while (last + 1 < tokens.size() && !tokens[last + 1].word.empty() &&
           needs(tokens[last + 1].word)) {
      ++last;
    }
    const char* begin = tok.word.data();
    const char* end = tokens[last].word.data() + tokens[last].word.size();
    const std::size_t offset = static_cast<std::size_t>(begin - text.data());
    writer->Encoded(ws, text.substr(offset, static_cast<std::size_t>(end - begin)));
    t = last + 1;
  }
}

}  // namespace

std::string EncodeUnstructured(std::string_view utf8,
                               std::size_t first_line_used) {
  if (IsPlainPrintable(utf8) && !MayContainEncodedWords(utf8)) {
    return std::string(utf8);
  }
  std::string valid;
  AppendValidUtf8(utf8, &valid);
  std::string out;
  out.reserve(valid.size() * 2 + 16);
  WordWriter writer(&out, first_line_used, /*fold=*/true);
  EmitTokens(Tokenize(valid), NeedsEncoding, /*collapse_ws=*/false, &writer,
             valid);
  return out;
}

std::string EncodePhrase(std::string_view utf8) {
  std::string valid;
  AppendValidUtf8(utf8, &valid);
  const std::vector<Token> tokens = Tokenize(valid);
  bool all_ascii = IsPlainPrintable(valid) && !MayContainEncodedWords(valid);
  if (all_ascii) {
    // Atoms separated by single spaces stay as they are; anything else
    // printable becomes one quoted-string.
    bool atoms = !tokens.empty();
    for (std::size_t i = 0; i < tokens.size() && atoms; ++i) {
      atoms = IsAtom(tokens[i].word) &&
              (i == 0 ? tokens[i].ws.empty() : tokens[i].ws == " ");
    }
    if (atoms) return valid;
    std::string out = "\"";
    for (char c : valid) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
    return out;
  }
  std::string out;
  WordWriter writer(&out, 0, /*fold=*/false);
  // Leading whitespace means nothing in a phrase.
  std::vector<Token> trimmed = tokens;
  if (!trimmed.empty()) trimmed.front().ws = {};
  if (!trimmed.empty() && trimmed.back().word.empty()) trimmed.pop_back();
  EmitTokens(trimmed,
             [](std::string_view w) { return !IsAtom(w) || NeedsEncoding(w); },
             /*collapse_ws=*/true, &writer, valid);
  return out;
}

}  // namespace posthorn::message
