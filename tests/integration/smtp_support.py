"""Shared helpers for the SMTP integration tests (python3 stdlib only).

What is here:
  - binaries(): the paths of smtp_sink_server and send_mail, taken from the
    command line (--sink PATH, --send-mail PATH, removed from sys.argv so
    unittest does not see them) or from the environment (SMTP_SINK_SERVER,
    SEND_MAIL);
  - make_cert(), insecure_context(), check_sanitizers(): from
    support_common.py (shared with pop3_support.py and mta_support.py);
    canonical() is its crlf();
  - SinkServer: runs the real smtp_sink_server on a loopback port 0, reads
    "listening on ADDR:PORT", lists the stored messages with their .env
    sidecars, and always kills the process in stop();
  - RawClient: a socket that reads whole (multi-line) SMTP replies, for the
    hostile tests;
  - PyReceiver: a tiny threaded SMTP receiver whose replies can be scripted
    (451 to MAIL, 550 to RCPT, ...), to test send_mail against a peer that
    is not posthorn.

All traffic stays on 127.0.0.1 / ::1; every wait is bounded.
"""

import json
import os
import re
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time

import support_common as common
# Bounds on every wait (seconds), and helpers the tests use as sup.NAME.
from support_common import (REPLY_TIMEOUT, START_TIMEOUT, STOP_TIMEOUT,
                            check_sanitizers, insecure_context, make_cert)

_paths = {"sink": os.environ.get("SMTP_SINK_SERVER", ""),
          "send_mail": os.environ.get("SEND_MAIL", "")}


def parse_argv():
    """Takes --sink PATH / --send-mail PATH out of sys.argv."""
    common.take_path_options(_paths, {"--sink": "sink",
                                      "--send-mail": "send_mail"})


def sink_binary():
    return _paths["sink"]


def send_mail_binary():
    return _paths["send_mail"]


def have_ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Messages

# What a message file must hold after a client converted LF to CRLF and
# ended the last line.
canonical = common.crlf


def strip_received(data):
    """Removes a leading Received: field (with its folded lines)."""
    if not data.startswith(b"Received:"):
        raise AssertionError("no leading Received: field: %r" % data[:80])
    pos = 0
    while True:
        end = data.index(b"\r\n", pos) + 2
        pos = end
        if data[pos:pos + 1] not in (b" ", b"\t"):
            return data[:pos], data[pos:]


def bare_address(value):
    """'<a@x>' and 'a@x' compare equal; dict forms keep their address."""
    if isinstance(value, dict):
        for key in ("address", "path", "mailbox"):
            if key in value:
                value = value[key]
                break
    if isinstance(value, str) and value[:1] == "<" and value[-1:] == ">":
        value = value[1:-1]
    return value


class Stored:
    """One stored message: its bytes and its envelope sidecar."""

    def __init__(self, name, data, envelope):
        self.name = name
        self.data = data
        self.envelope = envelope

    @property
    def mail_from(self):
        return bare_address(self.envelope["mail_from"])

    @property
    def recipients(self):
        return [bare_address(r) for r in self.envelope["recipients"]]

    def __repr__(self):
        return "Stored(%s, %d bytes, %r)" % (self.name, len(self.data),
                                             self.envelope)


# ---------------------------------------------------------------------------
# The real smtp_sink_server

_LISTEN_RE = common.listening_re()


class SinkServer(common.ServerProcess):
    """Runs smtp_sink_server; stop() always kills it."""

    def __init__(self, extra_args=(), listen=("127.0.0.1:0",), tls=False,
                 store=True):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="posthorn-sink-")
        self.maildir = os.path.join(self.dir, "mail")
        os.mkdir(self.maildir)
        self.args = [sink_binary()]
        for endpoint in listen:
            self.args += ["--listen", endpoint]
        self.args += ["--dir", self.maildir]
        if tls:
            cert, key = make_cert()
            self.args += ["--tls-cert", cert, "--tls-key", key]
        if not store:
            self.args.append("--no-store")
        self.args += list(extra_args)
        self.expected_endpoints = len(listen)
        self.stdout_path = os.path.join(self.dir, "stdout")
        self.stderr_path = os.path.join(self.dir, "stderr")

    def start(self):
        # stdout and stderr go to files: no pipe can fill up and block the
        # server, and both can be shown when a test fails.
        with open(self.stdout_path, "wb") as out, \
                open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        found = common.wait_listening(self.proc, self.stdout_text,
                                      _LISTEN_RE, self.expected_endpoints,
                                      START_TIMEOUT)
        if found is not None:
            self.endpoints = found
            return self
        self.stop()
        raise AssertionError("smtp_sink_server did not start: %s\n%s" %
                             (self.args, self.diagnostics()))

    def stdout_text(self):
        with open(self.stdout_path, "r", errors="replace") as f:
            return f.read()

    @property
    def address(self):
        """'127.0.0.1:PORT' or '[::1]:PORT' for the first endpoint."""
        host, port = self.endpoints[0]
        return ("[%s]:%d" % (host, port)) if ":" in host else \
            ("%s:%d" % (host, port))

    def diagnostics(self):
        text = []
        for path in (self.stdout_path, self.stderr_path):
            try:
                with open(path, "r", errors="replace") as f:
                    text.append("%s:\n%s" % (os.path.basename(path),
                                             f.read()[-4000:]))
            except OSError:
                pass
        return "\n".join(text)

    def stop(self):
        """Kills the server; fails if a sanitizer reported anything."""
        self.kill()
        try:
            with open(self.stderr_path, "rb") as f:
                stderr = f.read()
        except OSError:
            stderr = b""
        shutil.rmtree(self.dir, ignore_errors=True)
        check_sanitizers(stderr, "smtp_sink_server")

    def names(self):
        return sorted(n for n in os.listdir(self.maildir)
                      if not n.endswith(".env") and not n.startswith("."))

    def all_files(self):
        return sorted(os.listdir(self.maildir))

    def messages(self):
        """Every stored message with its parsed sidecar."""
        out = []
        for name in self.names():
            with open(os.path.join(self.maildir, name), "rb") as f:
                data = f.read()
            env_path = os.path.join(self.maildir, name + ".env")
            if not os.path.exists(env_path):
                raise AssertionError("%s has no .env sidecar (files: %s)" %
                                     (name, self.all_files()))
            with open(env_path, "rb") as f:
                envelope = json.loads(f.read().decode("utf-8"))
            out.append(Stored(name, data, envelope))
        return out

    def wait_messages(self, count, timeout=10.0):
        """The 250 comes after the commit, so this rarely has to wait."""
        found = []

        def enough():
            found[:] = self.messages()
            return len(found) >= count
        common.wait_until(enough, timeout, 0.05)
        return found


# ---------------------------------------------------------------------------
# Raw SMTP client for hostile tests

class RawClient(common.RawSocket):
    def __init__(self, host, port, timeout=REPLY_TIMEOUT):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__(socket.socket(family, socket.SOCK_STREAM), timeout)
        self.sock.connect((host, port))

    def reply(self):
        """One whole reply: (code, [lines])."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), lines

    def quiet_for(self, seconds):
        """True when no byte arrives for `seconds` (an EOF counts as quiet:
        the next read reports it)."""
        if self.buf:
            return False
        deadline = time.monotonic() + seconds
        while True:
            if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                return True
            # Readable may be a TLS record with no application data (a
            # TLS 1.3 session ticket): read without blocking and go on.
            self.sock.setblocking(False)
            try:
                chunk = self.sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError):
                continue
            finally:
                self.sock.settimeout(self.timeout)
            if not chunk:
                return True
            self.buf += chunk
            return False


def replies_in(data):
    """Splits raw server bytes into final reply lines (the 'NNN ' ones)."""
    return [line for line in data.split(b"\r\n")
            if len(line) >= 4 and line[3:4] == b" "]


# ---------------------------------------------------------------------------
# A tiny scriptable SMTP receiver (not posthorn): for send_mail tests.

class PyReceiver:
    """Threaded SMTP receiver on 127.0.0.1:0.

    `replies` maps a stage to the reply line sent instead of the default:
    "greeting", "ehlo", "mail", "rcpt" (or "rcpt:<address>"), "data",
    "end" (after the final dot). Each received transaction is appended to
    `transactions` as dict(mail_from, recipients, data) with data
    dot-unstuffed, and accepted only when "end" replies 250.
    """

    MAX_LINE = 4096
    MAX_DATA = 64 << 20

    def __init__(self, replies=None, extensions=("PIPELINING", "8BITMIME",
                                                 "SIZE 10240000")):
        self.replies = dict(replies or {})
        self.extensions = list(extensions)
        self.transactions = []
        self.commands = []
        self.lock = threading.Lock()
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = REPLY_TIMEOUT

            def handle(self):
                owner._serve(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=STOP_TIMEOUT)

    def _reply(self, stage, default, out):
        line = self.replies.get(stage, default)
        out.write(line.encode("utf-8") + b"\r\n")
        out.flush()
        return int(line[:3])

    def _serve(self, rfile, out):
        code = self._reply("greeting", "220 pyreceiver ESMTP", out)
        if code != 220:
            return
        mail_from = None
        rcpts = []
        while True:
            line = rfile.readline(self.MAX_LINE)
            if not line:
                return
            with self.lock:
                self.commands.append(line)
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                lines = ["250-pyreceiver"] + \
                    ["250-" + e for e in self.extensions[:-1]] + \
                    ["250 " + (self.extensions[-1] if self.extensions
                               else "HELP")]
                if "ehlo" in self.replies:
                    lines = [self.replies["ehlo"]]
                out.write(("\r\n".join(lines) + "\r\n").encode())
                out.flush()
            elif verb == "HELO":
                self._reply("helo", "250 pyreceiver", out)
            elif verb == "MAIL":
                m = re.match(r"(?i)MAIL FROM:<([^>]*)>", cmd)
                if self._reply("mail", "250 2.1.0 Ok", out) == 250 and m:
                    mail_from = m.group(1)
                    rcpts = []
            elif verb == "RCPT":
                m = re.match(r"(?i)RCPT TO:<([^>]*)>", cmd)
                addr = m.group(1) if m else ""
                stage = "rcpt:" + addr
                default = self.replies.get("rcpt", "250 2.1.5 Ok")
                if self._reply(stage, default, out) == 250:
                    rcpts.append(addr)
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    self._reply("data-bad", "503 5.5.1 Bad sequence", out)
                    continue
                if self._reply("data", "354 End data with <CR><LF>.<CR><LF>",
                               out) != 354:
                    continue
                body = []
                size = 0
                while True:
                    dl = rfile.readline(self.MAX_LINE)
                    if not dl:
                        return
                    if dl == b".\r\n":
                        break
                    if dl.startswith(b"."):
                        dl = dl[1:]
                    size += len(dl)
                    if size > self.MAX_DATA:
                        return
                    body.append(dl)
                if self._reply("end", "250 2.0.0 Ok: queued", out) == 250:
                    with self.lock:
                        self.transactions.append(
                            {"mail_from": mail_from, "recipients": rcpts,
                             "data": b"".join(body)})
                mail_from = None
                rcpts = []
            elif verb == "RSET":
                mail_from = None
                rcpts = []
                self._reply("rset", "250 2.0.0 Ok", out)
            elif verb == "NOOP":
                self._reply("noop", "250 2.0.0 Ok", out)
            elif verb == "QUIT":
                self._reply("quit", "221 2.0.0 Bye", out)
                return
            else:
                self._reply("unknown", "502 5.5.2 Not implemented", out)


# ---------------------------------------------------------------------------

def run(args, timeout=120, **kwargs):
    """subprocess.run with a timeout and captured output."""
    return subprocess.run(args, capture_output=True, timeout=timeout,
                          **kwargs)


def need_binary(test, which):
    path = sink_binary() if which == "sink" else send_mail_binary()
    return common.require_executable(path, "%s binary" % which,
                                     "--sink/--send-mail")


def main():
    common.run_main(parse_argv)
