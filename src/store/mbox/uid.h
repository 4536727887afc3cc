// store/mbox/uid.h — RFC 1939 UIDL ids for mbox messages.
//
// A message's base id is the first 128 bits of SHA-256 over its bytes on
// disk (its "From " line, stored content and separating empty line),
// written as 22 characters of base64url (A-Z a-z 0-9 - _, all within
// 0x21..0x7E). The "From " line holds the envelope sender and the arrival
// second, so two deliveries of one message usually differ; byte-identical
// messages get "-2", "-3", ... in maildrop order. An X-UIDL: header is
// only content: it changes the digest like any other byte, never the id.
//
// Ids are stored in the index, so removing one of two duplicates never
// renames the other; an index rebuilt from nothing assigns the same ids
// except where a duplicate's twin has been removed meanwhile.

#ifndef POSTHORN_SRC_STORE_MBOX_UID_H_
#define POSTHORN_SRC_STORE_MBOX_UID_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace posthorn::store::mbox {

// Incremental SHA-256 (OpenSSL EVP) rendering a base id.
class UidDigest {
 public:
  UidDigest();
  ~UidDigest();
  UidDigest(UidDigest&& other) noexcept;
  UidDigest& operator=(UidDigest&& other) noexcept;
  UidDigest(const UidDigest&) = delete;
  UidDigest& operator=(const UidDigest&) = delete;

  void Update(std::string_view bytes);
  // The base id; the digest must not be used afterwards.
  std::string Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Makes `uids` unique in place, in order: an id already used earlier
// becomes base + "-2", "-3", ... (the first free one). Ids already unique
// are left alone. Returns true when anything changed.
bool MakeUidsUnique(std::vector<std::string*>& uids);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_UID_H_
