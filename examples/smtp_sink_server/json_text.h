// json_text.h — JSON string quoting for the envelope sidecar files.

#ifndef POSTHORN_EXAMPLES_SMTP_SINK_SERVER_JSON_TEXT_H_
#define POSTHORN_EXAMPLES_SMTP_SINK_SERVER_JSON_TEXT_H_

#include <string>
#include <string_view>

namespace posthorn::examples {

// Appends `text` as a JSON string (RFC 8259 7): quotes, backslashes and
// control characters escaped; other bytes (UTF-8) copied as they are.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace posthorn::examples

#endif  // POSTHORN_EXAMPLES_SMTP_SINK_SERVER_JSON_TEXT_H_
