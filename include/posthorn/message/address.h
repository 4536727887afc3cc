// posthorn/message/address.h — RFC 5322 addresses: mailbox, group, lists.
//
// Parses the values of From, Sender, Reply-To, To, Cc, Bcc, Resent-* and
// formats mailboxes for writing such fields.
//
// STANDARDS
//   RFC 5322 section 3.2 (lexical tokens), 3.4 (address specification),
//   4.4 (obsolete addressing), RFC 2047 section 5 (encoded words in
//   display names), RFC 6532 (raw UTF-8 is accepted as atext).
//
//   address         = mailbox / group
//   mailbox         = name-addr / addr-spec
//   name-addr       = [display-name] angle-addr
//   angle-addr      = [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr
//   group           = display-name ":" [group-list] ";" [CFWS]
//   display-name    = phrase
//   mailbox-list    = (mailbox *("," mailbox)) / obs-mbox-list
//   address-list    = (address *("," address)) / obs-addr-list
//   addr-spec       = local-part "@" domain
//   obs-angle-addr  = [CFWS] "<" obs-route addr-spec ">" [CFWS]
//   obs-local-part  = word *("." word)
//   obs-domain      = atom *("." atom)
//
// SECURITY
//   The input is hostile. The parsers never read outside the given view,
//   never recurse on input (comment nesting is counted, not recursed), and
//   allocate only for the strings they return.
//
// LENIENCY (as GMime and Python's email package)
//   A list with junk in it still yields its good mailboxes: an element that
//   cannot be made a mailbox is skipped and recorded (kInvalidAddress).
//   Unterminated quoted strings, comments, angle addresses and domain
//   literals end at the end of the input and are recorded. A route in an
//   angle address is dropped (kObsoleteAddressSyntax); obs-local-part
//   ("john . doe") and obs-domain are normalised to dot-atoms; empty list
//   elements ("a@b, , c@d") are skipped (kEmptyAddressListElement). A bare
//   word with no "@" is kept as a mailbox with an empty domain
//   (kInvalidAddress). Display names are decoded (RFC 2047) to UTF-8 and
//   normalised for display: leading and trailing whitespace dropped, each
//   run of SP / HTAB / CR / LF made one space (so no line break from an
//   encoded word reaches a caller that writes the name back).
//
// LIMITS
//   Comment nesting is not limited (a counter, no recursion). No limit on
//   the number of addresses beyond the size of the input.

#ifndef POSTHORN_MESSAGE_ADDRESS_H_
#define POSTHORN_MESSAGE_ADDRESS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "posthorn/message/defect.h"

namespace posthorn::message {

struct Mailbox {
  // Decoded to UTF-8 (RFC 2047 words decoded), unquoted, whitespace
  // normalised (see LENIENCY); empty if none.
  std::string display_name;
  // As it must be written: a dot-atom, or a quoted-string when needed
  // (obs-local-part normalised: "john . doe" becomes "john.doe").
  std::string local_part;
  // A dot-atom or a domain literal "[...]"; empty for a bare local part
  // (obsolete / defect).
  std::string domain;

  // local_part "@" domain, or local_part alone when domain is empty.
  std::string Address() const;

  friend bool operator==(const Mailbox&, const Mailbox&) = default;
};

struct Group {
  std::string display_name;  // decoded like Mailbox::display_name
  std::vector<Mailbox> members;

  friend bool operator==(const Group&, const Group&) = default;
};

struct Address {
  bool is_group = false;
  Mailbox mailbox;  // when !is_group
  Group group;      // when is_group

  friend bool operator==(const Address&, const Address&) = default;
};

struct AddressList {
  std::vector<Address> items;

  // Every mailbox in order, group members flattened in place of their group.
  std::vector<Mailbox> Mailboxes() const;
};

// Parses an address-list (To, Cc, Bcc, Reply-To, From as a list, ...).
// `value` is the unfolded field value (CRLF folds inside are tolerated).
// `base_offset` is the offset of `value` in the top-level buffer; defects
// are appended to *defects with offsets in that buffer.
AddressList ParseAddressList(std::string_view value, Defects* defects = nullptr,
                             std::size_t base_offset = 0);

// Same, appending to *out (its vectors are reused: no reallocation when the
// caller parses many lists with one AddressList).
void ParseAddressList(std::string_view value, AddressList* out,
                      Defects* defects = nullptr, std::size_t base_offset = 0);

// Parses a single mailbox (Sender, or one element). Returns nullopt when no
// mailbox can be made of `value`. Text after the first mailbox is recorded
// as kInvalidAddress and ignored.
std::optional<Mailbox> ParseMailbox(std::string_view value,
                                    Defects* defects = nullptr,
                                    std::size_t base_offset = 0);

// Parses an addr-spec alone ("local@domain", as in SMTP paths or a bare
// Return-Path); nullopt when it is not one.
std::optional<Mailbox> ParseAddrSpec(std::string_view value,
                                     Defects* defects = nullptr,
                                     std::size_t base_offset = 0);

// Writes a local part as it must appear in an addr-spec: unchanged when it
// is a dot-atom, otherwise as a quoted-string.
std::string QuoteLocalPart(std::string_view local_part);

// `"Name" <a@b>`, `=?utf-8?q?...?= <a@b>`, `Name <a@b>` or `a@b`; the
// display name is encoded with EncodePhrase (encoded_word.h).
std::string FormatMailbox(const Mailbox& m);

// The mailboxes joined with ", ", folded with CRLF SP so that no line is
// longer than 78 octets where a break is possible. `first_line_used` is the
// number of octets already on the first line ("To: " is 4).
std::string FormatAddressList(const std::vector<Mailbox>& list,
                              std::size_t first_line_used);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_ADDRESS_H_
