#!/usr/bin/env python3
"""bench/mta_load_cell.py — one cell of bench/mta_load.sh.

Runs Postfix's smtp-source against an MTA on 127.0.0.1, then watches the
recipient's mbox until every message is in it, and prints one line:

    ACCEPT_SECONDS DELIVER_SECONDS DELIVERED_COUNT

ACCEPT_SECONDS is the wall time of the smtp-source run (every message
accepted with 250 after DATA); DELIVER_SECONDS the time from the start of
that run until the mbox holds COUNT messages (a message counts when its
"From " separator line is there). DELIVERED_COUNT is the number of
messages in the mbox half a second after that (so a duplicate shows). The
exit status is 0 when the count is exactly COUNT, 1 otherwise (timeout,
smtp-source failure: then the seconds printed are "fail").

The mbox is read incrementally (only the bytes appended since the last
poll), every POLL_SECONDS, so watching a 50 MB mbox costs little CPU.
Loopback only; every wait is bounded (--timeout).
"""

import argparse
import os
import subprocess
import sys
import time

POLL_SECONDS = 0.01
READ_CHUNK = 1 << 20      # bytes read per call
SEPARATOR = b"\nFrom "    # an mbox message starts with a "From " line
SETTLE_SECONDS = 0.5      # wait after the last message, to see duplicates


class MboxCounter:
    """Counts "From " lines of a file that only grows (restarts if it
    shrinks or is replaced)."""

    def __init__(self, path):
        self.path = path
        self.reset()

    def reset(self):
        self.offset = 0
        self.count = 0
        self.inode = None
        # The byte before the file: a "From " at offset 0 starts a line.
        self.carry = b"\n"

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                if st.st_ino != self.inode or st.st_size < self.offset:
                    self.reset()
                    self.inode = st.st_ino
                f.seek(self.offset)
                while True:
                    chunk = f.read(READ_CHUNK)
                    if not chunk:
                        break
                    self.offset += len(chunk)
                    data = self.carry + chunk
                    self.count += data.count(SEPARATOR)
                    # A separator cut by the end of this chunk is counted
                    # with the next one; len(carry) < len(SEPARATOR) so
                    # none is counted twice.
                    self.carry = data[-(len(SEPARATOR) - 1):]
        except FileNotFoundError:
            self.reset()
        return self.count


def wait_for_count(counter, total, deadline, poll_seconds=POLL_SECONDS):
    """Polls `counter` until it reaches `total`: the monotonic time it did,
    or None when `deadline` passed first."""
    while time.monotonic() < deadline:
        if counter.poll() >= total:
            return time.monotonic()
        time.sleep(poll_seconds)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smtp-source", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--mbox", required=True)
    ap.add_argument("--from", dest="sender", default="bench@localhost")
    ap.add_argument("--to", required=True)
    ap.add_argument("--keep", action="store_true",
                    help="smtp-source -d: messages follow each other on a "
                         "session (default: one connection per message)")
    ap.add_argument("--timeout", type=float, default=300.0,
                    help="bound on the whole cell, seconds")
    ap.add_argument("--log", default=os.devnull,
                    help="file for smtp-source's output")
    args = ap.parse_args()

    cmd = [args.smtp_source, "-s", str(args.sessions), "-m", str(args.count),
           "-l", str(args.size), "-f", args.sender, "-t", args.to,
           "-M", "client.localhost"]
    if args.keep:
        cmd.append("-d")
    cmd.append(f"127.0.0.1:{args.port}")

    counter = MboxCounter(args.mbox)
    start = time.monotonic()
    deadline = start + args.timeout
    with open(args.log, "ab") as log:
        try:
            rc = subprocess.run(cmd, stdout=log, stderr=log,
                                timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = -1
    accepted = time.monotonic()
    if rc != 0:
        print(f"fail fail {counter.poll()}")
        print(f"smtp-source exited with {rc} (log: {args.log})",
              file=sys.stderr)
        return 1

    delivered = wait_for_count(counter, args.count, deadline)
    if delivered is None:
        print(f"{accepted - start:.4f} fail {counter.poll()}")
        print(f"timeout: {counter.count} of {args.count} messages delivered "
              f"after {args.timeout:.0f} s", file=sys.stderr)
        return 1
    time.sleep(SETTLE_SECONDS)
    final = counter.poll()
    print(f"{accepted - start:.4f} {delivered - start:.4f} {final}")
    return 0 if final == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
