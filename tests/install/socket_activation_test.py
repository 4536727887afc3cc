#!/usr/bin/env python3
"""tests/install/socket_activation_test.py — popper under socket activation.

popper.socket (Accept=yes) + popper@.service start one popper per
connection with the connection on stdin and stdout, like inetd. This test
runs the same model without the real systemd: `systemd-socket-activate
--inetd --accept -l 127.0.0.1:PORT popper -s` on a loopback port, then two
POP3 sessions with Python's poplib: the first reads and deletes the
message, the second (a new popper process) finds the maildrop empty.

Usage: socket_activation_test.py POPPER POPAUTH. Exit 77 (meson: skipped)
when systemd-socket-activate is not installed.
"""
import os
import poplib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
MESSAGE = (
    "From sender@example.org Thu Nov 26 09:00:00 2026\n"
    "From: sender@example.org\n"
    "To: alice@example.org\n"
    "Subject: socket activated\n"
    "\n"
    "one popper per connection\n"
    "\n"
)


def free_port():
    """A loopback port free right now (the activator binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            # A bare connect would start a popper; the activator prints
            # its line once it listens, so poll its socket table instead.
            with open("/proc/net/tcp", encoding="ascii") as f:
                if any(f":{port:04X} " in line and " 0A " in line
                       for line in f):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def main(popper, popauth):
    activate = shutil.which("systemd-socket-activate")
    if activate is None:
        print("skipped: systemd-socket-activate not installed "
              "(Debian package systemd)")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "posthorn.conf")
        os.mkdir(os.path.join(tmp, "spool"))
        with open(conf, "w", encoding="ascii") as f:
            f.write("hostname = pop.example.org\n"
                    "spool_dir = spool\n"
                    "auth_db = pop.auth\n"
                    "plaintext_auth = yes\n"
                    "pop3_failed_login_delay = 0\n"
                    "run_as =\n")
        subprocess.run([popauth, "-C", conf, "-init"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([popauth, "-C", conf, "-user", "alice"], check=True,
                       input=b"wonderland\n", stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "spool", "alice"), "w",
                  encoding="ascii") as f:
            f.write(MESSAGE)

        for _ in range(5):  # the port may be taken between probe and bind
            port = free_port()
            proc = subprocess.Popen(
                [activate, "--inetd", "--accept",
                 "-l", f"127.0.0.1:{port}", popper, "-C", conf, "-s"],
                stdout=subprocess.DEVNULL)  # its log: stderr
            if wait_listening(port, proc):
                break
            proc.kill()
            proc.wait()
        else:
            print("systemd-socket-activate did not listen", file=sys.stderr)
            return 1
        try:
            first = poplib.POP3("127.0.0.1", port, timeout=10)
            greeting = first.getwelcome().decode()
            assert greeting.startswith("+OK"), greeting
            first.user("alice")
            first.pass_("wonderland")
            count, size = first.stat()
            assert count == 1, f"STAT {count} {size}"
            _, lines, _ = first.retr(1)
            text = b"\n".join(lines).decode()
            assert "Subject: socket activated" in text, text
            first.dele(1)
            first.quit()

            second = poplib.POP3("127.0.0.1", port, timeout=10)
            second.user("alice")
            second.pass_("wonderland")
            count, _ = second.stat()
            assert count == 0, f"second session: STAT {count}"
            second.quit()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(f"popper per connection via {activate} --inetd: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
