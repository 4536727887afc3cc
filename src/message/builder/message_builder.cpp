// MessageBuilder: the message fields (RFC 5322 3.6) and the arrangement of
// text, HTML and attachments into a MIME tree; the tree itself is planned
// and written by part_plan.cpp.

#include <utility>

#include "message/builder/field_writer.h"
#include "message/builder/part_plan.h"
#include "posthorn/message/address.h"
#include "posthorn/message/builder.h"
#include "posthorn/message/date.h"
#include "posthorn/message/encoded_word.h"
#include "posthorn/message/header.h"
#include "posthorn/message/message_id.h"

namespace posthorn::message {
namespace {

using builder_internal::AppendField;
using builder_internal::Cat;
using builder_internal::CheckFieldText;
using builder_internal::EqualsIgnoreCase;
using builder_internal::PartPlan;

//   atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
//           "-" / "/" / "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
//   (RFC 5322 3.2.3; RFC 6532 adds UTF-8 non-ASCII)
bool IsAtext(unsigned char c) {
  if (c >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '/': case '=': case '?': case '^': case '_':
    case '`': case '{': case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

//   dot-atom-text = 1*atext *("." 1*atext)
bool IsDotAtom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i - 1] == '.') return false;
    } else if (!IsAtext(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

//   quoted-string = DQUOTE *([FWS] qcontent) [FWS] DQUOTE
//   qcontent = qtext / quoted-pair
//   qtext = %d33 / %d35-91 / %d93-126      quoted-pair = "\" (VCHAR / WSP)
bool IsQuotedString(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      if (i + 2 >= s.size()) return false;  // would escape the final quote
      auto next = static_cast<unsigned char>(s[++i]);
      if (next < 32 && next != '\t') return false;
      if (next == 127) return false;
    } else if (c == '"' || (c < 32 && c != '\t') || c == 127) {
      return false;
    }
  }
  return true;
}

//   domain-literal = [CFWS] "[" *([FWS] dtext) [FWS] "]" [CFWS]
//   dtext = %d33-90 / %d94-126
bool IsDomainLiteral(std::string_view s) {
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return false;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 33 || c > 126 || (c >= 91 && c <= 93)) return false;
  }
  return true;
}

// Checks a mailbox and writes its local part the way it must appear.
absl::StatusOr<Mailbox> PrepareMailbox(const Mailbox& m,
                                       std::string_view role) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        Cat(role, " <", m.local_part, "@", m.domain, ">: ", why));
  };
  absl::Status st =
      CheckFieldText(Cat(role, " display name"), m.display_name);
  if (!st.ok()) return st;
  st = CheckFieldText(Cat(role, " address"),
                      Cat(m.local_part, m.domain));
  if (!st.ok()) return st;
  if (m.local_part.empty()) return fail("empty local part");
  if (m.domain.empty()) return fail("empty domain");
  if (!IsDotAtom(m.domain) && !IsDomainLiteral(m.domain)) {
    return fail("the domain is neither a dot-atom nor a domain literal");
  }
  for (char c : m.local_part) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 32 && c != '\t') || u == 127) {
      return fail("control character in the local part");
    }
  }
  Mailbox out = m;
  if (!IsDotAtom(m.local_part) && !IsQuotedString(m.local_part)) {
    out.local_part = QuoteLocalPart(m.local_part);
  }
  return out;
}

absl::StatusOr<std::vector<Mailbox>> PrepareList(
    const std::vector<Mailbox>& list, std::string_view role) {
  std::vector<Mailbox> out;
  out.reserve(list.size());
  for (const Mailbox& m : list) {
    absl::StatusOr<Mailbox> p = PrepareMailbox(m, role);
    if (!p.ok()) return p.status();
    out.push_back(*std::move(p));
  }
  return out;
}

absl::Status AppendAddressField(std::string_view name,
                                const std::vector<Mailbox>& list,
                                std::string* out) {
  if (list.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<Mailbox>> prepared = PrepareList(list, name);
  if (!prepared.ok()) return prepared.status();
  return AppendField(name, FormatAddressList(*prepared, name.size() + 2), out);
}

// Fields the builder writes itself; an extra field of the same name would
// contradict them (RFC 5322 3.6 allows most of them once).
bool IsReservedMessageField(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "Date",    "From",    "Sender",     "Reply-To",    "To",
      "Cc",      "Bcc",     "Subject",    "Message-ID",  "MIME-Version",
  };
  for (std::string_view r : kReserved) {
    if (EqualsIgnoreCase(name, r)) return true;
  }
  // Content-* belong to the body's entity (MimeEntity::AddHeader).
  return builder_internal::StartsWithIgnoreCase(name, "Content-");
}

//   msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]
bool LooksLikeMessageId(std::string_view id) {
  if (id.size() < 5 || id.front() != '<' || id.back() != '>') return false;
  std::size_t at = id.find('@');
  if (at == std::string_view::npos || at < 2 || at + 2 >= id.size()) {
    return false;
  }
  for (char c : id.substr(1, id.size() - 2)) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 || c == '<' || c == '>') return false;
  }
  return true;
}

}  // namespace

MessageBuilder& MessageBuilder::SetFrom(Mailbox from) {
  from_.clear();
  from_.push_back(std::move(from));
  return *this;
}

MessageBuilder& MessageBuilder::AddFrom(Mailbox from) {
  from_.push_back(std::move(from));
  return *this;
}

MessageBuilder& MessageBuilder::SetSender(Mailbox sender) {
  sender_ = std::move(sender);
  return *this;
}

MessageBuilder& MessageBuilder::AddReplyTo(Mailbox mailbox) {
  reply_to_.push_back(std::move(mailbox));
  return *this;
}

MessageBuilder& MessageBuilder::AddTo(Mailbox mailbox) {
  to_.push_back(std::move(mailbox));
  return *this;
}

MessageBuilder& MessageBuilder::AddCc(Mailbox mailbox) {
  cc_.push_back(std::move(mailbox));
  return *this;
}

MessageBuilder& MessageBuilder::AddBcc(Mailbox mailbox) {
  bcc_.push_back(std::move(mailbox));
  return *this;
}

MessageBuilder& MessageBuilder::SetSubject(std::string_view subject) {
  subject_ = std::string(subject);
  return *this;
}

MessageBuilder& MessageBuilder::SetDate(absl::Time date) {
  date_ = date;
  return *this;
}

MessageBuilder& MessageBuilder::SetMessageId(std::string_view message_id) {
  message_id_ = std::string(message_id);
  return *this;
}

MessageBuilder& MessageBuilder::AddHeader(std::string_view name,
                                          std::string_view value) {
  extra_.push_back({std::string(name), std::string(value), false});
  return *this;
}

MessageBuilder& MessageBuilder::AddRawHeader(std::string_view name,
                                             std::string_view value) {
  extra_.push_back({std::string(name), std::string(value), true});
  return *this;
}

MessageBuilder& MessageBuilder::SetText(std::string text) {
  text_ = std::move(text);
  return *this;
}

MessageBuilder& MessageBuilder::SetHtml(std::string html) {
  html_ = std::move(html);
  return *this;
}

MessageBuilder& MessageBuilder::AddAttachment(std::string_view filename,
                                              std::string_view mime_type,
                                              BodySource body) {
  attachments_.push_back(
      MimeEntity::Attachment(filename, mime_type, std::move(body)));
  return *this;
}

MessageBuilder& MessageBuilder::AddPart(MimeEntity part) {
  attachments_.push_back(std::move(part));
  return *this;
}

MessageBuilder& MessageBuilder::SetBody(MimeEntity body) {
  body_ = std::move(body);
  return *this;
}

std::vector<Mailbox> MessageBuilder::Recipients() const {
  std::vector<Mailbox> out;
  out.reserve(to_.size() + cc_.size() + bcc_.size());
  out.insert(out.end(), to_.begin(), to_.end());
  out.insert(out.end(), cc_.begin(), cc_.end());
  out.insert(out.end(), bcc_.begin(), bcc_.end());
  return out;
}

absl::Status MessageBuilder::Build(
    const BuildContext& context,
    absl::FunctionRef<void(std::string_view)> sink) const {
  // --- The message fields (RFC 5322 3.6), in the usual order.
  if (from_.empty()) {
    return absl::InvalidArgumentError(
        "From is empty: a message needs an author (RFC 5322 3.6.2)");
  }
  if (from_.size() > 1 && !sender_.has_value()) {
    return absl::InvalidArgumentError(
        "several From mailboxes need a Sender (RFC 5322 3.6.2)");
  }
  std::string fields;
  absl::Status st = AppendField(
      "Date", FormatDate(date_.value_or(context.now), context.zone), &fields);
  if (!st.ok()) return st;
  st = AppendAddressField("From", from_, &fields);
  if (!st.ok()) return st;
  if (sender_.has_value()) {
    st = AppendAddressField("Sender", {*sender_}, &fields);
    if (!st.ok()) return st;
  }
  st = AppendAddressField("Reply-To", reply_to_, &fields);
  if (!st.ok()) return st;
  st = AppendAddressField("To", to_, &fields);
  if (!st.ok()) return st;
  st = AppendAddressField("Cc", cc_, &fields);
  if (!st.ok()) return st;
  // Bcc is not written, but its addresses are checked like the others.
  absl::StatusOr<std::vector<Mailbox>> bcc = PrepareList(bcc_, "Bcc");
  if (!bcc.ok()) return bcc.status();
  if (subject_.has_value()) {
    st = CheckFieldText("Subject", *subject_);
    if (!st.ok()) return st;
    st = AppendField("Subject", EncodeUnstructured(*subject_, 9), &fields);
    if (!st.ok()) return st;
  }
  std::string message_id;
  if (message_id_.has_value()) {
    if (!LooksLikeMessageId(*message_id_)) {
      return absl::InvalidArgumentError(
          Cat("Message-ID \"", *message_id_,
                       "\" is not of the form <left@right> (RFC 5322 3.6.4)"));
    }
    message_id = *message_id_;
  } else {
    message_id = MakeMessageId(context.now, context.random, context.hostname);
  }
  st = AppendField("Message-ID", message_id, &fields);
  if (!st.ok()) return st;
  for (const ExtraField& f : extra_) {
    if (!IsValidFieldName(f.name)) {
      return absl::InvalidArgumentError(
          Cat("invalid header field name \"", f.name,
                       "\" (RFC 5322 2.2: printable ASCII except \":\")"));
    }
    if (IsReservedMessageField(f.name)) {
      return absl::InvalidArgumentError(Cat(
          f.name, " is written by the builder, it cannot be added "
                  "(use the setter, or MimeEntity::AddHeader for Content-*)"));
    }
    st = CheckFieldText(Cat("header field ", f.name), f.value);
    if (!st.ok()) return st;
    st = AppendField(f.name,
                     f.raw ? f.value
                           : EncodeUnstructured(f.value, f.name.size() + 2),
                     &fields);
    if (!st.ok()) return st;
  }
  fields.append("MIME-Version: 1.0\r\n");

  // --- The body as a tree. The synthetic entities live here, as long as
  // the plan that points at them.
  PartPlan root;
  MimeEntity text, html, alternative, mixed;
  if (body_.has_value()) {
    if (text_.has_value() || html_.has_value() || !attachments_.empty()) {
      return absl::InvalidArgumentError(
          "SetBody cannot be combined with SetText, SetHtml, AddAttachment "
          "or AddPart");
    }
    st = builder_internal::PlanTree(*body_, 1, &root);
    if (!st.ok()) return st;
  } else {
    const bool parts = !attachments_.empty();
    PartPlan content;
    bool has_content = true;
    if (text_.has_value() && html_.has_value()) {
      text = MimeEntity::Leaf("text/plain", BodySource::Borrowed(*text_));
      html = MimeEntity::Leaf("text/html", BodySource::Borrowed(*html_));
      alternative = MimeEntity::Multipart("alternative");
      st = builder_internal::PlanNode(alternative, &content);
      if (!st.ok()) return st;
      content.children.resize(2);
      st = builder_internal::PlanNode(text, &content.children[0]);
      if (!st.ok()) return st;
      st = builder_internal::PlanNode(html, &content.children[1]);
      if (!st.ok()) return st;
    } else if (html_.has_value()) {
      html = MimeEntity::Leaf("text/html", BodySource::Borrowed(*html_));
      st = builder_internal::PlanNode(html, &content);
      if (!st.ok()) return st;
    } else if (text_.has_value() || !parts) {
      // No body at all is an empty text/plain body.
      text = MimeEntity::Leaf(
          "text/plain",
          BodySource::Borrowed(text_.has_value() ? std::string_view(*text_)
                                                 : std::string_view()));
      st = builder_internal::PlanNode(text, &content);
      if (!st.ok()) return st;
    } else {
      has_content = false;
    }
    if (!parts) {
      root = std::move(content);
    } else {
      mixed = MimeEntity::Multipart("mixed");
      st = builder_internal::PlanNode(mixed, &root);
      if (!st.ok()) return st;
      const std::size_t first = has_content ? 1 : 0;
      root.children.resize(first + attachments_.size());
      if (has_content) root.children[0] = std::move(content);
      for (std::size_t i = 0; i < attachments_.size(); ++i) {
        st = builder_internal::PlanTree(attachments_[i], 2,
                                        &root.children[first + i]);
        if (!st.ok()) return st;
      }
    }
  }
  st = builder_internal::FinishPlan(context.random, &root);
  if (!st.ok()) return st;

  std::string scratch;
  return builder_internal::WritePlan(root, fields, sink, &scratch);
}

absl::StatusOr<std::string> MessageBuilder::Build(
    const BuildContext& context) const {
  std::string out;
  absl::Status st =
      Build(context, [&out](std::string_view piece) { out.append(piece); });
  if (!st.ok()) return st;
  return out;
}

}  // namespace posthorn::message
