// posthorn/message/encoded_word.h — RFC 2047 encoded words.
//
// STANDARDS
//   RFC 2047 (MIME part three: message header extensions for non-ASCII
//   text), RFC 2231 section 5 (language in encoded words: "=?utf-8*en?Q?..?=").
//
//   encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
//
// LENIENCY (as GMime and Python's email package)
//   Encoded words are decoded inside words too ("foo=?utf-8?q?x?=") and in
//   quoted strings, and whitespace between two adjacent encoded words is
//   dropped (RFC 2047 section 6.2). Adjacent encoded words in the same
//   charset and encoding are joined before conversion, so a multibyte
//   character or a base64 quantum split across two words still decodes. A
//   word that is malformed, in an unknown charset or whose payload is broken
//   is kept as written and recorded as a defect.

#ifndef POSTHORN_MESSAGE_ENCODED_WORD_H_
#define POSTHORN_MESSAGE_ENCODED_WORD_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "posthorn/message/defect.h"

namespace posthorn::message {

// Decodes an unstructured field value (Subject, Comments, ...; already
// unfolded) to UTF-8, appending to *out. Raw 8-bit text that is valid UTF-8
// is kept; other 8-bit bytes are taken as ISO-8859-1 (a defect is recorded).
// `base_offset` is the offset of `value` in the top-level buffer.
void DecodeUnstructured(std::string_view value, std::string* out,
                        Defects* defects = nullptr,
                        std::size_t base_offset = 0);

// Same, returning the result.
std::string DecodeUnstructured(std::string_view value);

// Decodes a display name (an RFC 5322 phrase) whose quoted strings the
// caller has already unquoted (quotes removed, quoted-pairs resolved), with
// the same leniency as DecodeUnstructured: encoded words are decoded even
// where RFC 2047 section 5 (3) does not allow them (inside a former quoted
// string, glued to other text), as mail readers do. `base_offset` is the
// offset of the phrase in the top-level buffer; defect offsets are exact only
// when `phrase` is a view of that buffer.
void DecodePhrase(std::string_view phrase, std::string* out,
                  Defects* defects = nullptr, std::size_t base_offset = 0);

// True when `value` contains "=?" anywhere (a cheap test before decoding).
bool MayContainEncodedWords(std::string_view value);

// Encodes UTF-8 text for an unstructured field as a value ready to follow
// "Name: ". Pure printable ASCII without "=?" is returned unchanged;
// otherwise the non-ASCII words become encoded words (Q or B, whichever is
// shorter), each at most 75 octets, separated by CRLF SP folds so that no
// line exceeds 78 octets. `first_line_used` is the number of octets already
// on the first line ("Subject: " is 9). When that line has no room for even
// one word, the result starts with a fold (CRLF SP; header parsers trim the
// space). Plain words longer than a line and trailing white space are kept
// as they are (never folded into a blank line). Control characters (CR, LF,
// ...) and words that look like encoded words are always encoded, so the
// result cannot inject a header line. Invalid UTF-8 becomes U+FFFD first.
std::string EncodeUnstructured(std::string_view utf8,
                               std::size_t first_line_used = 0);

// Encodes a display name (a phrase, RFC 2047 section 5 rule 3): plain atoms
// are kept, specials are quoted, non-ASCII becomes encoded words that use
// only the characters allowed in a phrase. Words are separated by single
// spaces and not folded: the header writer may fold at any of them (each
// encoded word is at most 75 octets).
std::string EncodePhrase(std::string_view utf8);

}  // namespace posthorn::message

#endif  // POSTHORN_MESSAGE_ENCODED_WORD_H_
