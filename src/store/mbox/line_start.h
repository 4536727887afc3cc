// store/mbox/line_start.h — classifies the start of a line for mboxrd.
//
// mboxrd: a line matching /^>*From / is quoted on append by one more '>'
// and unquoted on read by removing one. The '>' run may be arbitrarily
// long and may span read buffers, so the classifier is fed one byte at a
// time (only at line starts; the rest of a line is scanned with memchr)
// and keeps its state between buffers. It never needs more memory than
// two counters.

#ifndef POSTHORN_SRC_STORE_MBOX_LINE_START_H_
#define POSTHORN_SRC_STORE_MBOX_LINE_START_H_

#include <cstdint>

#include "store/mbox/from_line.h"

namespace posthorn::store::mbox {

class LineStartClassifier {
 public:
  enum class Result {
    kUndecided,   // byte consumed, need more
    kFromLine,    // "From " with no '>' (last byte consumed)
    kQuotedFrom,  // ">...>From " with gt_count() >= 1 (last byte consumed)
    kPlain,       // anything else; the byte passed in was NOT consumed
  };

  // Feeds the next byte of the line. After kPlain the caller re-reads that
  // byte as ordinary line content (it may be the line's '\n').
  Result Feed(char c) {
    if (from_matched_ == 0 && c == '>') {
      ++gt_count_;
      return Result::kUndecided;
    }
    if (c == kFromPrefix[from_matched_]) {
      if (++from_matched_ < kFromPrefix.size()) return Result::kUndecided;
      return gt_count_ == 0 ? Result::kFromLine : Result::kQuotedFrom;
    }
    return Result::kPlain;
  }

  // Bytes consumed so far: gt_count() '>' then the first from_matched()
  // bytes of "From ".
  std::uint64_t gt_count() const { return gt_count_; }
  std::size_t from_matched() const { return from_matched_; }
  bool started() const { return gt_count_ != 0 || from_matched_ != 0; }

  void Reset() {
    gt_count_ = 0;
    from_matched_ = 0;
  }

 private:
  std::uint64_t gt_count_ = 0;
  std::size_t from_matched_ = 0;
};

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_LINE_START_H_
