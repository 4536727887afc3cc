// MimeEntity and BodySource: plain data holders; every check happens in
// Build (part_plan.cpp), which can report the first problem as a status.

#include <string>
#include <string_view>
#include <utility>

#include "posthorn/message/builder.h"

namespace posthorn::message {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

// Splits "type/subtype" and lower-cases both; a value without "/" keeps it
// all in the type, with an empty subtype that Build refuses.
void SplitMimeType(std::string_view mime_type, std::string* type,
                   std::string* subtype) {
  std::size_t slash = mime_type.find('/');
  *type = Lower(mime_type.substr(0, slash));
  *subtype = slash == std::string_view::npos
                 ? std::string()
                 : Lower(mime_type.substr(slash + 1));
}

}  // namespace

BodySource BodySource::Owned(std::string data) {
  BodySource s;
  s.storage_.emplace<0>(std::move(data));
  return s;
}

BodySource BodySource::Borrowed(std::string_view data) {
  BodySource s;
  s.storage_.emplace<1>(data);
  return s;
}

BodySource BodySource::FromReader(BodyReader reader) {
  BodySource s;
  s.storage_.emplace<2>(std::move(reader));
  return s;
}

std::string_view BodySource::data() const {
  switch (storage_.index()) {
    case 0:
      return std::get<0>(storage_);
    case 1:
      return std::get<1>(storage_);
    default:
      return {};
  }
}

MimeEntity MimeEntity::Text(std::string text, std::string_view subtype) {
  MimeEntity e;
  e.type_ = "text";
  e.subtype_ = Lower(subtype);
  e.normalize_line_ends_ = true;
  e.body_ = BodySource::Owned(std::move(text));
  return e;
}

MimeEntity MimeEntity::Attachment(std::string_view filename,
                                  std::string_view mime_type,
                                  BodySource body) {
  MimeEntity e;
  SplitMimeType(mime_type, &e.type_, &e.subtype_);
  e.body_ = std::move(body);
  e.disposition_ = "attachment";
  e.filename_ = std::string(filename);
  // message/* may only be 7bit / 8bit / binary (RFC 2046 5.2.1): written as
  // is, with CRLF line ends like any message.
  if (e.type_ == "message") {
    e.normalize_line_ends_ = true;
  } else {
    e.encoding_ = TransferEncoding::kBase64;
  }
  return e;
}

MimeEntity MimeEntity::Message(BodySource message) {
  MimeEntity e;
  e.type_ = "message";
  e.subtype_ = "rfc822";
  e.normalize_line_ends_ = true;
  e.body_ = std::move(message);
  return e;
}

MimeEntity MimeEntity::Multipart(std::string_view subtype,
                                 std::vector<MimeEntity> children) {
  MimeEntity e;
  e.type_ = "multipart";
  e.subtype_ = Lower(subtype);
  e.children_ = std::move(children);
  return e;
}

MimeEntity MimeEntity::Leaf(std::string_view mime_type, BodySource body) {
  MimeEntity e;
  SplitMimeType(mime_type, &e.type_, &e.subtype_);
  e.normalize_line_ends_ = e.type_ == "text" || e.type_ == "message";
  e.body_ = std::move(body);
  return e;
}

MimeEntity& MimeEntity::SetParameter(std::string_view name,
                                     std::string_view value) {
  parameters_.emplace_back(Lower(name), std::string(value));
  return *this;
}

MimeEntity& MimeEntity::SetDisposition(std::string_view type,
                                       std::string_view filename) {
  disposition_ = Lower(type);
  filename_ = std::string(filename);
  return *this;
}

MimeEntity& MimeEntity::SetEncoding(TransferEncoding encoding) {
  encoding_ = encoding;
  return *this;
}

MimeEntity& MimeEntity::AddHeader(std::string_view name,
                                  std::string_view value) {
  headers_.emplace_back(std::string(name), std::string(value));
  return *this;
}

MimeEntity& MimeEntity::AddChild(MimeEntity child) {
  children_.push_back(std::move(child));
  return *this;
}

}  // namespace posthorn::message
