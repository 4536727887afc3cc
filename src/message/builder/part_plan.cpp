#include "message/builder/part_plan.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "message/builder/body_writer.h"
#include "message/builder/boundary.h"
#include "message/builder/field_writer.h"
#include "posthorn/message/encoded_word.h"
#include "posthorn/message/header.h"

namespace posthorn::message::builder_internal {
namespace {

std::string MimeTypeOf(const MimeEntity& e) {
  return Cat(e.type(), "/", e.subtype());
}

std::string_view EncodingName(TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::k7Bit:
      return "7bit";
    case TransferEncoding::k8Bit:
      return "8bit";
    case TransferEncoding::kBinary:
      return "binary";
    case TransferEncoding::kQuotedPrintable:
      return "quoted-printable";
    case TransferEncoding::kBase64:
      return "base64";
    case TransferEncoding::kUnknown:
      break;
  }
  return "unknown";
}

bool IsAsIs(TransferEncoding encoding) {
  return encoding == TransferEncoding::k7Bit ||
         encoding == TransferEncoding::k8Bit ||
         encoding == TransferEncoding::kBinary;
}

// Fields a part may not add: the builder writes them from the entity.
bool IsReservedPartField(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Type") ||
         EqualsIgnoreCase(name, "Content-Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Content-Disposition") ||
         EqualsIgnoreCase(name, "MIME-Version");
}

absl::Status CheckAttributes(const MimeEntity& e, const std::string& what) {
  if (!IsMimeToken(e.type()) || !IsMimeToken(e.subtype())) {
    return absl::InvalidArgumentError(
        Cat(what, ": invalid MIME type \"", MimeTypeOf(e),
                     "\" (RFC 2045 5.1 wants token \"/\" token)"));
  }
  for (const auto& [name, value] : e.parameters()) {
    if (!IsMimeToken(name)) {
      return absl::InvalidArgumentError(Cat(
          what, ": invalid Content-Type parameter name \"", name, "\""));
    }
    if (name == "boundary") {
      return absl::InvalidArgumentError(Cat(
          what, ": the boundary parameter is generated, it cannot be set"));
    }
    absl::Status st =
        CheckFieldText(Cat(what, ": parameter ", name), value);
    if (!st.ok()) return st;
  }
  if (!e.disposition().empty() && !IsMimeToken(e.disposition())) {
    return absl::InvalidArgumentError(Cat(
        what, ": invalid Content-Disposition type \"", e.disposition(), "\""));
  }
  if (!e.filename().empty()) {
    if (e.disposition().empty()) {
      return absl::InvalidArgumentError(
          Cat(what, ": a filename needs a disposition"));
    }
    absl::Status st = CheckFieldText(Cat(what, ": filename"),
                                     e.filename());
    if (!st.ok()) return st;
  }
  for (const auto& [name, value] : e.headers()) {
    if (!IsValidFieldName(name)) {
      return absl::InvalidArgumentError(Cat(
          what, ": invalid header field name \"", name,
          "\" (RFC 5322 2.2: printable ASCII except \":\")"));
    }
    if (IsReservedPartField(name)) {
      return absl::InvalidArgumentError(Cat(
          what, ": ", name, " is written by the builder, it cannot be added"));
    }
    absl::Status st =
        CheckFieldText(Cat(what, ": header field ", name), value);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

// Chooses the transfer encoding of a leaf, normalising line ends first when
// the entity asks for it.
absl::Status PlanLeafBody(const MimeEntity& e, const std::string& what,
                          PartPlan* plan) {
  const BodySource& body = e.body();
  const bool is_text = e.type() == "text";
  const bool is_message = e.type() == "message";
  const bool no_reencoding = is_message && (e.subtype() == "rfc822");
  std::optional<TransferEncoding> wanted = e.encoding();

  if (wanted == TransferEncoding::kUnknown) {
    return absl::InvalidArgumentError(
        Cat(what, ": unknown transfer encoding"));
  }
  if (no_reencoding && wanted.has_value() && !IsAsIs(*wanted)) {
    return absl::InvalidArgumentError(Cat(
        what, ": message/rfc822 may only be 7bit, 8bit or binary "
              "(RFC 2046 5.2.1)"));
  }
  plan->qp_binary = !e.normalize_line_ends();

  if (body.is_reader()) {
    // Not seen before it is written: it can neither be checked for a
    // boundary nor for 7bit / 8bit rules, so it must be encoded.
    TransferEncoding enc = wanted.value_or(
        is_text ? TransferEncoding::kQuotedPrintable
                : TransferEncoding::kBase64);
    if (is_message && !wanted.has_value()) enc = TransferEncoding::k7Bit;
    if (IsAsIs(enc)) {
      return absl::InvalidArgumentError(Cat(
          what, ": a body given by a reader must be base64 or "
                "quoted-printable (it cannot be checked for the boundary "
                "before it is written)"));
    }
    plan->encoding = enc;
    if (is_text && e.normalize_line_ends()) plan->charset = "utf-8";
    return absl::OkStatus();
  }

  if (e.normalize_line_ends() && HasBareLineEnd(body.data())) {
    plan->normalized = NormalizeLineEnds(body.data());
    plan->use_normalized = true;
  }
  const std::string_view data = plan->data();
  // Text and message bodies are inspected (charset, 7bit / 8bit); a base64
  // attachment is not read twice.
  const bool needs_shape =
      !wanted.has_value() || IsAsIs(*wanted) || e.normalize_line_ends();
  BodyShape shape;
  if (needs_shape) shape = InspectBody(data);
  if (is_text && e.normalize_line_ends()) {
    plan->charset = shape.eight_bit ? "utf-8" : "us-ascii";
  }

  if (wanted.has_value()) {
    if (IsAsIs(*wanted) && !Qualifies(shape, *wanted)) {
      return absl::InvalidArgumentError(Cat(
          what, ": the body is not valid ", EncodingName(*wanted),
          " data (RFC 2045 2.7-2.8: no NUL, CRLF line ends, lines of at most "
          "998 octets",
          *wanted == TransferEncoding::k7Bit ? ", ASCII only" : "", ")"));
    }
    plan->encoding = *wanted;
  } else if (is_text) {
    plan->encoding = Qualifies(shape, TransferEncoding::k7Bit)
                         ? TransferEncoding::k7Bit
                         : TransferEncoding::kQuotedPrintable;
  } else if (is_message) {
    plan->encoding = Qualifies(shape, TransferEncoding::k7Bit)
                         ? TransferEncoding::k7Bit
                     : Qualifies(shape, TransferEncoding::k8Bit)
                         ? TransferEncoding::k8Bit
                         : TransferEncoding::kBinary;
  } else {
    plan->encoding = TransferEncoding::kBase64;
  }
  return absl::OkStatus();
}

// Every caller-given text written as is inside `plan`'s body: the bodies
// written as is and the fields and parameters of the descendants.
void CollectInnerText(const PartPlan& plan,
                      std::vector<std::string_view>* out) {
  for (const PartPlan& child : plan.children) {
    const MimeEntity& e = *child.entity;
    if (child.children.empty() && child.written_as_is()) {
      out->push_back(child.data());
    }
    for (const auto& [name, value] : e.headers()) {
      out->push_back(name);
      out->push_back(value);
    }
    for (const auto& [name, value] : e.parameters()) {
      out->push_back(value);
    }
    out->push_back(e.filename());
    CollectInnerText(child, out);
  }
}

absl::Status PickBoundaries(std::uint64_t random, std::uint64_t* index,
                            absl::flat_hash_set<std::string>* used,
                            PartPlan* plan) {
  if (plan->entity->IsMultipart()) {
    if (plan->children.empty()) {
      return absl::InvalidArgumentError(Cat(
          MimeTypeOf(*plan->entity),
          " has no parts (RFC 2046 5.1.1 requires at least one)"));
    }
    std::vector<std::string_view> texts;
    CollectInnerText(*plan, &texts);
    for (int tries = 0;; ++tries) {
      if (tries == kMaxBoundaryTries) {
        return absl::InternalError(
            "no boundary found that does not occur in the parts");
      }
      std::string candidate = DeriveBoundary(random, (*index)++);
      if (used->contains(candidate)) continue;
      bool collides = std::any_of(
          texts.begin(), texts.end(), [&](std::string_view t) {
            return t.find(candidate) != std::string_view::npos;
          });
      if (collides) continue;
      plan->boundary = candidate;
      used->insert(std::move(candidate));
      break;
    }
  }
  for (PartPlan& child : plan->children) {
    absl::Status st = PickBoundaries(random, index, used, &child);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status RenderHead(PartPlan* plan) {
  const MimeEntity& e = *plan->entity;
  std::string content_type = MimeTypeOf(e);
  bool has_charset = false, has_name = false;
  for (const auto& [name, value] : e.parameters()) {
    has_charset |= name == "charset";
    has_name |= name == "name";
  }
  if (!plan->charset.empty() && !has_charset) {
    content_type += Cat("; ",
                    FormatMimeParameter("charset", plan->charset));
  }
  for (const auto& [name, value] : e.parameters()) {
    content_type += Cat("; ", FormatMimeParameter(name, value));
  }
  // The name parameter too, for readers that predate Content-Disposition.
  if (!e.filename().empty() && !has_name) {
    content_type += Cat("; ",
                    FormatMimeParameter("name", e.filename()));
  }
  if (!plan->boundary.empty()) {
    content_type += Cat("; ",
                    FormatMimeParameter("boundary", plan->boundary));
  }
  std::string& head = plan->head;
  head.clear();
  absl::Status st = AppendField("Content-Type", content_type, &head);
  if (!st.ok()) return st;
  if (plan->write_encoding) {
    st = AppendField("Content-Transfer-Encoding",
                     EncodingName(plan->encoding), &head);
    if (!st.ok()) return st;
  }
  if (!e.disposition().empty()) {
    std::string disposition = e.disposition();
    if (!e.filename().empty()) {
      disposition += Cat("; ",
                      FormatMimeParameter("filename", e.filename()));
    }
    st = AppendField("Content-Disposition", disposition, &head);
    if (!st.ok()) return st;
  }
  for (const auto& [name, value] : e.headers()) {
    st = AppendField(name, EncodeUnstructured(value, name.size() + 2), &head);
    if (!st.ok()) return st;
  }
  for (PartPlan& child : plan->children) {
    st = RenderHead(&child);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PlanNode(const MimeEntity& e, PartPlan* plan) {
  plan->entity = &e;
  const std::string what = MimeTypeOf(e);
  absl::Status st = CheckAttributes(e, what);
  if (!st.ok()) return st;
  if (e.IsMultipart()) {
    if (e.body().is_reader() || !e.body().data().empty()) {
      return absl::InvalidArgumentError(Cat(
          what, " has a body: give its content as child parts"));
    }
    std::optional<TransferEncoding> enc = e.encoding();
    if (enc.has_value() && !IsAsIs(*enc)) {
      return absl::InvalidArgumentError(Cat(
          what, ": a multipart may only be 7bit, 8bit or binary "
                "(RFC 2045 6.4)"));
    }
    plan->encoding = enc.value_or(TransferEncoding::k7Bit);
    plan->write_encoding = enc.has_value() && *enc != TransferEncoding::k7Bit;
    return absl::OkStatus();
  }
  if (!e.children().empty()) {
    return absl::InvalidArgumentError(
        Cat(what, " is not a multipart: it cannot have child parts"));
  }
  return PlanLeafBody(e, what, plan);
}

absl::Status PlanTree(const MimeEntity& entity, std::size_t depth,
                      PartPlan* plan) {
  if (depth > kMaxBuildDepth) {
    return absl::InvalidArgumentError(Cat(
        "the MIME tree is nested deeper than ", kMaxBuildDepth, " levels"));
  }
  absl::Status st = PlanNode(entity, plan);
  if (!st.ok()) return st;
  plan->children.resize(entity.children().size());
  for (std::size_t i = 0; i < entity.children().size(); ++i) {
    st = PlanTree(entity.children()[i], depth + 1, &plan->children[i]);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status FinishPlan(std::uint64_t random, PartPlan* root) {
  std::uint64_t index = 0;
  absl::flat_hash_set<std::string> used;
  absl::Status st = PickBoundaries(random, &index, &used, root);
  if (!st.ok()) return st;
  return RenderHead(root);
}

absl::Status WritePlan(const PartPlan& plan, std::string_view prefix,
                       absl::FunctionRef<void(std::string_view)> sink,
                       std::string* scratch) {
  scratch->clear();
  scratch->append(prefix);
  scratch->append(plan.head);
  scratch->append("\r\n");
  sink(*scratch);
  if (plan.entity->IsMultipart()) {
    //   dash-boundary := "--" boundary
    //   delimiter := CRLF dash-boundary
    //   close-delimiter := delimiter "--"
    const std::string delimiter = Cat("\r\n--", plan.boundary);
    for (std::size_t i = 0; i < plan.children.size(); ++i) {
      // The first dash-boundary opens the body: no CRLF before it.
      sink(Cat(std::string_view(delimiter).substr(i == 0 ? 2 : 0),
                        "\r\n"));
      absl::Status st = WritePlan(plan.children[i], {}, sink, scratch);
      if (!st.ok()) return st;
    }
    sink(Cat(delimiter, "--\r\n"));
    return absl::OkStatus();
  }
  if (const BodyReader* reader = plan.entity->body().reader()) {
    return WriteEncodedFromReader(*reader, plan.encoding, plan.qp_binary, sink,
                                  scratch);
  }
  WriteEncoded(plan.data(), plan.encoding, plan.qp_binary, sink, scratch);
  return absl::OkStatus();
}

}  // namespace posthorn::message::builder_internal
