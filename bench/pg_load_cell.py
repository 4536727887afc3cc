#!/usr/bin/env python3
"""bench/pg_load_cell.py — one MTA cell of bench/pg_load.sh.

Runs one Postfix smtp-source per MTA node at once (each with --sessions
sessions and --count messages, to its own 127.0.0.1 port), then watches the
recipient's maildrop until it holds every message, and prints one line:

    ACCEPT_SECONDS DELIVER_SECONDS DELIVERED_COUNT CPU_MS_PER_MESSAGE

ACCEPT_SECONDS is the wall time until the last smtp-source finished (every
message accepted with 250 after DATA); DELIVER_SECONDS the time from the
start until the maildrop holds nodes * COUNT messages. DELIVERED_COUNT is
the number half a second after that (so a duplicate shows).
CPU_MS_PER_MESSAGE is the CPU time the whole machine was busy (every
process: clients, nodes, database; /proc/stat) from the start until every
message was delivered, divided by the messages: on a machine that the load
saturates it tells whether a second node adds work per message, which the
rates cannot. Exit status 0
when the count is exactly nodes * COUNT, 1 otherwise (then the seconds that
could not be measured are "fail").

The maildrop is either an mbox file (--mbox: "From " lines counted as
bench/mta_load_cell.py does) or the PostgreSQL store (--dsn: the rows of
the maildrop table for the user, asked through one psql process kept open
for the whole cell). Loopback only; every wait is bounded (--timeout).
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mta_load_cell import MboxCounter, wait_for_count  # noqa: E402

POLL_SECONDS = 0.02
SETTLE_SECONDS = 0.5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def busy_ticks():
    """CPU ticks the machine spent on anything but idle and I/O wait."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is in user)
    return sum(fields[:8]) - fields[3] - fields[4]


class PgCounter:
    """Counts a user's maildrop rows through one open psql session."""

    def __init__(self, psql, dsn, user):
        self.user = user
        self.proc = subprocess.Popen(
            [psql, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.count = 0

    def poll(self):
        # The user name was checked in main() ([a-z0-9_]); -A -t prints the
        # count alone on one line.
        self.proc.stdin.write(
            "SELECT count(*) FROM maildrop WHERE user_name = "
            f"'{self.user}';\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("psql ended")
        self.count = int(line.strip())
        return self.count

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smtp-source", required=True)
    ap.add_argument("--port", type=int, action="append", required=True,
                    help="one per MTA node")
    ap.add_argument("--sessions", type=int, required=True,
                    help="per node")
    ap.add_argument("--count", type=int, required=True, help="per node")
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--to", required=True, help="user@localhost")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--mbox")
    where.add_argument("--dsn")
    ap.add_argument("--psql", default="psql")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--log", default=os.devnull)
    args = ap.parse_args()

    user = args.to.split("@")[0]
    if not user.replace("_", "").isalnum() or not user.islower():
        ap.error("--to: the user must be [a-z0-9_]")
    total = args.count * len(args.port)
    counter = (MboxCounter(args.mbox) if args.mbox
               else PgCounter(args.psql, args.dsn, user))
    try:
        start = time.monotonic()
        busy_start = busy_ticks()
        deadline = start + args.timeout
        with open(args.log, "ab") as log:
            procs = [subprocess.Popen(
                [args.smtp_source, "-s", str(args.sessions), "-m",
                 str(args.count), "-l", str(args.size), "-f",
                 "bench@localhost", "-t", args.to, "-M", "client.localhost",
                 f"127.0.0.1:{port}"], stdout=log, stderr=log)
                for port in args.port]
            rcs = []
            for p in procs:
                try:
                    rcs.append(p.wait(timeout=max(1.0, deadline -
                                                  time.monotonic())))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    rcs.append(-1)
        accepted = time.monotonic()
        if any(rcs):
            print(f"fail fail {counter.poll()} fail")
            print(f"smtp-source exited with {rcs} (log: {args.log})",
                  file=sys.stderr)
            return 1
        delivered = wait_for_count(counter, total, deadline, POLL_SECONDS)
        if delivered is None:
            print(f"{accepted - start:.4f} fail {counter.count} fail")
            print(f"timeout: {counter.count} of {total} messages delivered "
                  f"after {args.timeout:.0f} s", file=sys.stderr)
            return 1
        busy = busy_ticks() - busy_start
        time.sleep(SETTLE_SECONDS)
        final = counter.poll()
        cpu_ms = busy * 1000.0 / CLOCK_TICKS / total
        print(f"{accepted - start:.4f} {delivered - start:.4f} {final} "
              f"{cpu_ms:.3f}")
        return 0 if final == total else 1
    finally:
        if isinstance(counter, PgCounter):
            counter.close()


if __name__ == "__main__":
    sys.exit(main())
