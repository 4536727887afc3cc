#include "json_writer.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "posthorn/message/charset.h"

namespace posthorn::examples {

void AppendJsonString(std::string_view bytes, std::string* out) {
  std::string valid;
  message::AppendValidUtf8(bytes, &valid);  // never emit invalid UTF-8
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : valid) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void JsonWriter::BeforeValue() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = true;
}

void JsonWriter::Open(char c) {
  BeforeValue();
  out_.push_back(c);
  need_comma_ = false;
}

void JsonWriter::Close(char c) {
  out_.push_back(c);
  need_comma_ = true;
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(key, &out_);
  out_.push_back(':');
  need_comma_ = false;
}

void JsonWriter::String(std::string_view bytes) {
  BeforeValue();
  AppendJsonString(bytes, &out_);
}

void JsonWriter::Int(std::int64_t v) {
  BeforeValue();
  absl::StrAppend(&out_, v);
}

void JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
}

}  // namespace posthorn::examples
