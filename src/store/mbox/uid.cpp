// store/mbox/uid.cpp — see uid.h.

#include "store/mbox/uid.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace posthorn::store::mbox {

struct UidDigest::Impl {
  EVP_MD_CTX* context = nullptr;
};

UidDigest::UidDigest() : impl_(std::make_unique<Impl>()) {
  impl_->context = EVP_MD_CTX_new();
  // Allocation failure here is out of memory: nothing sensible remains.
  if (impl_->context == nullptr ||
      EVP_DigestInit_ex(impl_->context, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
}

UidDigest::~UidDigest() {
  if (impl_ && impl_->context) EVP_MD_CTX_free(impl_->context);
}

UidDigest::UidDigest(UidDigest&& other) noexcept = default;
UidDigest& UidDigest::operator=(UidDigest&& other) noexcept {
  if (this != &other) {
    if (impl_ && impl_->context) EVP_MD_CTX_free(impl_->context);
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void UidDigest::Update(std::string_view bytes) {
  if (!bytes.empty()) EVP_DigestUpdate(impl_->context, bytes.data(), bytes.size());
}

std::string UidDigest::Finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(impl_->context, digest, &length);
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // 128 bits = 21 full 6-bit groups + 2 bits.
  std::string id;
  id.reserve(22);
  unsigned bits = 0;
  unsigned value = 0;
  for (int i = 0; i < 16; ++i) {
    value = (value << 8) | digest[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      id.push_back(kAlphabet[(value >> bits) & 0x3F]);
    }
  }
  if (bits > 0) id.push_back(kAlphabet[(value << (6 - bits)) & 0x3F]);
  return id;
}

bool MakeUidsUnique(std::vector<std::string*>& uids) {
  // Views into the strings themselves: no copy per message (this runs on
  // every open of a maildrop). A string is changed only before its view
  // is inserted, so every view stays valid.
  absl::flat_hash_set<std::string_view> used;
  used.reserve(uids.size());
  bool changed = false;
  for (std::string* uid : uids) {
    if (used.insert(*uid).second) continue;
    const std::string base = *uid;
    for (int suffix = 2;; ++suffix) {
      std::string candidate = fmt::format("{}-{}", base, suffix);
      if (!used.contains(candidate)) {
        *uid = std::move(candidate);
        used.insert(*uid);
        changed = true;
        break;
      }
    }
  }
  return changed;
}

}  // namespace posthorn::store::mbox
