// posthorn/message/builder.h — writes RFC 5322 / MIME messages.
//
// MessageBuilder turns addresses, a subject, text, HTML, attachments or a
// tree of MimeEntity parts into a conformant message: CRLF line ends, header
// fields folded at 78 octets, RFC 2047 encoded words for non-ASCII text,
// RFC 2231 parameters for non-ASCII file names, base64 / quoted-printable
// bodies, MIME-Version, Date and Message-ID.
//
//   MessageBuilder b;
//   b.SetFrom({.display_name = "Ana", .local_part = "ana",
//              .domain = "example.org"});
//   b.AddTo({.local_part = "bo", .domain = "example.net"});
//   b.SetSubject("Grüße");
//   b.SetText("Hello\r\n");
//   b.AddAttachment("report.pdf", "application/pdf",
//                   BodySource::Borrowed(pdf_bytes));
//   absl::StatusOr<std::string> mail = b.Build(
//       {.now = absl::Now(), .zone = absl::LocalTimeZone(),
//        .random = rng(), .hostname = "mx.example.org"});
//
// Sans-I/O: the builder never reads a clock, /dev/urandom or the host name;
// the caller passes them in a BuildContext. The same builder and context
// give the same bytes (golden-file testable).
//
// STANDARDS
//   RFC 5322 (2.1.1 line length, 2.2.3 folding, 3.3 date, 3.4 addresses,
//   3.6 fields), RFC 2045 (MIME-Version, Content-Type,
//   Content-Transfer-Encoding, base64 and quoted-printable), RFC 2046
//   (multipart, boundaries, message/rfc822), RFC 2047 (encoded words),
//   RFC 2183 (Content-Disposition), RFC 2231 (parameter encoding).
//
//   multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF
//                     body-part *encapsulation close-delimiter
//                     transport-padding [CRLF epilogue]
//   boundary := 0*69<bchars> bcharsnospace
//
// SECURITY
//   Header injection: a CR, LF or NUL in any value that ends up in a header
//   (subject, display name, local part, domain, extra field, file name,
//   parameter, content type) is refused with kInvalidArgument, as is an
//   invalid field name; nothing is written in that case. Fields the builder
//   writes itself (Date, From, To, Content-Type, ...) cannot be added as
//   extra fields, so a caller cannot produce two conflicting ones.
//   Boundaries are derived from BuildContext::random and checked against every
//   body written as is (7bit / 8bit / binary) and every extra field of the
//   subtree; on a collision the next derived value is tried. Base64 and
//   quoted-printable output can never contain a boundary: boundaries start
//   with "=_", which neither encoding produces.
//
// LIMITS
//   A field whose value has a run of more than 998 octets without
//   whitespace cannot be folded and is refused. Bodies given by a reader
//   (BodySource::FromReader) cannot be scanned for boundaries before they
//   are written, so they must be base64 or quoted-printable encoded
//   (the default for attachments); a reader body that would be written as
//   is (message/*, or an explicit 7bit/8bit/binary) is refused. Nesting of
//   MimeEntity trees is limited to kMaxBuildDepth.
//
// Bcc recipients are not written to the header (their envelope copies must
// not reveal them); Recipients() returns To + Cc + Bcc for the SMTP envelope.

#ifndef POSTHORN_MESSAGE_BUILDER_H_
#define POSTHORN_MESSAGE_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "posthorn/message/address.h"
#include "posthorn/message/content_type.h"

namespace posthorn::message {

// The outside world the builder may not look at itself.
struct BuildContext {
  absl::Time now = absl::UnixEpoch();  // Date, and the Message-ID's time
  absl::TimeZone zone = absl::UTCTimeZone();  // the zone Date is shown in
  std::uint64_t random = 0;  // seeds the Message-ID and the boundaries
  std::string hostname;      // right side of the Message-ID
};

// Yields the next chunk of a body; an empty chunk ends it. The view must
// stay valid until the next call. An error status stops the build and is
// returned by Build (the sink may then have received part of the message).
using BodyReader = std::function<absl::StatusOr<std::string_view>()>;

// The bytes of a leaf part: owned, borrowed (no copy; the caller keeps them
// alive until Build returns) or pulled from a reader chunk by chunk. A
// reader is called again on each Build, so build such a message once or give
// a reader that starts over.
class BodySource {
 public:
  BodySource() = default;  // empty body
  static BodySource Owned(std::string data);
  static BodySource Borrowed(std::string_view data);
  static BodySource FromReader(BodyReader reader);

  bool is_reader() const { return storage_.index() == 2; }
  // The bytes of an owned or borrowed body ("" for a reader).
  std::string_view data() const;
  const BodyReader* reader() const { return std::get_if<2>(&storage_); }

 private:
  std::variant<std::string, std::string_view, BodyReader> storage_;
};

// Deepest MimeEntity tree Build accepts (the root is depth 1).
inline constexpr std::size_t kMaxBuildDepth = 32;

// One MIME entity: a leaf with a body, or a multipart with children, or a
// message/rfc822 leaf holding a whole message. Values are UTF-8; validation
// happens in Build, which reports the first problem.
class MimeEntity {
 public:
  // text/<subtype> (plain, html, ...) with charset us-ascii or utf-8 chosen
  // from the text. Line ends are normalised to CRLF; the body is 7bit when
  // it is ASCII with lines of at most 998 octets, otherwise
  // quoted-printable.
  static MimeEntity Text(std::string text, std::string_view subtype = "plain");
  // `mime_type` ("application/pdf") as an attachment: base64 (message/*
  // types: as is), Content-Disposition: attachment; filename=..., and the
  // same name as the Content-Type name parameter. An empty filename gives
  // no filename parameters.
  static MimeEntity Attachment(std::string_view filename,
                               std::string_view mime_type, BodySource body);
  // message/rfc822 holding `message` (a whole message, CRLF line ends;
  // bare LF are normalised), written 7bit, 8bit or binary as its content
  // requires (RFC 2046 5.2.1 allows no other encoding).
  static MimeEntity Message(BodySource message);
  // multipart/<subtype> ("mixed", "alternative", "related", "report", ...).
  static MimeEntity Multipart(std::string_view subtype,
                              std::vector<MimeEntity> children = {});
  // Any leaf: `mime_type` with the encoding chosen as for Text (text/*),
  // Message (message/*) or Attachment (anything else) unless set with
  // SetEncoding.
  static MimeEntity Leaf(std::string_view mime_type, BodySource body);

  // Adds a Content-Type parameter (charset, format, report-type, ...);
  // "boundary" is always generated and cannot be set.
  MimeEntity& SetParameter(std::string_view name, std::string_view value);
  // Content-Disposition: `type` ("inline", "attachment"), with a filename
  // parameter when `filename` is not empty (RFC 2231 when not ASCII).
  MimeEntity& SetDisposition(std::string_view type,
                             std::string_view filename = {});
  // Forces the transfer encoding. 7bit / 8bit / binary bodies are checked
  // (ASCII, no NUL, CRLF line ends, lines of at most 998 octets, as
  // RFC 2045 2.7-2.8 require) and refused when they do not qualify.
  MimeEntity& SetEncoding(TransferEncoding encoding);
  // An extra field of this part (Content-ID, Content-Description,
  // Content-Language, ...), written as unstructured text (encoded words
  // when not ASCII). Content-Type, Content-Transfer-Encoding,
  // Content-Disposition and MIME-Version are refused.
  MimeEntity& AddHeader(std::string_view name, std::string_view value);
  // Appends a child to a multipart.
  MimeEntity& AddChild(MimeEntity child);

  const std::string& type() const { return type_; }
  const std::string& subtype() const { return subtype_; }
  bool IsMultipart() const { return type_ == "multipart"; }
  const std::vector<MimeEntity>& children() const { return children_; }
  const BodySource& body() const { return body_; }
  const std::vector<std::pair<std::string, std::string>>& parameters() const {
    return parameters_;
  }
  const std::vector<std::pair<std::string, std::string>>& headers() const {
    return headers_;
  }
  const std::string& disposition() const { return disposition_; }
  const std::string& filename() const { return filename_; }
  std::optional<TransferEncoding> encoding() const { return encoding_; }
  // True for Text and Message: bare CR / LF in a string body become CRLF.
  bool normalize_line_ends() const { return normalize_line_ends_; }

 private:
  std::string type_ = "text";
  std::string subtype_ = "plain";
  std::vector<std::pair<std::string, std::string>> parameters_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string disposition_;
  std::string filename_;
  std::optional<TransferEncoding> encoding_;  // nullopt: chosen by type
  bool normalize_line_ends_ = false;          // Text and Message
  BodySource body_;
  std::vector<MimeEntity> children_;
};

class MessageBuilder {
 public:
  MessageBuilder() = default;

  // Originator and recipients. Mailbox fields are as in address.h: a
  // display name in UTF-8 (encoded when needed), a local part (quoted when
  // it is not a dot-atom: "john doe" becomes "\"john doe\""), a domain.
  MessageBuilder& SetFrom(Mailbox from);
  MessageBuilder& AddFrom(Mailbox from);  // several authors: then Sender
  MessageBuilder& SetSender(Mailbox sender);
  MessageBuilder& AddReplyTo(Mailbox mailbox);
  MessageBuilder& AddTo(Mailbox mailbox);
  MessageBuilder& AddCc(Mailbox mailbox);
  MessageBuilder& AddBcc(Mailbox mailbox);  // envelope only, not written

  // Subject, as UTF-8 (RFC 2047 encoded words when not ASCII).
  MessageBuilder& SetSubject(std::string_view subject);
  // Overrides the Date (default BuildContext::now) and the Message-ID
  // (default MakeMessageId(now, random, hostname); give "<left@right>").
  MessageBuilder& SetDate(absl::Time date);
  MessageBuilder& SetMessageId(std::string_view message_id);

  // An extra field written as unstructured text (encoded words when not
  // ASCII), folded. Fields the builder writes itself are refused in Build.
  MessageBuilder& AddHeader(std::string_view name, std::string_view value);
  // An extra field written exactly as given (In-Reply-To, References,
  // List-Id, ...), folded at whitespace only; 8-bit text is kept raw.
  MessageBuilder& AddRawHeader(std::string_view name, std::string_view value);

  // The body, as parts the builder arranges: text alone, HTML alone,
  // multipart/alternative (text, html), each inside multipart/mixed when
  // there are attachments.
  MessageBuilder& SetText(std::string text);
  MessageBuilder& SetHtml(std::string html);
  MessageBuilder& AddAttachment(std::string_view filename,
                                std::string_view mime_type, BodySource body);
  MessageBuilder& AddPart(MimeEntity part);  // any part after the attachments
  // Or the whole body as one tree (not combined with the four above).
  MessageBuilder& SetBody(MimeEntity body);

  // Every envelope recipient: To, Cc, then Bcc, as given.
  std::vector<Mailbox> Recipients() const;

  // Writes the message to `sink` in pieces (a borrowed body is passed on
  // without a copy). Everything is validated before the first byte is
  // written; only a reader's error can stop the output half way.
  [[nodiscard]] absl::Status Build(
      const BuildContext& context,
      absl::FunctionRef<void(std::string_view)> sink) const;
  // The whole message as one string.
  [[nodiscard]] absl::StatusOr<std::string> Build(
      const BuildContext& context) const;

 private:
  std::vector<Mailbox> from_;
  std::optional<Mailbox> sender_;
  std::vector<Mailbox> reply_to_, to_, cc_, bcc_;
  std::optional<std::string> subject_;
  std::optional<absl::Time> date_;
  std::optional<std::string> message_id_;
  struct ExtraField {
    std::string name;
    std::string value;
    bool raw;
  };
  std::vector<ExtraField> extra_;
  std::optional<std::string> text_, html_;
  std::vector<MimeEntity> attachments_;
  std::optional<MimeEntity> body_;
};

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_BUILDER_H_
