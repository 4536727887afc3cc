// json_writer.h — the little JSON output inspect_message needs.
//
// Strings are written as valid UTF-8 whatever the input: invalid sequences
// become U+FFFD, control characters \u00XX (RFC 8259 section 7).

#ifndef POSTHORN_EXAMPLES_INSPECT_MESSAGE_JSON_WRITER_H_
#define POSTHORN_EXAMPLES_INSPECT_MESSAGE_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace posthorn::examples {

class JsonWriter {
 public:
  // Containers and keys. Commas are inserted as needed.
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);

  // Values.
  void String(std::string_view bytes);
  void Int(std::int64_t v);
  void Null();

  const std::string& str() const { return out_; }

 private:
  void Open(char c);
  void Close(char c);
  void BeforeValue();

  std::string out_;
  std::string scratch_;
  bool need_comma_ = false;
};

// Appends `bytes` as a JSON string literal (quotes included).
void AppendJsonString(std::string_view bytes, std::string* out);

}  // namespace posthorn::examples

#endif  // POSTHORN_EXAMPLES_INSPECT_MESSAGE_JSON_WRITER_H_
