// libFuzzer target for posthorn/message/address.h (and message_id.h, whose
// lexer it shares).
//
// Invariants checked, not just "no crash":
//   - defect offsets lie inside [base, base + size];
//   - every mailbox parsed (list, group members, single) has a non-empty
//     local part, and ParseMailbox(FormatMailbox(m)) == m;
//   - FormatAddressList of the list parses back to the same mailboxes;
//   - message ids returned are views inside the input.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "posthorn/message/address.h"
#include "posthorn/message/message_id.h"

namespace {

using posthorn::message::AddressList;
using posthorn::message::Defect;
using posthorn::message::Defects;
using posthorn::message::Mailbox;

constexpr std::size_t kBase = 1000;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckDefects(const Defects& d, std::size_t size) {
  for (const Defect& x : d) Check(x.offset >= kBase && x.offset <= kBase + size);
}

void CheckRoundTrip(const Mailbox& m) {
  Check(!m.local_part.empty());
  const std::string text = posthorn::message::FormatMailbox(m);
  const auto again = posthorn::message::ParseMailbox(text);
  Check(again.has_value() && *again == m);
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Defects d;
  const AddressList list = posthorn::message::ParseAddressList(in, &d, kBase);
  CheckDefects(d, size);
  const std::vector<Mailbox> boxes = list.Mailboxes();
  for (const Mailbox& m : boxes) CheckRoundTrip(m);
  if (!boxes.empty()) {
    const std::string text = posthorn::message::FormatAddressList(boxes, 4);
    Check(posthorn::message::ParseAddressList(text).Mailboxes() == boxes);
  }

  d.clear();
  const auto one = posthorn::message::ParseMailbox(in, &d, kBase);
  CheckDefects(d, size);
  if (one) CheckRoundTrip(*one);

  d.clear();
  (void)posthorn::message::ParseAddrSpec(in, &d, kBase);
  CheckDefects(d, size);

  d.clear();
  const auto id = posthorn::message::ParseMessageId(in, &d, kBase);
  if (id) Check(!id->empty() && Inside(*id, in));
  for (std::string_view x :
       posthorn::message::ParseMessageIdList(in, &d, kBase)) {
    Check(!x.empty() && Inside(x, in));
  }
  CheckDefects(d, size);
  return 0;
}
