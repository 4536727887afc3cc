// store/mbox/scanner.h — finds the messages of an mbox by reading it.
//
// A message starts at a line beginning "From " (as python's mailbox and
// mutt split; posthorn's own appends quote every such body line) and runs
// to the next one or the end of the file. Its stored content is what
// follows the "From " line, minus one empty line before the next "From "
// (or the end): the separator. A last message cut off by the end of the
// file is still a message (a reader adds the missing line end).
//
// The file is read with pread in 1 MiB chunks, never whole: memchr finds
// line ends, and only the first bytes of each line are looked at one by
// one (LineStartClassifier). Each message is also digested for its UID.

#ifndef POSTHORN_SRC_STORE_MBOX_SCANNER_H_
#define POSTHORN_SRC_STORE_MBOX_SCANNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/mbox/index_format.h"

namespace posthorn::store::mbox {

// Scans bytes [start, end) of the open mbox `fd`; `start` must be the
// start of a "From " line (or equal `end`). Entries get offsets, sizes and
// base UIDs (uid.h; not yet made unique). DataLoss naming `path` when the
// bytes at `start` are not a "From " line; Unavailable on read errors.
absl::StatusOr<std::vector<IndexEntry>> ScanMbox(int fd,
                                                 const std::string& path,
                                                 std::uint64_t start,
                                                 std::uint64_t end);

// True when the bytes at `offset` of `fd` begin with "From " (cheap
// check that an index still points at message starts).
bool StartsWithFromLine(int fd, std::uint64_t offset);

}  // namespace posthorn::store::mbox

#endif  // POSTHORN_SRC_STORE_MBOX_SCANNER_H_
