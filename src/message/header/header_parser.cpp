// ParseHeaderSection: splits the header section of a message into fields.
//
// One pass over the input, line by line. Each line is classified by its first
// byte: a line end (the empty line that ends the section), WSP (a fold that
// continues the open field), or the start of a field name. Line ends are found
// 16 bytes at a time (line_scan.h), names are checked against a 256-entry
// table, and nothing is copied: fields are views into the input.
//
//   field        = field-name ":" unstructured CRLF
//   field-name   = 1*ftext
//   obs-optional = field-name *WSP ":" unstructured CRLF     ; RFC 5322 4.5
//   unstructured = (*([FWS] VCHAR_WSP) *WSP) / obs-unstruct
//   FWS          = ([*WSP CRLF] 1*WSP) / obs-FWS
//   obs-FWS      = 1*WSP *(CRLF 1*WSP)   ; folds of WSP-only lines too

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "message/header/ascii.h"
#include "message/header/line_scan.h"
#include "posthorn/message/defect.h"
#include "posthorn/message/header.h"

namespace posthorn::message {

namespace {

using header_internal::FindLineEnd;
using header_internal::FindNameEnd;
using header_internal::IsWsp;
using header_internal::LineOddities;

// RFC 5322 2.1.1: "Each line of characters MUST be no more than 998
// characters ... excluding the CRLF."
constexpr std::size_t kMaxLineOctets = 998;

// Fields most messages have fit without growing the vector.
constexpr std::size_t kReserveFields = 32;

}  // namespace

class HeaderSectionParser {
 public:
  HeaderSectionParser(std::string_view input, Defects* defects,
                      const HeaderLimits& limits, std::size_t base_offset)
      : begin_(input.data()),
        end_(input.data() + input.size()),
        defects_(defects),
        limits_(limits),
        base_(base_offset) {}

  absl::StatusOr<HeaderSection> Parse();

 private:
  // What the previous line belonged to, for the continuation lines after it.
  enum class Open { kNone, kField, kSkipped };

  std::size_t Offset(const char* p) const {
    return base_ + static_cast<std::size_t>(p - begin_);
  }
  void Record(DefectKind kind, const char* p) {
    if (defects_ != nullptr) defects_->push_back({kind, Offset(p)});
  }
  void RecordOddities(const LineOddities& odd) {
    if (odd.first_nul != nullptr) Record(DefectKind::kNulByte, odd.first_nul);
    if (odd.first_eight_bit != nullptr) {
      Record(DefectKind::kEightBitInHeader, odd.first_eight_bit);
    }
  }
  // Consumes the line end at `le` (CRLF, LF or CR; nothing at the end of the
  // input) and returns the start of the next line.
  const char* SkipLineEnd(const char* le) {
    if (le == end_) return le;
    if (*le == '\r') {
      if (le + 1 < end_ && le[1] == '\n') return le + 2;
      Record(DefectKind::kBareCr, le);
      return le + 1;
    }
    Record(DefectKind::kBareLf, le);
    return le + 1;
  }
  // The mbox "From " separator: "From " not followed by *WSP ":" (which
  // would be the obsolete "From : ..." field of RFC 5322 A.6.3).
  bool IsMboxFromLine() const;
  absl::Status TooMany(const char* at) const;
  absl::Status FieldTooLong(const char* at) const;
  absl::Status SectionTooLong(const char* at) const;

  const char* const begin_;
  const char* const end_;
  Defects* const defects_;
  const HeaderLimits& limits_;
  const std::size_t base_;
};

bool HeaderSectionParser::IsMboxFromLine() const {
  constexpr std::string_view kFrom = "From ";
  if (static_cast<std::size_t>(end_ - begin_) < kFrom.size() ||
      std::string_view(begin_, kFrom.size()) != kFrom) {
    return false;
  }
  const char* p = begin_ + kFrom.size();
  while (p < end_ && IsWsp(*p)) ++p;
  return p == end_ || *p != ':';
}

absl::Status HeaderSectionParser::TooMany(const char* at) const {
  return absl::ResourceExhaustedError(
      absl::StrCat("header section has more than ", limits_.max_fields,
                   " fields (at offset ", Offset(at), ")"));
}

absl::Status HeaderSectionParser::FieldTooLong(const char* at) const {
  return absl::ResourceExhaustedError(
      absl::StrCat("header field is longer than ", limits_.max_field_bytes,
                   " bytes (at offset ", Offset(at), ")"));
}

absl::Status HeaderSectionParser::SectionTooLong(const char* at) const {
  return absl::ResourceExhaustedError(
      absl::StrCat("header section is longer than ", limits_.max_section_bytes,
                   " bytes (at offset ", Offset(at), ")"));
}

absl::StatusOr<HeaderSection> HeaderSectionParser::Parse() {
  HeaderSection section;
  std::vector<HeaderField>& fields = section.fields_;
  fields.reserve(kReserveFields);

  const char* p = begin_;
  if (IsMboxFromLine()) {
    LineOddities ignored;
    const char* le = FindLineEnd(p, end_, &ignored);
    p = le;
    if (p < end_) p += (*p == '\r' && p + 1 < end_ && p[1] == '\n') ? 2 : 1;
  }

  Open open = Open::kNone;
  while (true) {
    if (p == end_) {
      // The input ended inside the header section: it is all headers.
      Record(DefectKind::kMissingHeaderBodySeparator, p);
      section.body_offset_ = Offset(p);
      break;
    }
    const char c = *p;
    if (c == '\r' || c == '\n') {
      // The empty line: the body starts after it.
      section.body_offset_ = Offset(SkipLineEnd(p));
      section.has_separator_ = true;
      break;
    }

    const char* line = p;
    const char* le;
    LineOddities odd;
    if (IsWsp(c)) {
      // A fold (or an obs-FWS line of only WSP): continues the open field.
      le = FindLineEnd(p + 1, end_, &odd);
      if (open == Open::kField) {
        HeaderField& f = fields.back();
        const char* value = f.raw_value.data();
        f.raw_value =
            std::string_view(value, static_cast<std::size_t>(le - value));
        f.folded = true;
        if (static_cast<std::size_t>(le - f.name.data()) >
            limits_.max_field_bytes) {
          return FieldTooLong(f.name.data());
        }
      } else if (open == Open::kNone) {
        Record(DefectKind::kContinuationWithoutField, line);
      }
      // Open::kSkipped: the rest of a field already reported as invalid.
    } else {
      const char* q = FindNameEnd(p, end_);
      const char* name_end = q;
      const char* wsp = nullptr;
      if (q < end_ && IsWsp(*q)) {
        wsp = q;
        while (q < end_ && IsWsp(*q)) ++q;
      }
      if (q < end_ && *q == ':' && name_end > p) {
        if (wsp != nullptr) Record(DefectKind::kWhitespaceBeforeColon, wsp);
        if (fields.size() >= limits_.max_fields) return TooMany(line);
        const char* value = q + 1;
        le = FindLineEnd(value, end_, &odd);
        HeaderField& f = fields.emplace_back();
        f.name = std::string_view(p, static_cast<std::size_t>(name_end - p));
        f.raw_value =
            std::string_view(value, static_cast<std::size_t>(le - value));
        f.offset = Offset(p);
        f.value_offset = Offset(value);
        if (static_cast<std::size_t>(le - p) > limits_.max_field_bytes) {
          return FieldTooLong(line);
        }
        open = Open::kField;
      } else {
        le = FindLineEnd(q, end_, &odd);
        const std::string_view rest(line, static_cast<std::size_t>(le - line));
        if (rest.find(':') == std::string_view::npos) {
          // No colon: not a field at all. Mail readers take it as the first
          // line of a body whose empty separator line is missing.
          Record(DefectKind::kMissingHeaderBodySeparator, line);
          section.body_offset_ = Offset(line);
          break;
        }
        Record(DefectKind::kInvalidFieldName, line);
        open = Open::kSkipped;
      }
    }
    RecordOddities(odd);
    if (static_cast<std::size_t>(le - line) > kMaxLineOctets) {
      Record(DefectKind::kLineTooLong, line);
    }
    p = SkipLineEnd(le);
    if (static_cast<std::size_t>(p - begin_) > limits_.max_section_bytes) {
      return SectionTooLong(line);
    }
  }

  if (fields.size() > HeaderSection::kIndexThreshold) section.BuildNameIndex();
  return section;
}

absl::StatusOr<HeaderSection> ParseHeaderSection(std::string_view input,
                                                 Defects* defects,
                                                 const HeaderLimits& limits,
                                                 std::size_t base_offset) {
  return HeaderSectionParser(input, defects, limits, base_offset).Parse();
}

}  // namespace posthorn::message
