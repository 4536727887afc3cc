// ESMTP parameters of MAIL and RCPT (RFC 1869 / RFC 5321 4.1.2).

#include "smtp/syntax/esmtp_params.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "smtp/syntax/char_class.h"

namespace posthorn::smtp::syntax_internal {
namespace {

enum class Param : std::uint8_t {
  kSize,
  kBody,
  kRet,
  kEnvid,
  kAuth,
  kSmtpUtf8,  // MAIL
  kNotify,
  kOrcpt,  // RCPT
  kUnknown,
};

// Keywords are case-insensitive; dispatch on the length first.
Param Identify(std::string_view k) {
  switch (k.size()) {
    case 3:
      if (EqualsLower(k, "ret")) return Param::kRet;
      break;
    case 4:
      if (EqualsLower(k, "size")) return Param::kSize;
      if (EqualsLower(k, "body")) return Param::kBody;
      if (EqualsLower(k, "auth")) return Param::kAuth;
      break;
    case 5:
      if (EqualsLower(k, "envid")) return Param::kEnvid;
      if (EqualsLower(k, "orcpt")) return Param::kOrcpt;
      break;
    case 6:
      if (EqualsLower(k, "notify")) return Param::kNotify;
      break;
    case 8:
      if (EqualsLower(k, "smtputf8")) return Param::kSmtpUtf8;
      break;
    default:
      break;
  }
  return Param::kUnknown;
}

bool Fail(ParamError* error, int code, const char* text,
          std::string_view keyword) {
  error->code = code;
  error->enhanced = "5.5.4";
  error->text = text;
  error->keyword = keyword;
  return false;
}

struct RawParam {
  std::string_view keyword;
  std::string_view value;
  bool has_value = false;
};

// Reads the next esmtp-param at text[*pos]; false with *done set at the end.
bool NextParam(std::string_view text, std::size_t* pos, RawParam* param,
               bool* done, ParamError* error) {
  std::size_t i = *pos;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i == text.size()) {
    *done = true;
    return false;
  }
  const std::size_t start = i;
  if (!Is(text[i], kAlpha | kDigit)) {
    return Fail(error, 501, "Bad parameter syntax", {});
  }
  while (i < text.size() && (Is(text[i], kAlpha | kDigit) || text[i] == '-')) {
    ++i;
  }
  param->keyword = text.substr(start, i - start);
  param->value = {};
  param->has_value = false;
  if (i < text.size() && text[i] == '=') {
    ++i;
    const std::size_t value_start = i;
    while (i < text.size() && Is(text[i], kEsmtpValue)) ++i;
    param->value = text.substr(value_start, i - value_start);
    param->has_value = true;
    if (param->value.empty()) {
      return Fail(error, 501, "Empty parameter value", param->keyword);
    }
  }
  if (i < text.size() && text[i] != ' ') {
    if (Is(text[i], kEightBit)) {
      return Fail(error, 501, "8-bit character in parameter", param->keyword);
    }
    return Fail(error, 501, "Bad parameter syntax", param->keyword);
  }
  *pos = i;
  return true;
}

// RFC 1870: size-value = 1*20DIGIT. Values beyond 2^64-1 saturate, so the
// session answers "552 message too big" instead of a syntax error.
bool ParseSize(std::string_view v, std::uint64_t* out) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (char c : v) {
    if (!Is(c, kDigit)) return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    value = (value > (kMax - d) / 10) ? kMax : value * 10 + d;
  }
  *out = value;
  return true;
}

// RFC 3461 4.1:
//   notify-esmtp-value  = "NEVER" / 1#notify-list-element
//   notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"
bool ParseNotify(std::string_view v, DsnNotify* notify) {
  DsnNotify n;
  n.present = true;
  std::size_t i = 0;
  int items = 0;
  for (;;) {
    std::size_t comma = v.find(',', i);
    if (comma == std::string_view::npos) comma = v.size();
    const std::string_view item = v.substr(i, comma - i);
    ++items;
    if (EqualsLower(item, "never")) {
      n.never = true;
    } else if (EqualsLower(item, "success")) {
      n.success = true;
    } else if (EqualsLower(item, "failure")) {
      n.failure = true;
    } else if (EqualsLower(item, "delay")) {
      n.delay = true;
    } else {
      return false;
    }
    if (comma == v.size()) break;
    i = comma + 1;
  }
  if (n.never && items != 1) return false;  // NEVER stands alone
  *notify = n;
  return true;
}

// RFC 3461 4.2:
//   orcpt-parameter = "ORCPT=" original-recipient-address
//   original-recipient-address = addr-type ";" xtext
//   addr-type = atom
bool IsOrcptValue(std::string_view v) {
  if (v.size() > kMaxOrcpt) return false;
  const std::size_t semi = v.find(';');
  if (semi == 0 || semi == std::string_view::npos) return false;
  for (std::size_t i = 0; i < semi; ++i) {
    if (!Is(v[i], kAtext)) return false;
  }
  const std::string_view xtext = v.substr(semi + 1);
  return !xtext.empty() && IsXtext(xtext);
}

bool MarkSeen(Param p, std::uint16_t* seen) {
  const auto bit = static_cast<std::uint16_t>(1u << static_cast<unsigned>(p));
  if (*seen & bit) return false;
  *seen = static_cast<std::uint16_t>(*seen | bit);
  return true;
}

}  // namespace

bool IsXtext(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (Is(c, kXchar)) continue;
    // hexchar = ASCII "+" immediately followed by two upper case
    //           hexadecimal digits
    if (c == '+' && i + 2 < text.size() && Is(text[i + 1], kHex) &&
        Is(text[i + 2], kHex)) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

// RFC 1870 SIZE, RFC 6152 BODY, RFC 3461 RET / ENVID, RFC 4954 AUTH,
// RFC 6531 SMTPUTF8.
bool ParseMailParams(std::string_view text, MailParams* params,
                     ParamError* error) {
  std::size_t pos = 0;
  std::uint16_t seen = 0;
  for (;;) {
    RawParam p;
    bool done = false;
    if (!NextParam(text, &pos, &p, &done, error)) return done;
    const Param id = Identify(p.keyword);
    if (id == Param::kUnknown) {
      return Fail(error, 555, "Unsupported parameter", p.keyword);
    }
    if (id == Param::kNotify || id == Param::kOrcpt) {
      return Fail(error, 555, "Parameter not allowed on MAIL", p.keyword);
    }
    if (!MarkSeen(id, &seen)) {
      return Fail(error, 501, "Duplicate parameter", p.keyword);
    }
    if (id == Param::kSmtpUtf8) {
      if (p.has_value) {
        return Fail(error, 501, "Parameter takes no value", p.keyword);
      }
      params->smtputf8 = true;
      continue;
    }
    if (!p.has_value) {
      return Fail(error, 501, "Parameter needs a value", p.keyword);
    }
    const std::string_view v = p.value;
    bool ok = true;
    switch (id) {
      case Param::kSize: {
        std::uint64_t size = 0;
        ok = ParseSize(v, &size);
        if (ok) params->size = size;
        break;
      }
      case Param::kBody:
        if (EqualsLower(v, "7bit")) {
          params->body = BodyType::k7Bit;
        } else if (EqualsLower(v, "8bitmime")) {
          params->body = BodyType::k8BitMime;
        } else if (EqualsLower(v, "binarymime")) {
          params->body = BodyType::kBinaryMime;
        } else {
          ok = false;
        }
        break;
      case Param::kRet:
        if (EqualsLower(v, "full")) {
          params->ret = DsnRet::kFull;
        } else if (EqualsLower(v, "hdrs")) {
          params->ret = DsnRet::kHeaders;
        } else {
          ok = false;
        }
        break;
      case Param::kEnvid:
        ok = v.size() <= kMaxEnvid && IsXtext(v);
        if (ok) params->envid = v;
        break;
      case Param::kAuth:
        // RFC 4954 5: "AUTH=" (xtext-encoded mailbox / "<>")
        ok = v == "<>" || IsXtext(v);
        if (ok) params->auth = v;
        break;
      default:
        ok = false;
        break;
    }
    if (!ok) return Fail(error, 501, "Invalid parameter value", p.keyword);
  }
}

// RFC 3461 NOTIFY and ORCPT.
bool ParseRcptParams(std::string_view text, RcptParams* params,
                     ParamError* error) {
  std::size_t pos = 0;
  std::uint16_t seen = 0;
  for (;;) {
    RawParam p;
    bool done = false;
    if (!NextParam(text, &pos, &p, &done, error)) return done;
    const Param id = Identify(p.keyword);
    if (id == Param::kUnknown) {
      return Fail(error, 555, "Unsupported parameter", p.keyword);
    }
    if (id != Param::kNotify && id != Param::kOrcpt) {
      return Fail(error, 555, "Parameter not allowed on RCPT", p.keyword);
    }
    if (!MarkSeen(id, &seen)) {
      return Fail(error, 501, "Duplicate parameter", p.keyword);
    }
    if (!p.has_value) {
      return Fail(error, 501, "Parameter needs a value", p.keyword);
    }
    bool ok;
    if (id == Param::kNotify) {
      ok = ParseNotify(p.value, &params->notify);
    } else {
      ok = IsOrcptValue(p.value);
      if (ok) params->orcpt = p.value;
    }
    if (!ok) return Fail(error, 501, "Invalid parameter value", p.keyword);
  }
}

}  // namespace posthorn::smtp::syntax_internal
