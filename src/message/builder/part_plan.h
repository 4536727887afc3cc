// Internal: the plan of a MIME tree before it is written.
//
// Build first checks and plans everything — encodings, line-end
// normalisation, charsets, boundaries, the rendered header fields of each
// part — so that any error is reported before the first byte reaches the
// sink. Writing is then only a walk over the plan.

#ifndef POSTHORN_SRC_MESSAGE_BUILDER_PART_PLAN_H_
#define POSTHORN_SRC_MESSAGE_BUILDER_PART_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "posthorn/message/builder.h"
#include "posthorn/message/content_type.h"

namespace posthorn::message::builder_internal {

// Tries of derived boundaries per multipart before giving up (each try
// collides only if a body holds that exact 27-octet string).
inline constexpr int kMaxBoundaryTries = 1000;

struct PartPlan {
  const MimeEntity* entity = nullptr;
  TransferEncoding encoding = TransferEncoding::k7Bit;
  bool write_encoding = true;   // false for a plain 7bit multipart
  bool qp_binary = false;       // quoted-printable of data, not of text
  bool use_normalized = false;  // the body is `normalized`, not the entity's
  std::string normalized;
  std::string charset;   // added to Content-Type; "" when not added
  std::string boundary;  // multiparts
  std::string head;      // the part's fields, each ending with CRLF
  std::vector<PartPlan> children;

  // The bytes to write (owned or borrowed bodies).
  std::string_view data() const {
    return use_normalized ? std::string_view(normalized)
                          : entity->body().data();
  }
  // Written as is (7bit, 8bit, binary): must be searched for boundaries.
  bool written_as_is() const {
    return encoding != TransferEncoding::kBase64 &&
           encoding != TransferEncoding::kQuotedPrintable;
  }
};

// Checks `entity` itself (not its children) and fills *plan.
[[nodiscard]] absl::Status PlanNode(const MimeEntity& entity, PartPlan* plan);

// Checks and plans `entity` and everything under it; `depth` is the depth
// of `entity` (the root is 1).
[[nodiscard]] absl::Status PlanTree(const MimeEntity& entity,
                                    std::size_t depth, PartPlan* plan);

// After the tree is planned: checks that every multipart has a part, picks
// the boundaries (pre-order, derived from `random`) and renders each head.
[[nodiscard]] absl::Status FinishPlan(std::uint64_t random, PartPlan* root);

// Writes `prefix` (the message fields), the root's head, the empty line and
// the bodies to `sink`.
[[nodiscard]] absl::Status WritePlan(
    const PartPlan& plan, std::string_view prefix,
    absl::FunctionRef<void(std::string_view)> sink, std::string* scratch);

}  // namespace posthorn::message::builder_internal

#endif  // POSTHORN_SRC_MESSAGE_BUILDER_PART_PLAN_H_
