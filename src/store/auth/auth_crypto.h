// store/auth/auth_crypto.h — password hashing and constant-time checks for
// the auth database.
//
// Hashes are crypt(3) strings from libxcrypt: yescrypt ("$y$", libxcrypt's
// default cost) when available, else SHA-512 crypt ("$6$"). Comparisons
// use CRYPTO_memcmp over equal-length buffers: plain passwords are first
// reduced to SHA-256 digests, so neither content nor length leaks through
// timing.

#ifndef POSTHORN_SRC_STORE_AUTH_AUTH_CRYPTO_H_
#define POSTHORN_SRC_STORE_AUTH_AUTH_CRYPTO_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace posthorn::store::auth {

// A new crypt(3) hash of `password` with a fresh random salt.
absl::StatusOr<std::string> HashPassword(std::string_view password);

// Runs crypt(3) on `password` with the setting of `hash` and compares the
// result in constant time. false for any failure (unknown scheme, NUL in
// the password).
bool VerifyHash(std::string_view password, const std::string& hash);

// How many times VerifyHash() ran crypt() in this process (tests check
// which checks pay for a hash).
std::uint64_t VerifyHashCallsForTesting();

// A hash of a random password, made once per process with the same
// scheme and cost as HashPassword: checks for unknown users (and for
// users with a secret) run crypt() on it so every check costs the same.
const std::string& DummyHash();

// true when `a` and `b` are equal; time independent of their content and
// lengths (compares SHA-256 digests with CRYPTO_memcmp).
bool SecretsEqual(std::string_view a, std::string_view b);

// Overwrites a string holding a secret before it is freed.
void Wipe(std::string* s);

}  // namespace posthorn::store::auth

#endif  // POSTHORN_SRC_STORE_AUTH_AUTH_CRYPTO_H_
