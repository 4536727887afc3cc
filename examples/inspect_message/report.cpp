#include "report.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "json_writer.h"
#include "posthorn/message/address.h"
#include "posthorn/message/date.h"
#include "posthorn/message/encoded_word.h"
#include "posthorn/message/message_id.h"

namespace posthorn::examples {
namespace {

using message::Defects;
using message::HeaderField;
using message::MimePart;

// Streams a part's decoded body through SHA-256.
struct BodyDigest {
  std::size_t size = 0;
  std::string hex;
};

BodyDigest DigestBody(const MimePart& part, Defects* defects) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  BodyDigest result;
  message::DecodeBody(
      part,
      [&](std::string_view chunk) {
        result.size += chunk.size();
        EVP_DigestUpdate(ctx.get(), chunk.data(), chunk.size());
      },
      defects);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    result.hex.push_back(kHex[md[i] >> 4]);
    result.hex.push_back(kHex[md[i] & 0xf]);
  }
  return result;
}

void WriteAddresses(JsonWriter& w, const message::HeaderSection& headers,
                    std::string_view name, Defects* defects) {
  w.BeginArray();
  std::string scratch;
  for (const HeaderField* f : headers.FindAll(name)) {
    const message::AddressList list = message::ParseAddressList(
        f->Unfolded(&scratch), defects, f->value_offset);
    for (const message::Mailbox& m : list.Mailboxes()) {
      w.BeginObject();
      w.Key("name");
      w.String(m.display_name);
      w.Key("address");
      w.String(m.Address());
      w.EndObject();
    }
  }
  w.EndArray();
}

}  // namespace

std::string MessageReport(const message::Message& msg) {
  const MimePart& root = msg.root();
  const message::HeaderSection& headers = root.headers;
  Defects defects = msg.defects();
  JsonWriter w;
  std::string scratch;
  w.BeginObject();

  w.Key("headers");
  w.BeginArray();
  for (const HeaderField& f : headers.fields()) {
    const std::string_view value = f.Unfolded(&scratch);
    std::string decoded;
    message::DecodeUnstructured(value, &decoded, &defects, f.value_offset);
    w.BeginObject();
    w.Key("name");
    w.String(f.name);
    w.Key("value");
    w.String(value);
    w.Key("decoded");
    w.String(decoded);
    w.EndObject();
  }
  w.EndArray();

  w.Key("subject");
  if (const HeaderField* f = headers.Find("Subject"); f != nullptr) {
    std::string decoded;
    message::DecodeUnstructured(f->Unfolded(&scratch), &decoded, nullptr,
                                f->value_offset);
    w.String(decoded);
  } else {
    w.Null();
  }

  w.Key("date");
  std::optional<absl::Time> date;
  if (const HeaderField* f = headers.Find("Date"); f != nullptr) {
    date = message::ParseDate(f->Unfolded(&scratch), &defects,
                              f->value_offset);
  }
  if (date.has_value()) {
    w.Int(absl::ToUnixSeconds(*date));
  } else {
    w.Null();
  }

  w.Key("message_id");
  std::optional<std::string_view> id;
  std::string id_value;
  if (const HeaderField* f = headers.Find("Message-ID"); f != nullptr) {
    id_value = f->Unfolded();
    id = message::ParseMessageId(id_value, &defects, f->value_offset);
  }
  if (id.has_value()) {
    w.String(*id);
  } else {
    w.Null();
  }

  for (auto [key, field] : {std::pair{"from", "From"}, {"to", "To"},
                            {"cc", "Cc"}, {"reply_to", "Reply-To"}}) {
    w.Key(key);
    WriteAddresses(w, headers, field, &defects);
  }

  w.Key("parts");
  w.BeginArray();
  for (const auto& [path, part] : msg.Leaves()) {
    w.BeginObject();
    w.Key("path");
    w.String(path);
    w.Key("content_type");
    w.String(part->content_type.MimeType());
    w.Key("charset");
    if (part->Charset().empty()) {
      w.Null();
    } else {
      w.String(part->Charset());
    }
    w.Key("filename");
    if (const std::string name = part->Filename(); name.empty()) {
      w.Null();
    } else {
      w.String(name);
    }
    w.Key("encoding");
    w.String(message::TransferEncodingName(part->encoding));
    const BodyDigest digest = DigestBody(*part, &defects);
    w.Key("decoded_size");
    w.Int(static_cast<std::int64_t>(digest.size));
    w.Key("sha256");
    w.String(digest.hex);
    w.EndObject();
  }
  w.EndArray();

  w.Key("defects");
  w.BeginArray();
  std::stable_sort(defects.begin(), defects.end(),
                   [](const message::Defect& a, const message::Defect& b) {
                     return a.offset < b.offset;
                   });
  for (const message::Defect& d : defects) {
    w.BeginObject();
    w.Key("kind");
    w.String(message::DefectName(d.kind));
    w.Key("offset");
    w.Int(static_cast<std::int64_t>(d.offset));
    w.EndObject();
  }
  w.EndArray();

  w.EndObject();
  return w.str();
}

}  // namespace posthorn::examples
