// tools/popauth/secret_prompt.h — reading a secret without echo.
//
// PURPOSE
//   popauth -user asks for the secret twice ("Password:", "Again:") with
//   echo off when stdin is a terminal, and reads exactly one line when it
//   is not (scripts: `echo secret | popauth -user bob`).
//
// GUARANTEES
//   The terminal's settings are restored on every path: normal return,
//   error, and SIGINT/SIGTERM/SIGHUP/SIGQUIT while echo is off (the handler
//   restores them, then the signal's default action runs). Buffers that
//   held a secret are wiped (explicit_bzero) before they are released.
//
// LIMITS
//   At most kMaxSecretInput octets per line; a longer line is refused, not
//   cut. A trailing CR and/or LF is removed.

#ifndef POSTHORN_TOOLS_POPAUTH_SECRET_PROMPT_H_
#define POSTHORN_TOOLS_POPAUTH_SECRET_PROMPT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace posthorn::tools {

inline constexpr std::size_t kMaxSecretInput = 1024;

// Reads the secret from `in_fd`, prompting on `prompt_fd` when `in_fd` is
// a terminal. InvalidArgument: empty, too long, or the two entries differ.
absl::StatusOr<std::string> ReadSecret(int in_fd, int prompt_fd);

// Overwrites the string's bytes, then clears it.
void WipeString(std::string* text);

}  // namespace posthorn::tools

#endif  // POSTHORN_TOOLS_POPAUTH_SECRET_PROMPT_H_
