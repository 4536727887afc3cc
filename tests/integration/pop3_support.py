"""Shared helpers for the POP3 integration tests (python3 stdlib only).

What is here:
  - parse_argv() / popper_binary() / popauth_binary(): the paths of the
    real programs, from the command line (--popper PATH, --popauth PATH,
    removed from sys.argv so unittest does not see them) or from the
    environment (POPPER, POPAUTH);
  - make_cert(), insecure_context(), verifying_context(), crlf(),
    check_sanitizers(), wait_until(): from
    support_common.py (shared with smtp_support.py and mta_support.py);
  - Instance: a temporary instance folder with its posthorn.conf, spool,
    auth database (users made with the real popauth, secret on stdin) and
    bulletin folder; it writes maildrops the way other mail programs do
    (an mboxrd file with "From " lines, or Maildir files in new/) and
    reads them back, and computes what popper must send for each message
    (CRLF line ends) and which UIDL ids the store gives;
  - Popper: the real popper as a daemon on 127.0.0.1 port 0; reads the
    "popper: listening on HOST:PORT" stderr lines, stops with SIGTERM and
    fails the test on any sanitizer report;
  - Pop3Raw: a socket that reads POP3 status lines and multi-line
    responses byte for byte, for transcript and hostile tests.

All traffic stays on 127.0.0.1; every wait is bounded.
"""

import base64
import fcntl
import hashlib
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import support_common as common
# Bounds on every wait (seconds), and helpers the tests use as sup.NAME.
from support_common import (REPLY_TIMEOUT, START_TIMEOUT, STOP_TIMEOUT,
                            check_sanitizers, crlf, insecure_context,
                            make_cert, verifying_context, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))

_paths = {"popper": os.environ.get("POPPER", ""),
          "popauth": os.environ.get("POPAUTH", "")}


def parse_argv():
    """Takes --popper PATH / --popauth PATH out of sys.argv."""
    common.take_path_options(_paths, {"--popper": "popper",
                                      "--popauth": "popauth"})


def popper_binary():
    return common.require_executable(_paths["popper"], "popper",
                                     "--popper PATH")


def popauth_binary():
    return common.require_executable(_paths["popauth"], "popauth",
                                     "--popauth PATH")


def testdata(*parts):
    """A fixture file under tests/data/pop3/integration/."""
    root = os.environ.get("POSTHORN_TESTDATA",
                          os.path.join(HERE, "..", "data"))
    return os.path.join(root, "pop3", "integration", *parts)


def main():
    common.run_main(parse_argv)


# ---------------------------------------------------------------------------
# Messages

def lf(data):
    """The on-disk form of both stores: CRLF becomes LF, a final LF."""
    data = data.replace(b"\r\n", b"\n")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return data


_FROM_RE = re.compile(rb"^(>*From )", re.M)


def mboxrd_quote(data):
    """One more '>' before every line matching ^>*From ."""
    return _FROM_RE.sub(rb">\1", data)


def top_of(message, lines):
    """RFC 1939 TOP of a CRLF message: header, empty line, `lines` lines."""
    head, sep, body = message.partition(b"\r\n\r\n")
    if not sep:
        return message
    body_lines = body.split(b"\r\n")[:-1] if body else []
    kept = body_lines[:lines]
    return head + b"\r\n\r\n" + b"".join(x + b"\r\n" for x in kept)


def mbox_uid(record):
    """The mbox store's UIDL id of one message record as on disk (From
    line, quoted content, separating empty line): the first 128 bits of
    SHA-256, base64url without padding."""
    digest = hashlib.sha256(record).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sample_message(i, body_lines=3, extra_header=b""):
    """A small distinct message (CRLF) whose body holds the lines that
    need care: a leading dot, a "From " line and a quoted one."""
    body = b"".join(b"line %d of message %d\r\n" % (j, i)
                    for j in range(body_lines))
    return (b"From: sender%d@example.org\r\n"
            b"To: someone@example.org\r\n"
            b"Subject: message %d\r\n" % (i, i) + extra_header +
            b"\r\n" + body +
            b".starts with a dot\r\n"
            b"..two dots\r\n"
            b".\r\n"
            b"From the start of a line\r\n"
            b">From quoted already\r\n"
            b">>From twice\r\n"
            b"last line\r\n")


# ---------------------------------------------------------------------------
# A popper instance folder

class Instance:
    """A temporary instance: posthorn.conf, spool, auth db, bulletins.

    `fmt` is "mbox" or "maildir". Keys in `conf` override or extend the
    defaults written to posthorn.conf.
    """

    def __init__(self, fmt="mbox", plaintext=True, tls=False, delay=0,
                 conf=None, hostname="testhost.example"):
        self.fmt = fmt
        self.hostname = hostname
        self.dir = tempfile.mkdtemp(prefix="posthorn-pop3-")
        self.spool = os.path.join(self.dir, "spool")
        self.bulletins = os.path.join(self.dir, "bulletins")
        self.auth_db = os.path.join(self.dir, "pop.auth")
        self.conf_path = os.path.join(self.dir, "posthorn.conf")
        self.trace = os.path.join(self.dir, "trace.log")
        os.mkdir(self.spool, 0o700)
        os.mkdir(self.bulletins, 0o700)
        self.secrets = {}
        self._counter = 0
        settings = {
            "hostname": hostname,
            "spool_dir": self.spool,
            "mailbox_format": fmt,
            "auth_db": self.auth_db,
            "plaintext_auth": "yes" if plaintext else "no",
            "run_as": "",
            "pop3_failed_login_delay": str(delay),
            "pop3_timeout": "600",
        }
        if tls:
            cert, key = make_cert()
            settings["tls_cert"] = cert
            settings["tls_key"] = key
        settings.update(conf or {})
        self.settings = settings
        self.write_conf()
        self._db_made = False

    def write_conf(self):
        with open(self.conf_path, "w") as f:
            f.write("# written by pop3_support.py\n")
            for key, value in self.settings.items():
                f.write("%s = %s\n" % (key, value))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- users --------------------------------------------------------------

    def popauth(self, *args, secret=None, timeout=60):
        """Runs popauth -C conf ARGS; `secret` goes to stdin."""
        return subprocess.run(
            [popauth_binary(), "-C", self.conf_path] + list(args),
            input=(secret.encode() + b"\n") if secret is not None else b"",
            capture_output=True, timeout=timeout)

    def add_user(self, name, secret, password_only=False):
        if not self._db_made:
            r = self.popauth("-init")
            if r.returncode != 0:
                raise AssertionError("popauth -init: %d %r" %
                                     (r.returncode, r.stderr))
            self._db_made = True
        args = ["-user", name] + (["-password-only"] if password_only
                                  else [])
        r = self.popauth(*args, secret=secret)
        if r.returncode != 0:
            raise AssertionError("popauth -user %s: %d %r" %
                                 (name, r.returncode, r.stderr))
        self.secrets[name] = secret

    # -- maildrops ----------------------------------------------------------

    def mbox_path(self, user):
        return os.path.join(self.spool, user)

    def maildir_path(self, user):
        return os.path.join(self.spool, user)

    def _next(self):
        self._counter += 1
        return self._counter

    def mbox_record(self, message, sender="sender@example.org", when=None):
        """One message as an mboxrd writer puts it on disk."""
        n = self._next()
        if when is None:
            when = 1700000000 + n
        date = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(when))
        return (b"From %s %s\n" % (sender.encode(), date.encode()) +
                mboxrd_quote(lf(message)) + b"\n")

    def _maildir_name(self, message):
        n = self._next()
        on_disk = lf(message)
        return "%d.M%06dP%dQ%d.testhost,S=%d,W=%d" % (
            1700000000 + n, n, os.getpid(), n, len(on_disk),
            len(crlf(message)))

    def put_messages(self, user, messages):
        """Creates the maildrop of `user` holding `messages` (replacing
        any), as another mail program would have written it."""
        if self.fmt == "mbox":
            data = b"".join(self.mbox_record(m) for m in messages)
            path = self.mbox_path(user)
            # A new inode, as a mail program's rewrite makes it: the
            # store's index (a cache keyed by inode, size, mtime) is
            # never mistaken for this file's.
            tmp = os.path.join(self.dir, ".new-mbox")
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o600)
            os.rename(tmp, path)
        else:
            root = self.maildir_path(user)
            shutil.rmtree(root, ignore_errors=True)
            for sub in ("", "tmp", "new", "cur"):
                os.makedirs(os.path.join(root, sub), 0o700, exist_ok=True)
            for m in messages:
                self._maildir_write(user, m)

    def _maildir_write(self, user, message):
        root = self.maildir_path(user)
        name = self._maildir_name(message)
        tmp = os.path.join(root, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(lf(message))
        os.rename(tmp, os.path.join(root, "new", name))
        return name

    def deliver(self, user, message):
        """Appends one message as a local delivery agent does: for mbox
        under the dot-lock and an fcntl lock (mail.local's protocol, which
        the store honours), for Maildir through tmp/ and a rename."""
        if self.fmt == "maildir":
            self._maildir_write(user, message)
            return
        path = self.mbox_path(user)
        lock = path + ".lock"
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o600)
                break
            except FileExistsError:
                if time.monotonic() > deadline:
                    raise AssertionError("dot-lock %s stays taken" % lock)
                time.sleep(0.02)
        try:
            os.write(fd, b"%d\n" % os.getpid())
            os.close(fd)
            with open(path, "ab") as f:
                fcntl.lockf(f, fcntl.LOCK_EX)
                f.write(self.mbox_record(message))
                f.flush()
                os.fsync(f.fileno())
                fcntl.lockf(f, fcntl.LOCK_UN)
        finally:
            os.unlink(lock)

    def stored_messages(self, user):
        """The maildrop as any reader sees it, each message in the CRLF
        form popper must send, in POP order."""
        if self.fmt == "mbox":
            return [crlf(c) for c in self._mbox_contents(user)]
        root = self.maildir_path(user)
        out = []
        for name in self._maildir_names(user):
            with open(os.path.join(root, name), "rb") as f:
                out.append(crlf(f.read()))
        return out

    def _mbox_records(self, user):
        """(record bytes, unquoted LF content) per message of the mbox."""
        try:
            with open(self.mbox_path(user), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        if not data:
            return []
        if not data.startswith(b"From "):
            raise AssertionError("mbox of %s does not start with From: %r"
                                 % (user, data[:80]))
        starts = [0] + [m.start() + 1 for m in
                        re.finditer(rb"\nFrom ", data)]
        out = []
        for i, s in enumerate(starts):
            e = starts[i + 1] if i + 1 < len(starts) else len(data)
            record = data[s:e]
            body = record[record.index(b"\n") + 1:]
            if body.endswith(b"\n\n"):
                body = body[:-1]
            elif i + 1 < len(starts):
                raise AssertionError("mbox of %s: message %d has no "
                                     "separator line" % (user, i + 1))
            body = re.sub(rb"^>(>*From )", rb"\1", body, flags=re.M)
            out.append((record, body))
        return out

    def _mbox_contents(self, user):
        return [body for _, body in self._mbox_records(user)]

    def _maildir_names(self, user):
        """'new/x' and 'cur/y' paths in the store's POP order."""
        root = self.maildir_path(user)
        found = []
        for sub in ("new", "cur"):
            try:
                names = os.listdir(os.path.join(root, sub))
            except FileNotFoundError:
                continue
            for n in names:
                if not n[:1].isdigit():
                    continue
                m = re.match(r"(\d+)\.M(\d+)P\d+Q(\d+)", n)
                key = (int(m.group(1)), int(m.group(2)), int(m.group(3))) \
                    if m else (int(re.match(r"\d+", n).group(0)), 0, 0)
                found.append((key, n, sub + "/" + n))
        found.sort()
        return [p for _, _, p in found]

    def expected_uids(self, user):
        """The UIDL ids the store must give, in POP order: for Maildir the
        base file name, for mbox the digest of the record on disk."""
        if self.fmt == "mbox":
            uids = []
            seen = {}
            for record, _ in self._mbox_records(user):
                base = mbox_uid(record)
                seen[base] = seen.get(base, 0) + 1
                uids.append(base if seen[base] == 1
                            else "%s-%d" % (base, seen[base]))
            return uids
        return [p.split("/", 1)[1].split(":", 1)[0]
                for p in self._maildir_names(user)]

    def all_files(self):
        """Every path under the instance folder (for 'nothing created')."""
        out = set()
        for root, dirs, files in os.walk(self.dir):
            for n in dirs + files:
                out.add(os.path.relpath(os.path.join(root, n), self.dir))
        return out

    # -- programs -----------------------------------------------------------

    def popper(self, *args, listen=("127.0.0.1:0",), tls_listen=()):
        return Popper(self, list(args), listen, tls_listen)

    def bulletin(self, name, text):
        path = os.path.join(self.bulletins, name)
        with open(path, "wb") as f:
            f.write(text)
        return path


# ---------------------------------------------------------------------------
# The real popper as a daemon

_LISTEN_RE = common.listening_re("popper: ")


class Popper(common.ServerProcess):
    """popper -C conf ARGS -l ... -L ...; stop() always ends it."""

    def __init__(self, instance, args, listen, tls_listen):
        super().__init__()
        self.instance = instance
        self.args = [popper_binary(), "-C", instance.conf_path] + args
        for e in listen:
            self.args += ["-l", e]
        for e in tls_listen:
            self.args += ["-L", e]
        self.expected = len(listen) + len(tls_listen)
        self.n_plain = len(listen)
        fd, self.stderr_path = tempfile.mkstemp(prefix="popper-stderr-",
                                                dir=instance.dir)
        os.close(fd)

    def start(self):
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                         stderr=err, stdin=subprocess.DEVNULL)
        found = common.wait_listening(self.proc, self.stderr_text,
                                      _LISTEN_RE, self.expected,
                                      START_TIMEOUT)
        if found is not None:
            self.endpoints = found
            return self
        self.stop(check=False)
        raise AssertionError("popper did not start: %s\n%s" %
                             (self.args, self.stderr_text()))

    def stderr_text(self):
        try:
            with open(self.stderr_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def tls_port(self):
        """The implicit-TLS port: the endpoint that does not greet."""
        if self.n_plain == 0:
            return self.endpoints[0][1]
        for host, port in self.endpoints:
            with socket.create_connection((host, port), timeout=5) as s:
                ready, _, _ = select.select([s], [], [], 1.0)
                if not ready:
                    return port
        raise AssertionError("no endpoint waits for a TLS handshake")

    def stop(self, check=True):
        """Ends the daemon (SIGTERM, then SIGKILL); fails on a sanitizer
        report in its stderr."""
        self.terminate()
        if check:
            check_sanitizers(self.stderr_text().encode(), "popper")


# ---------------------------------------------------------------------------
# Raw POP3 client

class Pop3Raw(common.RawSocket):
    # Any error while reading to the end counts as the end.
    CLOSE_ERRORS = (EOFError, ConnectionResetError, ssl.SSLError, OSError)

    def __init__(self, host="127.0.0.1", port=110, timeout=REPLY_TIMEOUT,
                 tls=False, sock=None):
        if sock is None:
            sock = socket.create_connection((host, port), timeout=timeout)
        super().__init__(sock, timeout)
        if tls:
            self.sock = insecure_context().wrap_socket(
                self.sock, server_hostname="localhost")

    def cmd(self, text):
        """Sends one command line, returns the status line."""
        if isinstance(text, str):
            text = text.encode()
        self.send(text + b"\r\n")
        return self.line()

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def multiline(self):
        """The body of a multi-line response (after its +OK line), dot-
        unstuffed, as bytes with CRLF line ends."""
        out = []
        while True:
            line = self.line()
            if line == b".":
                return b"".join(out)
            if line.startswith(b"."):
                line = line[1:]
            out.append(line + b"\r\n")

    def retr(self, n):
        status = self.cmd("RETR %d" % n)
        if not status.startswith(b"+OK"):
            raise AssertionError("RETR %d: %r" % (n, status))
        return self.multiline()

    def login(self, user, secret):
        greeting = self.line()
        assert greeting.startswith(b"+OK"), greeting
        r = self.cmd("USER " + user)
        assert r.startswith(b"+OK"), r
        r = self.cmd("PASS " + secret)
        if not r.startswith(b"+OK"):
            raise AssertionError("login of %s refused: %r" % (user, r))
        return r

    def login_apop(self, user, secret):
        """APOP login (an MD5 on the server, where PASS costs a crypt())."""
        ts = greeting_timestamp(self.line())
        r = self.cmd("APOP %s %s" % (user, apop_digest(ts, secret)))
        if not r.startswith(b"+OK"):
            raise AssertionError("APOP of %s refused: %r" % (user, r))
        return r

    def closed_within(self, seconds):
        """True when the server closes the connection within `seconds`
        (any bytes before the close are kept in self.buf)."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, OSError):
                return True
            if not chunk:
                return True
            self.buf += chunk
            self.received += chunk

    def quiet_for(self, seconds):
        """True when no byte arrives for `seconds` (EOF counts as quiet)."""
        if self.buf:
            return False
        ready, _, _ = select.select([self.sock], [], [], seconds)
        return not ready


def apop_digest(timestamp, secret):
    """RFC 1939 section 7."""
    if isinstance(timestamp, bytes):
        timestamp = timestamp.decode("ascii")
    return hashlib.md5((timestamp + secret).encode()).hexdigest()


_TS_RE = re.compile(rb"<[^<>@\s]+@[^<>\s]+>")


def greeting_timestamp(greeting):
    m = _TS_RE.search(greeting)
    if not m:
        raise AssertionError("no APOP timestamp in %r" % greeting)
    return m.group(0)


def can_login(port, user, secret):
    """True when an APOP login of `user` succeeds now (then QUITs);
    False while another session holds the maildrop."""
    c = Pop3Raw("127.0.0.1", port)
    try:
        ts = greeting_timestamp(c.line())
        r = c.cmd("APOP %s %s" % (user, apop_digest(ts, secret)))
        if not r.startswith(b"+OK"):
            return False
        c.cmd("QUIT")
        c.read_until_close()
        return True
    finally:
        c.close()


def wait_unlocked(port, user, secret, timeout=10.0):
    """Waits until the sessions of an earlier test have let go of the
    maildrop (a closed connection is noticed by popper asynchronously)."""
    if not wait_until(lambda: can_login(port, user, secret), timeout):
        raise AssertionError("maildrop of %s stays locked" % user)
