// libFuzzer target for posthorn/message/content_type.h.
//
// The input is a field value. Invariants checked, not just "no crash":
//   - type and subtype are lowercase tokens (text/plain when invalid);
//   - every parameter name is lowercase and unique; every value is valid
//     UTF-8; Find agrees with items();
//   - defect offsets lie inside the value (with its base offset);
//   - FormatMimeParameter of each parsed value parses back to the same
//     value, without a defect, in lines that fit 78 octets;
//   - ParseTransferEncoding and TransferEncodingName agree.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "posthorn/message/charset.h"
#include "posthorn/message/content_type.h"

namespace {

using namespace posthorn::message;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsValidUtf8(std::string_view s) {
  std::string scratch;
  return AppendValidUtf8(s, &scratch);
}

bool IsLowerToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 || (c >= 'A' && c <= 'Z')) return false;
    if (std::string_view("()<>@,;:\\\"/[]?=").find(c) !=
        std::string_view::npos) {
      return false;
    }
  }
  return true;
}

void CheckParameters(const MimeParameters& params, bool check_format) {
  const auto& items = params.items();
  for (std::size_t i = 0; i < items.size(); ++i) {
    Check(!items[i].name.empty());
    for (char c : items[i].name) Check(!(c >= 'A' && c <= 'Z'));
    Check(IsValidUtf8(items[i].value));
    Check(params.Find(items[i].name) == &items[i].value);
    for (std::size_t j = 0; j < i; ++j) Check(items[j].name != items[i].name);
    if (!check_format || items[i].name == "boundary") continue;
    const std::string f = FormatMimeParameter("p", items[i].value);
    std::size_t pos = 0;
    while (true) {
      const std::size_t eol = f.find("\r\n", pos);
      const std::size_t end = eol == std::string::npos ? f.size() : eol;
      Check(end - pos + 2 <= 79);
      if (eol == std::string::npos) break;
      pos = eol + 3;
    }
    Defects defects;
    const MimeParameters back = ParseMimeParameters(f, &defects);
    Check(defects.empty());
    Check(back.items().size() == 1);
    Check(back.items()[0].name == "p");
    Check(back.items()[0].value == items[i].value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kBase = 77;

  Defects defects;
  const ContentType ct = ParseContentType(in, &defects, kBase);
  Check(IsLowerToken(ct.type));
  Check(IsLowerToken(ct.subtype));
  Check(ct.MimeType() == ct.type + "/" + ct.subtype);
  CheckParameters(ct.parameters, size < 4096);

  const ContentDisposition cd = ParseContentDisposition(in, &defects, kBase);
  Check(cd.type.empty() || IsLowerToken(cd.type));
  CheckParameters(cd.parameters, false);

  const TransferEncoding te = ParseTransferEncoding(in, &defects, kBase);
  if (te != TransferEncoding::kUnknown) {
    Check(ParseTransferEncoding(TransferEncodingName(te)) == te);
  }
  for (const Defect& d : defects) {
    Check(d.offset >= kBase && d.offset <= kBase + size);
  }
  return 0;
}
