// store/queue/xtext.cpp — see xtext.h.

#include "store/queue/xtext.h"

namespace posthorn::store::queue {
namespace {

bool IsLiteral(unsigned char c) {
  return c >= '!' && c <= '~' && c != '+' && c != '=';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lowercase is refused: one spelling per value
}

}  // namespace

void AppendXtextToken(std::string_view value, std::string& out) {
  if (value.empty()) {
    out.push_back('=');
    return;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (IsLiteral(c)) {
      out.push_back(ch);
    } else {
      out.push_back('+');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

std::optional<std::string> DecodeXtextToken(std::string_view token) {
  if (token == "=") return std::string();
  if (token.empty()) return std::nullopt;
  std::string value;
  value.reserve(token.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    auto c = static_cast<unsigned char>(token[i]);
    if (IsLiteral(c)) {
      value.push_back(token[i]);
      continue;
    }
    if (c != '+' || token.size() - i < 3) return std::nullopt;
    int high = HexValue(token[i + 1]);
    int low = HexValue(token[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    auto decoded = static_cast<unsigned char>(high * 16 + low);
    // One spelling per value: a byte that may stand for itself must.
    if (IsLiteral(decoded)) return std::nullopt;
    value.push_back(static_cast<char>(decoded));
    i += 2;
  }
  return value;
}

}  // namespace posthorn::store::queue
