// store/auth/auth_crypto.cpp — see auth_crypto.h; ApopDigest
// (posthorn/store/auth_db.h).

#include "store/auth/auth_crypto.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "posthorn/store/auth_db.h"
#include "store/auth/auth_record.h"

namespace posthorn::store {
namespace auth {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest Sha256(std::string_view data) {
  Digest out{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(),
             nullptr);
  return out;
}

// crypt_r's scratch space is large (tens of KiB): heap, zeroed as the
// libxcrypt manual asks for the first use.
std::unique_ptr<crypt_data> NewCryptData() {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  return data;
}

}  // namespace

static_assert(kMaxHashedPasswordLength + 1 == CRYPT_MAX_PASSPHRASE_SIZE);

absl::StatusOr<std::string> HashPassword(std::string_view password) {
  if (password.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("password contains a NUL byte");
  }
  if (password.size() > kMaxHashedPasswordLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "password longer than ", kMaxHashedPasswordLength,
        " bytes, the most crypt(3) hashes (a secret may be longer)"));
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // rbytes == nullptr: libxcrypt takes the salt from the system's random
  // source.
  if (crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof setting) ==
          nullptr &&
      crypt_gensalt_rn("$6$", 0, nullptr, 0, setting, sizeof setting) ==
          nullptr) {
    return absl::InternalError("crypt_gensalt: neither yescrypt nor SHA-512 "
                               "crypt is available");
  }
  std::string plain(password);
  auto data = NewCryptData();
  const char* hash = crypt_r(plain.c_str(), setting, data.get());
  Wipe(&plain);
  if (hash == nullptr || hash[0] == '*') {
    return absl::InternalError("crypt failed");
  }
  std::string result(hash);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return result;
}

namespace {
std::atomic<std::uint64_t> verify_hash_calls{0};
}  // namespace

std::uint64_t VerifyHashCallsForTesting() { return verify_hash_calls.load(); }

bool VerifyHash(std::string_view password, const std::string& hash) {
  verify_hash_calls.fetch_add(1, std::memory_order_relaxed);
  bool has_nul = password.find('\0') != std::string_view::npos;
  std::string plain(password);
  auto data = NewCryptData();
  // Even a password with a NUL byte costs one crypt(): it just cannot match.
  const char* computed = crypt_r(plain.c_str(), hash.c_str(), data.get());
  Wipe(&plain);
  bool match = computed != nullptr && computed[0] != '*' &&
               std::strlen(computed) == hash.size() &&
               CRYPTO_memcmp(computed, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return match && !has_nul;
}

const std::string& DummyHash() {
  static std::once_flag once;
  static std::string* dummy = nullptr;
  std::call_once(once, [] {
    unsigned char random[16];
    RAND_bytes(random, sizeof random);
    std::string password;
    for (unsigned char c : random) password += static_cast<char>('a' + c % 26);
    auto hash = HashPassword(password);
    dummy = new std::string(hash.ok() ? *hash : "*");
  });
  return *dummy;
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  Digest da = Sha256(a);
  Digest db = Sha256(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

void Wipe(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

}  // namespace auth

std::string ApopDigest(std::string_view timestamp, std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, timestamp.data(), timestamp.size()) == 1 &&
            EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, digest, &size) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return "";  // MD5 unavailable (a FIPS-only provider): no match
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

}  // namespace posthorn::store
