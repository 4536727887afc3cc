// store/auth/auth_record.h — one user's record in the auth database.
//
// Value layout, version 1:
//   byte 0     format version (1)
//   byte 1     flags: bit 0 = secret present, bit 1 = crypt hash present
//   [secret]   2-byte little-endian length, then the bytes
//   [hash]     2-byte little-endian length, then the crypt(3) string
// Key: the user name (validated by ValidateUserName, compared exactly).
// A record of another version or with inconsistent lengths is DataLoss.

#ifndef POSTHORN_SRC_STORE_AUTH_AUTH_RECORD_H_
#define POSTHORN_SRC_STORE_AUTH_AUTH_RECORD_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace posthorn::store::auth {

inline constexpr std::string_view kAuthKind = "auth-v1";
inline constexpr unsigned char kRecordVersion = 1;
// Longest secret or password accepted (a POP3 command line is 255 bytes
// anyway; AUTH PLAIN allows more).
inline constexpr std::size_t kMaxSecretLength = 1024;
// Longest password kept as a crypt(3) hash (popauth -password-only):
// libxcrypt refuses longer ones (CRYPT_MAX_PASSPHRASE_SIZE, NUL included).
inline constexpr std::size_t kMaxHashedPasswordLength = 511;

struct AuthRecord {
  std::optional<std::string> secret;  // APOP shared secret
  std::optional<std::string> hash;    // crypt(3) string, "$y$..."
};

std::string EncodeRecord(const AuthRecord& record);
absl::StatusOr<AuthRecord> DecodeRecord(std::string_view value,
                                        std::string_view path,
                                        std::string_view user);

}  // namespace posthorn::store::auth

#endif  // POSTHORN_SRC_STORE_AUTH_AUTH_RECORD_H_
