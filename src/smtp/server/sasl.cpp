// Strict base64 and PLAIN splitting for the server's AUTH; see sasl.h.

#include "smtp/server/sasl.h"

#include <array>
#include <cstdint>

namespace posthorn::smtp::server_internal {
namespace {

// 0..63 for the alphabet, 0xff otherwise.
constexpr std::array<std::uint8_t, 256> MakeTable() {
  std::array<std::uint8_t, 256> table{};
  for (auto& v : table) v = 0xff;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] =
        static_cast<std::uint8_t>(i);
  }
  return table;
}
constexpr std::array<std::uint8_t, 256> kTable = MakeTable();

}  // namespace

bool DecodeBase64(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  out->reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        // "xx==" or "xxx=": padding only at the very end.
        if (j == 2 && text[i + 3] != '=') return false;
        ++pad;
        v[j] = 0;
        continue;
      }
      if (pad > 0) return false;
      v[j] = kTable[static_cast<unsigned char>(c)];
      if (v[j] == 0xff) return false;
    }
    const std::uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
    // Canonical form: the bits under the padding must be zero.
    if (pad == 1 && (n & 0xff) != 0) return false;
    if (pad == 2 && (n & 0xffff) != 0) return false;
  }
  return true;
}

bool SplitPlain(std::string_view message, PlainCredentials* out) {
  const std::size_t first = message.find('\0');
  if (first == std::string_view::npos) return false;
  const std::size_t second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return false;
  if (message.find('\0', second + 1) != std::string_view::npos) return false;
  out->authzid = message.substr(0, first);
  out->authcid = message.substr(first + 1, second - first - 1);
  out->password = message.substr(second + 1);
  return !out->authcid.empty();
}

}  // namespace posthorn::smtp::server_internal
