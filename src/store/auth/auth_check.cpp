// store/auth/auth_check.cpp — see auth_check.h. Moved out of auth_db.cpp
// unchanged when the PostgreSQL backend came, so both share one copy.

#include "store/auth/auth_check.h"

#include <openssl/crypto.h>

#include <string>

#include "fmt/format.h"
#include "posthorn/store/auth_db.h"
#include "store/auth/auth_crypto.h"

namespace posthorn::store::auth {
namespace {

// Compared against for unknown users when no crypt() is run.
constexpr std::string_view kDummySecret = "posthorn-no-such-user-secret";

}  // namespace

absl::Status ValidateSecret(std::string_view secret, std::string_view what) {
  if (secret.empty()) {
    return absl::InvalidArgumentError(fmt::format("empty {}", what));
  }
  if (secret.size() > kMaxSecretLength) {
    return absl::InvalidArgumentError(
        fmt::format("{} longer than {} bytes", what, kMaxSecretLength));
  }
  if (secret.find_first_of(std::string_view("\0\r\n", 3)) !=
      std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("{} contains NUL, CR or LF", what));
  }
  return absl::OkStatus();
}

bool CheckPasswordRecord(std::optional<AuthRecord>& record, bool hash_users,
                         std::string_view password) {
  bool match = false;
  if (record && record->hash) {
    match = VerifyHash(password, *record->hash);
  } else if (hash_users) {
    // Unknown users and secret users spend the same crypt() work.
    (void)VerifyHash(password, DummyHash());
  }
  if (record && record->secret) {
    match = SecretsEqual(password, *record->secret) || match;
    Wipe(&*record->secret);
  } else if (!record) {
    // The same constant-time comparison an existing secret user costs.
    (void)SecretsEqual(password, kDummySecret);
  }
  return match;
}

bool CheckApopRecord(std::optional<AuthRecord>& record,
                     std::string_view timestamp, std::string_view digest_hex) {
  const bool has_secret = record && record->secret;
  // The digest is computed for unknown users too (with an empty secret),
  // so the reply time does not depend on whether the user exists.
  std::string expected =
      ApopDigest(timestamp, has_secret ? *record->secret : "");
  if (has_secret) Wipe(&*record->secret);
  std::string given(digest_hex);
  for (char& c : given) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  const bool equal =
      given.size() == expected.size() && !expected.empty() &&
      CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
  return equal && has_secret;
}

}  // namespace posthorn::store::auth
