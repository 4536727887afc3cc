// posthorn/store/auth_db.h — the popauth database: APOP secrets and
// password hashes.
//
// PURPOSE
//   user -> APOP shared secret (kept retrievable, because APOP's digest
//   needs it; the file is the protection) and/or a crypt(3) hash (yescrypt
//   from libcrypt) for users that only log in with passwords. Used by
//   popauth (writes), popper (USER/PASS, APOP, AUTH PLAIN) and the MTA's
//   SMTP AUTH. AuthDb is an interface so another backend can replace the
//   file.
//
// FILE
//   One LMDB file (no subfolder) plus LMDB's "<path>-lock", both mode
//   0600, created so. Every update is one LMDB transaction: a crash leaves
//   the old or the new record. Opening a file that is not an LMDB database
//   or not a posthorn auth database is DataLoss naming the path.
//
// SECURITY
//   CheckPassword compares in constant time and spends the same crypt()
//   work on unknown users as on known ones. Secrets never appear in status
//   messages. User names are validated (ValidateUserName).
//
// STANDARDS
//   RFC 1939 section 7 (APOP: MD5 of "<timestamp>secret", lowercase hex).

#ifndef POSTHORN_STORE_AUTH_DB_H_
#define POSTHORN_STORE_AUTH_DB_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace posthorn::store {

// The APOP digest: lowercase hex MD5 of `timestamp` (with its angle
// brackets, as in the greeting) followed by `secret`.
std::string ApopDigest(std::string_view timestamp, std::string_view secret);

struct AuthUser {
  std::string name;
  bool has_secret = false;  // APOP (and PASS) work
  bool has_hash = false;    // PASS works
};

class AuthDb {
 public:
  virtual ~AuthDb() = default;
  // Sets `user`'s APOP secret (also valid as the PASS password), replacing
  // whatever was there.
  virtual absl::Status SetSecret(std::string_view user,
                                 std::string_view secret) = 0;
  // Keeps only a crypt hash of `password` (APOP then refused for `user`).
  virtual absl::Status SetPasswordOnly(std::string_view user,
                                       std::string_view password) = 0;
  virtual absl::Status Delete(std::string_view user) = 0;  // NotFound
  virtual absl::StatusOr<std::vector<AuthUser>> List() const = 0;  // sorted
  // false for a wrong password and for an unknown user alike.
  virtual absl::StatusOr<bool> CheckPassword(std::string_view user,
                                             std::string_view password) const = 0;
  // `digest_hex` as the client sent it (case-insensitive); false when the
  // user is unknown or has no secret.
  virtual absl::StatusOr<bool> CheckApop(std::string_view user,
                                         std::string_view timestamp,
                                         std::string_view digest_hex) const = 0;
};

// popauth -init: creates an empty database at `path`, mode 0600.
// FailedPrecondition when one exists and `force` is false; with `force`
// the old one is replaced atomically.
absl::Status CreateAuthDb(const std::string& path, bool force);

// Opens an existing database. NotFound when missing; PermissionDenied;
// DataLoss when it is not an auth database.
absl::StatusOr<std::unique_ptr<AuthDb>> OpenAuthDb(const std::string& path,
                                                   bool writable);

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_AUTH_DB_H_
