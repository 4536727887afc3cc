#!/usr/bin/env python3
"""Memory per idle SMTP connection, measured from /proc/PID/status.

Starts the server, reads VmRSS, opens N TCP connections to it on loopback
(each one reads its 220 greeting and then stays silent), waits for the
server to settle, reads VmRSS again, and prints

    (VmRSS after - VmRSS before) / connections greeted

as bytes per idle connection. The connections are then closed and the
server stopped. Two servers are known:

  idle_connections.py --posthorn PATH/smtp_sink_server [-n 1000]
  idle_connections.py --smtp-sink /usr/sbin/smtp-sink  [-n 1000]

The posthorn sink is run with --no-store on 127.0.0.1 port 0 (and
--max-connections N+100 when its --help lists that option); Postfix's
smtp-sink on a free 127.0.0.1 port with -m N+100 (its default of 256
simultaneous connections would queue the rest in the kernel) and, as root,
-u nobody. Both get RLIMIT_NOFILE raised to N+256 (within the hard limit).
Output: one line "RESULT <name> <connections> <bytes_per_connection>" for
scripts, after a readable summary. Loopback only; every wait is bounded.
"""

import argparse
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

GREETING_TIMEOUT = 30.0
SETTLE_SECONDS = 1.0


def vm_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=GREETING_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %d" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server not listening on %d" % port)


def start_posthorn(binary, n, workdir):
    out_path = os.path.join(workdir, "stdout")
    args = [binary, "--listen", "127.0.0.1:0", "--dir", workdir, "--no-store"]
    # The default connection limit is 1,000: lift it when the sink lets us.
    usage = subprocess.run([binary, "--help"], capture_output=True,
                           timeout=30)
    if b"--max-connections" in usage.stdout + usage.stderr:
        args += ["--max-connections", str(n + 100)]
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            preexec_fn=lambda: raise_nofile(n + 256))
    deadline = time.monotonic() + GREETING_TIMEOUT
    while time.monotonic() < deadline:
        with open(out_path) as f:
            m = re.search(r"listening on \S+:(\d+)", f.read())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("smtp_sink_server did not print 'listening on'")


def start_smtp_sink(binary, n):
    port = free_port()
    args = [binary, "-m", str(n + 100)]
    if os.geteuid() == 0:
        args += ["-u", "nobody"]
    args += ["127.0.0.1:%d" % port, str(min(n + 100, 4096))]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL,
                            preexec_fn=lambda: raise_nofile(n + 256))
    wait_listening(port, proc)
    # The probe connection above is gone; let the server forget it.
    time.sleep(0.2)
    return proc, port


def read_greetings(socks, timeout=GREETING_TIMEOUT):
    """Reads each socket's first reply line; returns the reply codes."""
    pending = {s.fileno(): s for s in socks}
    got = {}
    bufs = {fd: b"" for fd in pending}
    deadline = time.monotonic() + timeout
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLIN)
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            s = pending.get(fd)
            if s is None:
                continue
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            bufs[fd] += chunk
            if b"\r\n" in bufs[fd] or not chunk:
                got[fd] = bufs[fd][:3].decode("ascii", "replace") or "EOF"
                poller.unregister(fd)
                del pending[fd]
    for fd in pending:
        got[fd] = "timeout"
    return got


def measure(proc, port, n):
    time.sleep(SETTLE_SECONDS)
    before = vm_rss(proc.pid)
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(GREETING_TIMEOUT)
            s.connect(("127.0.0.1", port))
            socks.append(s)
        codes = read_greetings(socks)
        time.sleep(SETTLE_SECONDS)
        after = vm_rss(proc.pid)
    finally:
        for s in socks:
            s.close()
    greeted = sum(1 for c in codes.values() if c == "220")
    return before, after, greeted, codes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--posthorn", metavar="SMTP_SINK_SERVER")
    group.add_argument("--smtp-sink", metavar="SMTP_SINK")
    parser.add_argument("-n", "--connections", type=int, default=1000)
    args = parser.parse_args()
    n = args.connections
    raise_nofile(n + 256)
    workdir = tempfile.mkdtemp(prefix="posthorn-idle-")
    proc = None
    try:
        if args.posthorn:
            name = "posthorn"
            proc, port = start_posthorn(args.posthorn, n, workdir)
        else:
            name = "smtp-sink"
            proc, port = start_smtp_sink(args.smtp_sink, n)
        before, after, greeted, codes = measure(proc, port, n)
        others = {}
        for c in codes.values():
            if c != "220":
                others[c] = others.get(c, 0) + 1
        per = (after - before) / greeted if greeted else float("nan")
        print("%s: VmRSS %d KiB before, %d KiB with %d connections "
              "(%d greeted with 220%s): %.0f bytes per idle connection "
              "(target < 65536)" %
              (name, before // 1024, after // 1024, n, greeted,
               "; others: %r" % others if others else "", per))
        print("RESULT %s %d %.0f" % (name, greeted, per))
        return 0 if greeted else 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
