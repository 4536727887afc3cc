// tree_parser.cpp — ParseMessage: the MIME tree in one forward pass.
//
// The parse never recurses and never scans a byte of a body twice. It keeps
// a stack of open containers (multiparts and message/rfc822 parts) and at
// most one open leaf, which always belongs to the innermost container. One
// scan over the input looks for lines starting with "--"; each is matched
// against the boundaries of the open multiparts, innermost first. A match
// closes whatever is open above that multipart (an outer boundary closes an
// inner multipart, RFC 2046 5.1.2: "the boundary delimiter must not appear
// inside any of the encapsulated parts"), then opens the next part: its
// header section is parsed once, its Content-Type once, and the scan goes on
// from the start of its body. A leaf's body is therefore crossed only by the
// delimiter scan, which is what finds where it ends.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "message/mime/boundary_scan.h"
#include "posthorn/message/content_type.h"
#include "posthorn/message/header.h"
#include "posthorn/message/mime.h"

namespace posthorn::message {
namespace {

using mime_internal::DelimiterMatch;
using mime_internal::FindDashDashLine;
using mime_internal::kNpos;
using mime_internal::LineEndBefore;
using mime_internal::MatchDelimiter;

enum class FrameKind { kMultipart, kMessage };
enum class MultipartState { kPreamble, kInPart, kEpilogue };

// An open container. Its current child is either the frame above it or,
// for the innermost frame, the parser's open leaf.
struct Frame {
  FrameKind kind = FrameKind::kMultipart;
  MimePart part;
  std::string boundary;  // multipart only; a copy, `part` moves around
  bool digest = false;   // multipart/digest: parts default to message/rfc822
  MultipartState state = MultipartState::kPreamble;
  std::size_t epilogue_start = 0;
};

bool IsIdentityEncoding(TransferEncoding e) {
  return e == TransferEncoding::k7Bit || e == TransferEncoding::k8Bit ||
         e == TransferEncoding::kBinary;
}

class TreeParser {
 public:
  TreeParser(std::string_view input, const ParseOptions& options,
             Defects* defects)
      : in_(input),
        options_(options),
        max_depth_(std::min(options.max_depth, kMaxDepthHardLimit)),
        defects_(defects) {}

  absl::Status Run(MimePart* root);

 private:
  // Parses the header section of the part starting at `start` and its MIME
  // fields. The part's extent is not known yet.
  absl::StatusOr<MimePart> BeginPart(std::size_t start, std::size_t depth,
                                     bool digest_child);
  // Makes `part` the current child of the innermost frame: a container is
  // pushed as a frame (a message/rfc822 one begins its child at once), a
  // leaf becomes the open leaf. *scan_from is where the delimiter scan goes
  // on: the start of the innermost body.
  absl::Status Open(MimePart part, std::size_t* scan_from);
  // Pops the innermost frame, ends it (and its open leaf) at `end` and
  // hands it to its parent (or to the root). `by_outer` says an outer
  // delimiter at `at` closed it.
  void CloseTopFrame(std::size_t end, bool by_outer, std::size_t at);
  void EndPart(MimePart* part, std::size_t end) const;
  void AddToParent(MimePart part);
  // The first line in [from, limit) that is a delimiter of an open
  // multipart, or kNpos.
  std::size_t FindOpenDelimiter(std::size_t from, std::size_t limit) const;
  bool MatchAnyOpen(std::size_t p, std::size_t* frame,
                    DelimiterMatch* match) const;
  void AddDefect(DefectKind kind, std::size_t offset) {
    if (defects_ != nullptr) defects_->push_back({kind, offset});
  }

  std::string_view in_;
  const ParseOptions& options_;
  const std::size_t max_depth_;
  Defects* defects_;
  std::vector<Frame> stack_;
  bool leaf_open_ = false;
  MimePart leaf_;
  // Start of the innermost open region (leaf, preamble or epilogue): the
  // line end before a delimiter is never taken from before it.
  std::size_t region_start_ = 0;
  MimePart* root_ = nullptr;
  std::size_t parts_ = 0;
  std::string scratch_;
};

bool TreeParser::MatchAnyOpen(std::size_t p, std::size_t* frame,
                              DelimiterMatch* match) const {
  for (std::size_t j = stack_.size(); j-- > 0;) {
    const Frame& f = stack_[j];
    if (f.kind == FrameKind::kMultipart &&
        f.state != MultipartState::kEpilogue &&
        MatchDelimiter(in_, p, f.boundary, match)) {
      *frame = j;
      return true;
    }
  }
  return false;
}

std::size_t TreeParser::FindOpenDelimiter(std::size_t from,
                                          std::size_t limit) const {
  std::size_t frame;
  DelimiterMatch match;
  for (std::size_t p = FindDashDashLine(in_, from); p != kNpos && p < limit;
       p = FindDashDashLine(in_, p + 2)) {
    if (MatchAnyOpen(p, &frame, &match)) return p;
  }
  return kNpos;
}

absl::StatusOr<MimePart> TreeParser::BeginPart(std::size_t start,
                                               std::size_t depth,
                                               bool digest_child) {
  if (++parts_ > options_.max_parts) {
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", options_.max_parts,
                     " MIME parts (max_parts) at offset ", start));
  }
  MimePart part;
  part.offset = start;
  part.depth = depth;

  const std::size_t defects_before = defects_ ? defects_->size() : 0;
  absl::StatusOr<HeaderSection> headers = ParseHeaderSection(
      in_.substr(start), defects_, options_.header_limits, start);
  if (!headers.ok()) return headers.status();
  if (!stack_.empty()) {
    // A header section must not swallow the next delimiter line (only
    // possible when every line has a colon, e.g. boundary "a:b").
    const std::size_t cut = FindOpenDelimiter(start, headers->body_offset());
    if (cut != kNpos) {
      if (defects_ != nullptr) defects_->resize(defects_before);
      const std::size_t end = LineEndBefore(in_, cut, start);
      headers = ParseHeaderSection(in_.substr(start, end - start), defects_,
                                   options_.header_limits, start);
      if (!headers.ok()) return headers.status();
    }
  }
  part.headers = *std::move(headers);

  const HeaderSection& h = part.headers;
  if (const HeaderField* ct = h.Find("Content-Type"); ct != nullptr) {
    part.content_type =
        ParseContentType(ct->Unfolded(&scratch_), defects_, ct->value_offset);
    part.has_content_type = true;
    for (MimeParameter& p : part.content_type.parameters.mutable_items()) {
      if (p.name == "charset") absl::AsciiStrToLower(&p.value);
    }
  } else if (digest_child) {
    // RFC 2046 5.1.5: in a digest, the default Content-Type of a part is
    // message/rfc822.
    part.content_type.type = "message";
    part.content_type.subtype = "rfc822";
  }
  if (const HeaderField* cte = h.Find("Content-Transfer-Encoding");
      cte != nullptr) {
    part.encoding = ParseTransferEncoding(cte->Unfolded(&scratch_), defects_,
                                          cte->value_offset);
  }
  if (const HeaderField* cd = h.Find("Content-Disposition"); cd != nullptr) {
    part.disposition = ParseContentDisposition(cd->Unfolded(&scratch_),
                                               defects_, cd->value_offset);
  }
  return part;
}

absl::Status TreeParser::Open(MimePart part, std::size_t* scan_from) {
  while (true) {
    const std::size_t body_start = part.headers.body_offset();
    bool multipart = false;
    bool message = false;
    if (part.content_type.IsMultipart()) {
      const std::string* b = part.content_type.parameters.Find("boundary");
      if (b == nullptr || b->empty()) {
        const HeaderField* ct = part.headers.Find("Content-Type");
        AddDefect(DefectKind::kMissingBoundary,
                  ct != nullptr ? ct->value_offset : part.offset);
      } else {
        multipart = true;
      }
    } else if (part.content_type.IsEncapsulatedMessage() &&
               options_.parse_encapsulated &&
               IsIdentityEncoding(part.encoding)) {
      message = true;
    }
    if ((multipart || message) && part.depth >= max_depth_) {
      AddDefect(DefectKind::kNestingTooDeep, part.offset);
      multipart = message = false;
    }

    if (multipart) {
      Frame f;
      f.kind = FrameKind::kMultipart;
      f.boundary = *part.content_type.parameters.Find("boundary");
      f.digest = part.content_type.subtype == "digest";
      f.part = std::move(part);
      stack_.push_back(std::move(f));
      region_start_ = body_start;
      *scan_from = body_start;
      return absl::OkStatus();
    }
    if (message) {
      const std::size_t depth = part.depth + 1;
      Frame f;
      f.kind = FrameKind::kMessage;
      f.part = std::move(part);
      stack_.push_back(std::move(f));
      absl::StatusOr<MimePart> child = BeginPart(body_start, depth, false);
      if (!child.ok()) return child.status();
      part = *std::move(child);
      continue;
    }
    if (stack_.empty()) {  // a single-part message: nothing to scan
      EndPart(&part, in_.size());
      *root_ = std::move(part);
      *scan_from = in_.size();
      return absl::OkStatus();
    }
    region_start_ = part.offset;
    *scan_from = body_start;
    leaf_ = std::move(part);
    leaf_open_ = true;
    return absl::OkStatus();
  }
}

void TreeParser::EndPart(MimePart* part, std::size_t end) const {
  end = std::max(end, part->offset);
  const std::size_t body_start =
      std::min(std::max(part->headers.body_offset(), part->offset), end);
  part->raw = in_.substr(part->offset, end - part->offset);
  part->body = in_.substr(body_start, end - body_start);
}

void TreeParser::AddToParent(MimePart part) {
  if (stack_.empty()) {
    *root_ = std::move(part);
  } else {
    stack_.back().part.children.push_back(std::move(part));
  }
}

void TreeParser::CloseTopFrame(std::size_t end, bool by_outer,
                               std::size_t at) {
  Frame f = std::move(stack_.back());
  stack_.pop_back();
  MimePart& part = f.part;
  if (leaf_open_) {
    EndPart(&leaf_, end);
    part.children.push_back(std::move(leaf_));
    leaf_open_ = false;
  }
  EndPart(&part, end);
  if (f.kind == FrameKind::kMultipart) {
    const std::size_t body_start = part.offset + (part.raw.size() -
                                                  part.body.size());
    switch (f.state) {
      case MultipartState::kPreamble:
        part.preamble = part.body;
        AddDefect(DefectKind::kNoPartsInMultipart, body_start);
        break;
      case MultipartState::kInPart:
        AddDefect(by_outer ? DefectKind::kBoundaryClosesOuter
                           : DefectKind::kBoundaryNeverClosed,
                  at);
        break;
      case MultipartState::kEpilogue: {
        const std::size_t s = std::min(f.epilogue_start, end);
        part.epilogue = in_.substr(s, end - s);
        break;
      }
    }
  }
  AddToParent(std::move(part));
}

absl::Status TreeParser::Run(MimePart* root) {
  root_ = root;
  absl::StatusOr<MimePart> first = BeginPart(0, 0, false);
  if (!first.ok()) return first.status();
  std::size_t pos = 0;
  if (absl::Status s = Open(*std::move(first), &pos); !s.ok()) return s;

  while (!stack_.empty()) {
    const std::size_t p = FindDashDashLine(in_, pos);
    if (p == kNpos) break;
    std::size_t k;
    DelimiterMatch m;
    if (!MatchAnyOpen(p, &k, &m)) {
      pos = p + 2;
      continue;
    }
    // The line end before the delimiter belongs to the delimiter.
    const std::size_t e = LineEndBefore(in_, p, region_start_);
    while (stack_.size() > k + 1) CloseTopFrame(e, /*by_outer=*/true, p);

    Frame& f = stack_[k];
    if (leaf_open_) {
      EndPart(&leaf_, e);
      f.part.children.push_back(std::move(leaf_));
      leaf_open_ = false;
    }
    if (f.state == MultipartState::kPreamble) {
      const std::size_t bs = std::min(f.part.headers.body_offset(), e);
      f.part.preamble = in_.substr(bs, e - bs);
    }
    if (m.is_close) {
      if (f.state == MultipartState::kPreamble) {
        AddDefect(DefectKind::kNoPartsInMultipart, p);
      }
      f.state = MultipartState::kEpilogue;
      f.epilogue_start = m.line_end;
      region_start_ = m.line_end;
      pos = m.line_end;
      continue;
    }
    f.state = MultipartState::kInPart;
    absl::StatusOr<MimePart> child =
        BeginPart(m.line_end, f.part.depth + 1, f.digest);
    if (!child.ok()) return child.status();
    if (absl::Status s = Open(*std::move(child), &pos); !s.ok()) return s;
  }
  while (!stack_.empty()) {
    CloseTopFrame(in_.size(), /*by_outer=*/false, in_.size());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Message> ParseMessage(std::string_view input,
                                     const ParseOptions& options) {
  Message message;
  TreeParser parser(input, options, &message.defects_);
  if (absl::Status s = parser.Run(&message.root_); !s.ok()) return s;
  return message;
}

}  // namespace posthorn::message
