// store/auth/auth_record.cpp — see auth_record.h.

#include "store/auth/auth_record.h"

#include "fmt/format.h"

namespace posthorn::store::auth {
namespace {

constexpr unsigned char kHasSecret = 1;
constexpr unsigned char kHasHash = 2;

void AppendField(std::string* out, std::string_view field) {
  auto size = static_cast<std::uint16_t>(field.size());
  out->push_back(static_cast<char>(size & 0xff));
  out->push_back(static_cast<char>(size >> 8));
  out->append(field);
}

}  // namespace

std::string EncodeRecord(const AuthRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(kRecordVersion));
  unsigned char flags = (record.secret ? kHasSecret : 0) |
                        (record.hash ? kHasHash : 0);
  out.push_back(static_cast<char>(flags));
  if (record.secret) AppendField(&out, *record.secret);
  if (record.hash) AppendField(&out, *record.hash);
  return out;
}

absl::StatusOr<AuthRecord> DecodeRecord(std::string_view value,
                                        std::string_view path,
                                        std::string_view user) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(
        fmt::format("{}: bad record for user \"{}\" ({})", path, user, why));
  };
  if (value.size() < 2) return bad("truncated");
  if (static_cast<unsigned char>(value[0]) != kRecordVersion) {
    return bad(fmt::format("record version {}, expected {}",
                           static_cast<unsigned char>(value[0]),
                           kRecordVersion));
  }
  auto flags = static_cast<unsigned char>(value[1]);
  if ((flags & ~(kHasSecret | kHasHash)) != 0) return bad("unknown flags");
  value.remove_prefix(2);
  auto take = [&](std::optional<std::string>* field) -> bool {
    if (value.size() < 2) return false;
    std::size_t size = static_cast<unsigned char>(value[0]) |
                       (static_cast<std::size_t>(
                            static_cast<unsigned char>(value[1])) << 8);
    value.remove_prefix(2);
    if (size > value.size()) return false;
    *field = std::string(value.substr(0, size));
    value.remove_prefix(size);
    return true;
  };
  AuthRecord record;
  if ((flags & kHasSecret) && !take(&record.secret)) return bad("truncated secret");
  if ((flags & kHasHash) && !take(&record.hash)) return bad("truncated hash");
  if (!value.empty()) return bad("trailing bytes");
  return record;
}

}  // namespace posthorn::store::auth
