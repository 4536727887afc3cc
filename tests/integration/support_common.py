"""What the SMTP, POP3 and MTA integration helpers share (python3 stdlib
only). smtp_support.py, pop3_support.py and mta_support.py import this;
the tests import those.

What is here:
  - take_path_options() / require_executable() / run_main(): program
    paths from the command line (--NAME PATH, removed from sys.argv so
    unittest does not see them), checked before use;
  - make_cert(): a throw-away self-signed certificate made with the openssl
    command line (CN=localhost, SAN localhost/127.0.0.1/::1), once per
    process; insecure_context() / verifying_context() for clients;
  - crlf(): LF (not after CR) becomes CRLF and the last line is ended;
  - check_sanitizers(): fails on an AddressSanitizer / LeakSanitizer /
    UBSan report in a program's output;
  - split_endpoint() / listening_re() / wait_listening(): the
    "[PROGRAM: ]listening on HOST:PORT" lines the daemons print;
  - ServerProcess: the end of a daemon's life (SIGTERM, bounded, then
    SIGKILL; or SIGKILL at once), for Popper, SinkServer and Daemon;
  - RawSocket: the byte-level part of the raw SMTP and POP3 clients;
  - free_port() / wait_until(): a loopback port free a moment ago, and a
    bounded wait for a condition.

All traffic stays on the loopback; every wait is bounded.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

# Bounds on every wait, in seconds (mta_support.py has its own).
START_TIMEOUT = 30.0
REPLY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

# A line of a raw client longer than this without a line end fails.
MAX_RAW_LINE = 1 << 24


# ---------------------------------------------------------------------------
# Programs and the command line

def take_path_options(paths, flags):
    """Takes every `--flag PATH` of `flags` (flag -> key of `paths`) out of
    sys.argv and stores the absolute PATH in paths[key]."""
    args = sys.argv[1:]
    rest = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in flags and i + 1 < len(args):
            paths[flags[a]] = os.path.abspath(args[i + 1])
            i += 2
            continue
        rest.append(a)
        i += 1
    sys.argv[1:] = rest


def require_executable(path, what, hint):
    """`path`, or an AssertionError naming `what` and the option to use."""
    if not path or not os.access(path, os.X_OK):
        raise AssertionError("%s not given or not executable: %r (use %s)" %
                             (what, path, hint))
    return path


def run_main(parse_argv):
    """parse_argv(), then the unittest main program."""
    import unittest
    parse_argv()
    unittest.main()


# ---------------------------------------------------------------------------
# Certificates and client TLS contexts

_cert_dir = None
_cert_lock = threading.Lock()


def make_cert():
    """Returns (cert_file, key_file), generated once per process."""
    global _cert_dir
    with _cert_lock:
        if _cert_dir is None:
            d = tempfile.mkdtemp(prefix="posthorn-cert-")
            atexit.register(shutil.rmtree, d, True)
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-subj", "/CN=localhost", "-days", "1",
                 "-addext",
                 "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
                 "-keyout", os.path.join(d, "key.pem"),
                 "-out", os.path.join(d, "cert.pem")],
                check=True, capture_output=True, timeout=60)
            _cert_dir = d
        return (os.path.join(_cert_dir, "cert.pem"),
                os.path.join(_cert_dir, "key.pem"))


def insecure_context():
    """Client context that accepts the self-signed test certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def verifying_context():
    """Client context that trusts exactly the test certificate."""
    cert, _ = make_cert()
    context = ssl.create_default_context(cafile=cert)
    context.check_hostname = True
    return context


# ---------------------------------------------------------------------------
# Messages

def crlf(data):
    """LF (not after CR) becomes CRLF; the last line is ended with CRLF:
    what a client sends for a message, and what popper sends for a stored
    one."""
    data = re.sub(rb"(?<!\r)\n", b"\r\n", data)
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


# ---------------------------------------------------------------------------
# Daemons

# What AddressSanitizer, LeakSanitizer and UBSan print (builds with
# -Db_sanitize=address,undefined): any of it fails the test.
_SANITIZER_RE = re.compile(rb"ERROR: (Address|Leak)Sanitizer|"
                           rb"runtime error: |SUMMARY: \w+Sanitizer")


def check_sanitizers(stderr, what):
    m = _SANITIZER_RE.search(stderr or b"")
    if m:
        start = max(0, m.start() - 200)
        raise AssertionError("%s: sanitizer report:\n%s" %
                             (what, stderr[start:start + 4000].decode(
                                 "utf-8", "replace")))


def split_endpoint(endpoint):
    """'127.0.0.1:25' -> ('127.0.0.1', 25); '[::1]:25' -> ('::1', 25)."""
    host, _, port = endpoint.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def listening_re(prefix=""):
    """Matches the "PREFIXlistening on ENDPOINT" lines ("popper: ")."""
    return re.compile(re.escape(prefix) + r"listening on (\S+)")


def wait_listening(proc, text, regex, count=1, timeout=START_TIMEOUT):
    """Waits until text() holds `count` lines matching `regex`; returns
    their endpoints [(host, port)], or None when `proc` ended first or the
    time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = regex.findall(text())
        if len(found) >= count:
            return [split_endpoint(e) for e in found]
        if proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


class ServerProcess:
    """A daemon a test started (self.proc, a Popen): its endpoints and its
    end. Subclasses start it; _reaped() runs once it has exited."""

    STOP_TIMEOUT = STOP_TIMEOUT

    def __init__(self):
        self.proc = None
        self.endpoints = []
        self.returncode = None

    @property
    def host(self):
        return self.endpoints[0][0]

    @property
    def port(self):
        return self.endpoints[0][1]

    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=None):
        """SIGTERM; the exit status, or None when SIGKILL was needed (or it
        never started)."""
        if self.proc is None:
            return None
        if timeout is None:
            timeout = self.STOP_TIMEOUT
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self._reaped()
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        """SIGKILL, no clean-up: what a crash or the OOM killer does."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=self.STOP_TIMEOUT)
        if self.proc is not None:
            self._reaped()

    def _reaped(self):
        pass


# ---------------------------------------------------------------------------
# Raw clients

class RawSocket:
    """A client socket read byte for byte: `buf` holds what is not read
    yet, `received` every byte ever read (for transcripts)."""

    # What read_until_close() takes for "the server closed".
    CLOSE_ERRORS = (EOFError, ConnectionResetError)

    def __init__(self, sock, timeout):
        self.timeout = timeout
        sock.settimeout(timeout)
        self.sock = sock
        self.buf = b""
        self.received = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed; unread: %r" % self.buf)
        self.buf += chunk
        self.received += chunk

    def line(self):
        """The next line, without its CRLF."""
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_RAW_LINE:
                raise AssertionError("no line end in %d bytes" %
                                     MAX_RAW_LINE)
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def read_until_close(self, limit=1 << 20):
        """Everything the server sends until it closes (bounded)."""
        try:
            while len(self.buf) < limit:
                self._fill()
        except self.CLOSE_ERRORS:
            pass
        data, self.buf = self.buf, b""
        return data

    def starttls(self, context=None):
        """Wraps the socket in TLS (after the server said yes)."""
        self.sock = (context or insecure_context()).wrap_socket(
            self.sock, server_hostname="localhost")
        return self.sock


# ---------------------------------------------------------------------------
# Ports and waiting

def free_port(host="127.0.0.1"):
    """A TCP port that was free when asked (a daemon started right after
    binds it; SO_REUSEADDR on both sides makes TIME_WAIT harmless)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, step=0.02):
    """True as soon as predicate() is; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
