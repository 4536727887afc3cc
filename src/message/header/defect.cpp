#include "posthorn/message/defect.h"

namespace posthorn::message {

std::string_view DefectName(DefectKind kind) {
  switch (kind) {
    case DefectKind::kMissingHeaderBodySeparator: return "missing_header_body_separator";
    case DefectKind::kInvalidFieldName: return "invalid_field_name";
    case DefectKind::kWhitespaceBeforeColon: return "whitespace_before_colon";
    case DefectKind::kContinuationWithoutField: return "continuation_without_field";
    case DefectKind::kLineTooLong: return "line_too_long";
    case DefectKind::kNulByte: return "nul_byte";
    case DefectKind::kBareLf: return "bare_lf";
    case DefectKind::kBareCr: return "bare_cr";
    case DefectKind::kEightBitInHeader: return "eight_bit_in_header";
    case DefectKind::kDuplicateField: return "duplicate_field";
    case DefectKind::kUnterminatedQuotedString: return "unterminated_quoted_string";
    case DefectKind::kUnterminatedComment: return "unterminated_comment";
    case DefectKind::kUnterminatedDomainLiteral: return "unterminated_domain_literal";
    case DefectKind::kUnterminatedAngleAddress: return "unterminated_angle_address";
    case DefectKind::kInvalidAddress: return "invalid_address";
    case DefectKind::kObsoleteAddressSyntax: return "obsolete_address_syntax";
    case DefectKind::kEmptyAddressListElement: return "empty_address_list_element";
    case DefectKind::kInvalidDate: return "invalid_date";
    case DefectKind::kObsoleteDateSyntax: return "obsolete_date_syntax";
    case DefectKind::kInvalidMessageId: return "invalid_message_id";
    case DefectKind::kInvalidEncodedWord: return "invalid_encoded_word";
    case DefectKind::kUnknownCharset: return "unknown_charset";
    case DefectKind::kInvalidCharsetData: return "invalid_charset_data";
    case DefectKind::kEncodedWordTooLong: return "encoded_word_too_long";
    case DefectKind::kRfc2231MissingSection: return "rfc2231_missing_section";
    case DefectKind::kRfc2231OutOfOrder: return "rfc2231_out_of_order";
    case DefectKind::kDuplicateParameter: return "duplicate_parameter";
    case DefectKind::kConflictingParameter: return "conflicting_parameter";
    case DefectKind::kInvalidParameter: return "invalid_parameter";
    case DefectKind::kInvalidContentType: return "invalid_content_type";
    case DefectKind::kMissingBoundary: return "missing_boundary";
    case DefectKind::kBoundaryNeverClosed: return "boundary_never_closed";
    case DefectKind::kBoundaryClosesOuter: return "boundary_closes_outer";
    case DefectKind::kNoPartsInMultipart: return "no_parts_in_multipart";
    case DefectKind::kNestingTooDeep: return "nesting_too_deep";
    case DefectKind::kInvalidContentTransferEncoding: return "invalid_content_transfer_encoding";
    case DefectKind::kInvalidBase64: return "invalid_base64";
    case DefectKind::kInvalidQuotedPrintable: return "invalid_quoted_printable";
  }
  return "unknown";
}

}  // namespace posthorn::message
