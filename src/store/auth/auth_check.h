// store/auth/auth_check.h — the validation and the checks every AuthDb
// backend shares (LMDB in auth_db.cpp, PostgreSQL in
// store/postgresql/pg_auth_db.cpp), so both accept the same input, answer
// the same and spend the same work whether or not a user exists.

#ifndef POSTHORN_SRC_STORE_AUTH_AUTH_CHECK_H_
#define POSTHORN_SRC_STORE_AUTH_AUTH_CHECK_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "store/auth/auth_record.h"

namespace posthorn::store::auth {

// OK for 1..kMaxSecretLength bytes without NUL, CR or LF; otherwise
// InvalidArgument naming `what` ("secret", "password"), never the value.
absl::Status ValidateSecret(std::string_view secret, std::string_view what);

// AuthDb::CheckPassword on `record` (nullopt: unknown user). `hash_users`:
// the database holds (or held) a password-only user, so every check runs
// exactly one crypt() (see auth_db.cpp). Wipes the record's secret.
bool CheckPasswordRecord(std::optional<AuthRecord>& record, bool hash_users,
                         std::string_view password);

// AuthDb::CheckApop on `record` (nullopt: unknown user): `digest_hex` in
// any case against MD5("<timestamp>secret"); false without a secret. The
// digest is computed for unknown users too. Wipes the record's secret.
bool CheckApopRecord(std::optional<AuthRecord>& record,
                     std::string_view timestamp, std::string_view digest_hex);

}  // namespace posthorn::store::auth

#endif  // POSTHORN_SRC_STORE_AUTH_AUTH_CHECK_H_
