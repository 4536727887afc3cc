// src/message/codec/charset.cpp — text in a declared charset to UTF-8.
//
// STANDARDS
//   RFC 3629 (UTF-8; the validator follows its table of well-formed
//   sequences: no overlong forms, no surrogates, nothing above U+10FFFF),
//   RFC 2978 / the IANA charset registry (names and aliases), RFC 2231
//   section 5 (a "*language" suffix on a charset name).
//
// SECURITY
//   Charset names come from mail. They are checked against a strict
//   character set and a length bound before iconv_open sees them, so that
//   no "//TRANSLIT" or "//IGNORE" suffix or path can be smuggled in.
//   Invalid input never stops a conversion: each bad sequence becomes
//   U+FFFD and the rest is converted.

#include "posthorn/message/charset.h"

#include <errno.h>
#include <iconv.h>

#include <array>
#include <cstring>

#include "message/codec/ascii.h"

namespace posthorn::message {
namespace {

using codec_internal::LowerAscii;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Longest charset name accepted (the longest IANA name is 45 characters).
constexpr std::size_t kMaxCharsetName = 64;

// Length of the well-formed UTF-8 sequence at p[0..n), or 0 when p[0]
// starts no well-formed sequence; *bad_len is then the length of the
// maximal ill-formed prefix to replace with one U+FFFD (Unicode 15, 3.9).
inline std::size_t Utf8SequenceLength(const unsigned char* p, std::size_t n,
                                      std::size_t* bad_len) {
  const unsigned char c = p[0];
  *bad_len = 1;
  if (c < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;        // no overlong
    if (c == 0xED) hi = 0x9F;        // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;        // no overlong
    if (c == 0xF4) hi = 0x8F;        // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (n < 2 || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (n <= k || (p[k] & 0xC0) != 0x80) {
      *bad_len = k;
      return 0;
    }
  }
  return len;
}

// Offset of the first byte that is not part of valid UTF-8, or n.
std::size_t FirstInvalidUtf8(const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    // Skip ASCII eight bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    while (i < n && p[i] < 0x80) ++i;
    if (i == n) break;
    std::size_t bad;
    const std::size_t len = Utf8SequenceLength(p + i, n - i, &bad);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

void AppendLatin1(std::string_view bytes, std::string* out) {
  out->reserve(out->size() + bytes.size() * 2);
  for (char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out->push_back(ch);
    } else {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
}

enum class Kind { kAscii, kUtf8, kLatin1, kUnknown, kIconv };

struct Alias {
  std::string_view name;
  Kind kind;
  std::string_view iconv_name;  // for kIconv; empty: the name itself
};

// Names handled without iconv, and names glibc's iconv does not know.
constexpr Alias kAliases[] = {
    {"us-ascii", Kind::kAscii, {}},
    {"ascii", Kind::kAscii, {}},
    {"us", Kind::kAscii, {}},
    {"ansi_x3.4-1968", Kind::kAscii, {}},
    {"iso646-us", Kind::kAscii, {}},
    {"utf-8", Kind::kUtf8, {}},
    {"utf8", Kind::kUtf8, {}},
    {"iso-8859-1", Kind::kLatin1, {}},
    {"iso8859-1", Kind::kLatin1, {}},
    {"iso_8859-1", Kind::kLatin1, {}},
    {"iso-8859-1:1987", Kind::kLatin1, {}},
    {"latin1", Kind::kLatin1, {}},
    {"latin-1", Kind::kLatin1, {}},
    {"l1", Kind::kLatin1, {}},
    {"cp819", Kind::kLatin1, {}},
    {"ibm819", Kind::kLatin1, {}},
    {"unknown", Kind::kUnknown, {}},
    {"x-unknown", Kind::kUnknown, {}},
    {"unknown-8bit", Kind::kUnknown, {}},
    {"x-user-defined", Kind::kUnknown, {}},
    {"ks_c_5601-1987", Kind::kIconv, "CP949"},
    {"x-sjis", Kind::kIconv, "SHIFT_JIS"},
    {"x-euc-jp", Kind::kIconv, "EUC-JP"},
    {"x-gbk", Kind::kIconv, "GBK"},
    {"x-mac-roman", Kind::kIconv, "MACINTOSH"},
    {"latin2", Kind::kIconv, "ISO-8859-2"},
    {"latin-2", Kind::kIconv, "ISO-8859-2"},
    {"latin9", Kind::kIconv, "ISO-8859-15"},
    {"latin-9", Kind::kIconv, "ISO-8859-15"},
};

struct Resolved {
  Kind kind;
  std::string iconv_name;
};

// Lowercases, drops an RFC 2231 "*language" suffix and surrounding blanks
// and quotes. Returns false for names no charset can have.
bool NormalizeName(std::string_view charset, std::string* name) {
  const std::size_t star = charset.find('*');
  if (star != std::string_view::npos) charset = charset.substr(0, star);
  while (!charset.empty() &&
         (charset.front() == ' ' || charset.front() == '\t' ||
          charset.front() == '"')) {
    charset.remove_prefix(1);
  }
  while (!charset.empty() &&
         (charset.back() == ' ' || charset.back() == '\t' ||
          charset.back() == '"')) {
    charset.remove_suffix(1);
  }
  if (charset.empty() || charset.size() > kMaxCharsetName) return false;
  name->clear();
  for (char c : charset) {
    const char l = LowerAscii(c);
    // IANA names use letters, digits and "-_.:()+"; "/" and "," would let
    // a name carry iconv options.
    const bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') ||
                    l == '-' || l == '_' || l == '.' || l == ':' ||
                    l == '(' || l == ')' || l == '+';
    if (!ok) return false;
    name->push_back(l);
  }
  return true;
}

Resolved Resolve(std::string_view charset) {
  std::string name;
  if (!NormalizeName(charset, &name)) return {Kind::kUnknown, {}};
  for (const Alias& a : kAliases) {
    if (a.name == name) {
      return {a.kind, a.iconv_name.empty() ? name : std::string(a.iconv_name)};
    }
  }
  // Everything else by the name as written: glibc's iconv knows the IANA
  // names and most aliases ("windows-1252", "cp1252", "koi8-r", ...).
  return {Kind::kIconv, name};
}

// A small per-thread cache of open conversion descriptors: iconv_open reads
// gconv modules and is slow, and mail uses few charsets.
class IconvCache {
 public:
  ~IconvCache() {
    for (Entry& e : entries_) {
      if (e.used && e.cd != kFailed) iconv_close(e.cd);
    }
  }

  // The descriptor for `name` to UTF-8, or kFailed.
  iconv_t Get(const std::string& name) {
    for (Entry& e : entries_) {
      if (e.used && e.name == name) return e.cd;
    }
    Entry& e = entries_[next_];
    next_ = (next_ + 1) % kEntries;
    if (e.used && e.cd != kFailed) iconv_close(e.cd);
    e.used = true;
    e.name = name;
    e.cd = iconv_open("UTF-8", name.c_str());
    return e.cd;
  }

  static inline const iconv_t kFailed = reinterpret_cast<iconv_t>(-1);

 private:
  static constexpr std::size_t kEntries = 8;
  struct Entry {
    bool used = false;
    std::string name;
    iconv_t cd = kFailed;
  };
  std::array<Entry, kEntries> entries_;
  std::size_t next_ = 0;
};

CharsetResult ConvertWithIconv(iconv_t cd, std::string_view bytes,
                               std::string* out) {
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state
  bool invalid = false;
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  const std::size_t old_size = out->size();
  std::size_t capacity = bytes.size() * 3 + 16;
  out->resize(old_size + capacity);
  std::size_t used = 0;
  auto grow = [&] {
    capacity *= 2;
    out->resize(old_size + capacity);
  };
  for (;;) {
    char* o = out->data() + old_size + used;
    std::size_t o_left = capacity - used;
    const std::size_t r = in_left == 0
                              ? iconv(cd, nullptr, nullptr, &o, &o_left)
                              : iconv(cd, &in, &in_left, &o, &o_left);
    used = capacity - o_left;
    if (r != static_cast<std::size_t>(-1)) {
      if (in_left == 0) {
        // Flush the shift state (stateful charsets such as ISO-2022-JP).
        o = out->data() + old_size + used;
        o_left = capacity - used;
        if (iconv(cd, nullptr, nullptr, &o, &o_left) ==
            static_cast<std::size_t>(-1)) {
          grow();
          continue;
        }
        used = capacity - o_left;
        break;
      }
      continue;
    }
    if (errno == E2BIG) {
      grow();
      continue;
    }
    // EILSEQ: an invalid sequence; EINVAL: an incomplete one at the end.
    // Either way: one U+FFFD for one byte, and go on.
    invalid = true;
    if (capacity - used < kReplacement.size()) grow();
    std::memcpy(out->data() + old_size + used, kReplacement.data(),
                kReplacement.size());
    used += kReplacement.size();
    if (in_left > 0) {
      ++in;
      --in_left;
    }
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
    if (in_left == 0) break;
  }
  out->resize(old_size + used);
  return invalid ? CharsetResult::kInvalidData : CharsetResult::kOk;
}

}  // namespace

bool AppendValidUtf8(std::string_view bytes, std::string* out) {
  const unsigned char* p =
      reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t bad = FirstInvalidUtf8(p, n);
  if (bad == n) {
    out->append(bytes);
    return true;
  }
  out->reserve(out->size() + n + 8);
  std::size_t i = 0;
  while (bad < n) {
    out->append(bytes.data() + i, bad - i);
    out->append(kReplacement);
    std::size_t bad_len;
    Utf8SequenceLength(p + bad, n - bad, &bad_len);
    i = bad + bad_len;
    bad = i + FirstInvalidUtf8(p + i, n - i);
  }
  out->append(bytes.data() + i, n - i);
  return false;
}

CharsetResult ConvertToUtf8(std::string_view charset, std::string_view bytes,
                            std::string* out) {
  const Resolved r = Resolve(charset);
  switch (r.kind) {
    case Kind::kUnknown:
      return CharsetResult::kUnknownCharset;
    case Kind::kAscii:
      // 8-bit bytes in "US-ASCII" are a lie; keep what is valid UTF-8.
      if (!codec_internal::HasEightBit(bytes)) {
        out->append(bytes);
        return CharsetResult::kOk;
      }
      AppendValidUtf8(bytes, out);
      return CharsetResult::kInvalidData;
    case Kind::kUtf8:
      return AppendValidUtf8(bytes, out) ? CharsetResult::kOk
                                         : CharsetResult::kInvalidData;
    case Kind::kLatin1:
      AppendLatin1(bytes, out);
      return CharsetResult::kOk;
    case Kind::kIconv:
      break;
  }
  thread_local IconvCache cache;
  const iconv_t cd = cache.Get(r.iconv_name);
  if (cd == IconvCache::kFailed) return CharsetResult::kUnknownCharset;
  return ConvertWithIconv(cd, bytes, out);
}

}  // namespace posthorn::message
