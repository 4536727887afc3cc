// report.h — a parsed message as inspect_message's JSON document.

#ifndef POSTHORN_EXAMPLES_INSPECT_MESSAGE_REPORT_H_
#define POSTHORN_EXAMPLES_INSPECT_MESSAGE_REPORT_H_

#include <string>

#include "posthorn/message/mime.h"

namespace posthorn::examples {

// {"headers":[...],"subject":...,"date":...,"message_id":...,"from":[...],
//  "to":[...],"cc":[...],"reply_to":[...],"parts":[...],"defects":[...]}
// Decodes every leaf (streamed, hashed with SHA-256). Defects are those of
// the parse, of the fields read here and of the body decoding, by offset.
std::string MessageReport(const message::Message& msg);

}  // namespace posthorn::examples

#endif  // POSTHORN_EXAMPLES_INSPECT_MESSAGE_REPORT_H_
