// Strict base64 and the PLAIN message for SMTP and POP3 AUTH; see
// wire/internal/sasl.h.

#include "wire/internal/sasl.h"

#include <array>
#include <cstdint>

namespace posthorn::wire::internal {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for the alphabet, 0xff otherwise.
constexpr std::array<std::uint8_t, 256> MakeTable() {
  std::array<std::uint8_t, 256> table{};
  for (auto& v : table) v = 0xff;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] =
        static_cast<std::uint8_t>(i);
  }
  return table;
}
constexpr std::array<std::uint8_t, 256> kTable = MakeTable();

}  // namespace

bool DecodeBase64Strict(std::string_view text, std::string* out) {
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
    // Canonical form: the bits under the padding are zero.
    if (pad == 1 && (n & 0xff) != 0) return false;
    if (pad == 2 && (n & 0xffff) != 0) return false;
    out->push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
  }
  return true;
}

void EncodeBase64(std::string_view data, std::string* out) {
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t(std::uint8_t(data[i])) << 16) |
                            (std::uint32_t(std::uint8_t(data[i + 1])) << 8) |
                            std::uint8_t(data[i + 2]);
    out->push_back(kAlphabet[(n >> 18) & 63]);
    out->push_back(kAlphabet[(n >> 12) & 63]);
    out->push_back(kAlphabet[(n >> 6) & 63]);
    out->push_back(kAlphabet[n & 63]);
  }
  const std::size_t left = data.size() - i;
  if (left == 0) return;
  std::uint32_t n = std::uint32_t(std::uint8_t(data[i])) << 16;
  if (left == 2) n |= std::uint32_t(std::uint8_t(data[i + 1])) << 8;
  out->push_back(kAlphabet[(n >> 18) & 63]);
  out->push_back(kAlphabet[(n >> 12) & 63]);
  out->push_back(left == 2 ? kAlphabet[(n >> 6) & 63] : '=');
  out->push_back('=');
}

bool SplitPlain(std::string_view message, PlainMessage* out) {
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

}  // namespace posthorn::wire::internal
