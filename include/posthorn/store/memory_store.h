// posthorn/store/memory_store.h — maildrops in memory.
//
// PURPOSE
//   A Mailstore that keeps everything in the process: for tests of code
//   above the store, and for programs that embed a POP3 server over their
//   own data. Same guarantees as the file stores except durability; thread
//   safe. Messages are kept with LF line ends and read back exactly as the
//   Maildir store reads them; UIDs are "m<n>", never reused while the
//   store lives; an empty message is refused. Sessions and readers may
//   outlive the store.

#ifndef POSTHORN_STORE_MEMORY_STORE_H_
#define POSTHORN_STORE_MEMORY_STORE_H_

#include <memory>

#include "posthorn/store/mailstore.h"

namespace posthorn::store {

std::unique_ptr<Mailstore> MakeMemoryStore();

}  // namespace posthorn::store

#endif  // POSTHORN_STORE_MEMORY_STORE_H_
