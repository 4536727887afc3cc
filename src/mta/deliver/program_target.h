// mta/deliver/program_target.h — an alias program target ("|command"):
// the message piped to /bin/sh -c command.
//
// The message goes to the command's stdin with LF line ends (what local
// mail filters expect), without a "From " line. The environment is
// minimal: PATH=/usr/bin:/bin, SHELL=/bin/sh, HOME=/, SENDER (envelope
// sender, "" for the null sender), RECIPIENT (the original recipient).
// The command runs in its own process group; after `timeout` the whole
// group is killed. Its stdout and stderr are collected (at most
// kMaxProgramOutput bytes; the rest discarded) and the first line goes
// into the reply.
//
// Results (sendmail's and Postfix's conventions):
//   exit 0                     kSent     "250 2.0.0 delivered to command"
//   exit 75 (EX_TEMPFAIL)      kDeferred "451 4.3.0 ..."
//   time limit, spawn failure  kDeferred "451 4.3.0 ..."
//   other exit, killed         kBounced  "550 5.3.0 ..."
// A command that stops reading its input early is not an error by
// itself: the exit status decides.

#ifndef POSTHORN_SRC_MTA_DELIVER_PROGRAM_TARGET_H_
#define POSTHORN_SRC_MTA_DELIVER_PROGRAM_TARGET_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "mta/deliver/target_result.h"
#include "posthorn/mta/delivery.h"

namespace posthorn::mta::deliver {

inline constexpr std::size_t kMaxProgramOutput = 1024;

struct ProgramRun {
  std::string command;  // without the '|'
  std::string sender;
  std::string recipient;
  std::chrono::seconds timeout{60};
};

TargetResult RunProgram(const ProgramRun& run, const DataOpener& open_data);

}  // namespace posthorn::mta::deliver

#endif  // POSTHORN_SRC_MTA_DELIVER_PROGRAM_TARGET_H_
