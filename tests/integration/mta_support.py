"""Shared helpers for the MTA integration tests (python3 stdlib only).

The tests run the real `sendmail` (tools/sendmail) as a daemon and from the
command line, with real peers (curl, swaks, smtplib, poplib, dnsmasq), and
read the delivered mail back through the real `popper`. Everything here
builds on pop3_support.py (instance folder, popauth users, popper daemon,
mbox / Maildir reading), smtp_support.py (Received: fields) and
support_common.py (certificates, daemon start and stop, "listening on"
lines, sanitizer reports, free ports, bounded waits); nothing of them is
copied.

What is here:
  - parse_argv() / main(): --sendmail PATH (or $SENDMAIL) plus popper's
    --popper / --popauth, removed from sys.argv before unittest runs;
  - free_port(): a loopback TCP port that was free a moment ago (for a
    daemon that must come back on the same port after a restart), from
    support_common.py;
  - start_with_remote() / smtp_client(): a test class's MTA with a
    Python SMTP receiver as its remote peer, and a cleaned-up smtplib
    client to it;
  - Instance: a temporary MTA instance folder — posthorn.conf with every
    path inside the folder (queue, spool, aliases, auth db, help file,
    transport map), popauth users, newaliases, `sendmail -C conf ...`
    runs, the queue listing and bounded waits for an empty queue or for
    mail in a maildrop (or for one message holding a tag), and a popper on
    port 0 to read it back (poplib);
  - Daemon: `sendmail -C conf -bd -qINTERVAL` in the foreground: reads the
    "sendmail: listening on HOST:PORT" lines from stderr, keeps every
    stderr line (a thread), stops with SIGTERM (bounded, then SIGKILL) or
    dies by SIGKILL on demand; any sanitizer report fails the test;
  - strip_received_fields(): the message without the Received: fields the
    MTAs put on top;
  - Dnsmasq: a dnsmasq serving MX / A records for *.test only, on port
    53 of a loopback address of its own (127.53.x.y; posthorn.conf's
    dns_servers takes no port), or on a free port when not root;
  - dead_dns_server(): a dns_servers value where nothing answers (the
    default of every Instance, so no test ever asks the host's resolver).

All traffic stays on the loopback (127.0.0.1; 127.0.0.2 as an untrusted
client source address; 127.53.x.y for dnsmasq); every wait is bounded.
"""

import email
import email.policy
import os
import poplib
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading

import pop3_support as pop
import smtp_support as smtp
import support_common as common
from support_common import free_port

# Bounds on every wait, in seconds.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
RUN_TIMEOUT = 120.0
DELIVERY_TIMEOUT = 30.0

_paths = {"sendmail": os.environ.get("SENDMAIL", "")}


def parse_argv():
    """Takes --sendmail PATH (and popper's --popper / --popauth) out of
    sys.argv."""
    common.take_path_options(_paths, {"--sendmail": "sendmail"})
    pop.parse_argv()


def sendmail_binary():
    return common.require_executable(_paths["sendmail"], "sendmail",
                                     "--sendmail PATH")


def main():
    common.run_main(parse_argv)


def closed_udp_port():
    """A loopback UDP port where nothing answers (DNS lookups to it fail
    fast with 'connection refused')."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unused_loopback_address():
    """A random 127.53.x.y: nothing else on the host listens there."""
    import random
    return "127.53.%d.%d" % (random.randrange(1, 255),
                             random.randrange(1, 255))


def dead_dns_server():
    """A dns_servers value where no DNS server answers: port 53 of an
    unused loopback address (posthorn.conf's dns_servers takes addresses
    without a port)."""
    return unused_loopback_address()


def wait_until(predicate, timeout, step=0.05):
    return common.wait_until(predicate, timeout, step)


# ---------------------------------------------------------------------------
# Messages

def strip_received_fields(data):
    """(received fields, rest): every Received: field at the top of a CRLF
    message, with its folded lines."""
    fields = []
    while data.startswith(b"Received:"):
        field, data = smtp.strip_received(data)
        fields.append(field)
    return fields, data


def header_value(message, name):
    """The first value of header `name` in a message (bytes or str), or
    None."""
    if isinstance(message, bytes):
        message = email.message_from_bytes(message, policy=email.policy.compat32)
    value = message.get(name)
    return None if value is None else str(value)


def header_names(data):
    """Names of the header fields of a CRLF/LF message, lowercased, in
    order."""
    head = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]
    names = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") or b":" not in line:
            continue
        names.append(line.split(b":", 1)[0].strip().lower().decode())
    return names


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.compat32)


def dsn_parts(data):
    """For a DSN (multipart/report): (report-type, list of per-recipient
    field dicts of the message/delivery-status part, the text part)."""
    msg = parse(data)
    if msg.get_content_type() != "multipart/report":
        raise AssertionError("not a multipart/report: %r" %
                             msg.get_content_type())
    report_type = msg.get_param("report-type")
    recipients = []
    text = ""
    for part in msg.get_payload():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            # compat32 parses the status groups as a list of messages.
            payload = part.get_payload()
            if isinstance(payload, list):
                groups = [dict((k.lower(), str(v)) for k, v in g.items())
                          for g in payload]
            else:
                groups = []
                for block in re.split(r"\r?\n\r?\n", payload.strip()):
                    fields = {}
                    for line in block.splitlines():
                        if ":" in line:
                            k, v = line.split(":", 1)
                            fields[k.strip().lower()] = v.strip()
                    groups.append(fields)
            recipients = [g for g in groups[1:]] if groups else []
        elif ctype == "text/plain" and not text:
            text = part.get_payload(decode=True).decode("utf-8", "replace")
    return report_type, recipients, text


# ---------------------------------------------------------------------------
# The real sendmail as a daemon

_LISTEN_RE = common.listening_re("sendmail: ")


class Daemon(common.ServerProcess):
    """sendmail -C conf -bd -qINTERVAL; stop() always ends it."""

    STOP_TIMEOUT = STOP_TIMEOUT

    def __init__(self, instance, interval="1s", extra_args=()):
        super().__init__()
        self.instance = instance
        self.args = [sendmail_binary(), "-C", instance.conf_path, "-bd"]
        if interval:
            self.args.append("-q" + interval)
        self.args += list(extra_args)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = None

    def _read(self):
        for raw in self.proc.stderr:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def start(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        found = common.wait_listening(self.proc, self.log_text, _LISTEN_RE,
                                      1, START_TIMEOUT)
        if found is not None:
            self.endpoints = found
            return self
        self.kill()
        raise AssertionError("sendmail -bd did not start: %s\n%s" %
                             (self.args, self.log_text()[-4000:]))

    def log_lines(self):
        with self.lock:
            return list(self.lines)

    def log_text(self):
        return "\n".join(self.log_lines())

    def wait_log(self, pattern, timeout=DELIVERY_TIMEOUT, count=1):
        """Waits until `count` log lines match `pattern` (a regex); returns
        the matching lines (fewer on timeout)."""
        rx = re.compile(pattern)
        found = []

        def check():
            found[:] = [l for l in self.log_lines() if rx.search(l)]
            return len(found) >= count
        wait_until(check, timeout)
        return found

    def _reaped(self):
        if self.reader is not None:
            self.reader.join(timeout=5)
            if not self.reader.is_alive():
                self.proc.stderr.close()
            self.reader = None

    def stop(self, check=True):
        self.terminate()
        if check:
            common.check_sanitizers(self.log_text().encode(), "sendmail -bd")


# ---------------------------------------------------------------------------
# An MTA instance folder

class Instance:
    """A temporary instance: posthorn.conf, queue, spool, aliases, auth db,
    help file, transport map; users made with the real popauth.

    `conf` overrides or extends the keys written to posthorn.conf (a value
    None removes a key). `transport` maps a domain to a next hop
    ("[127.0.0.1]:2526"). `users` maps user names to POP secrets.
    """

    def __init__(self, hostname="a.test", local_domains=None, fmt="mbox",
                 tls=False, users=None, aliases=None, transport=None,
                 help_lines=None, conf=None):
        self.hostname = hostname
        settings = {
            "local_domains": ", ".join(local_domains or
                                       [hostname, "localhost"]),
            "smtpd_listen": "127.0.0.1:0",
            "trusted_networks": "127.0.0.1/32",
            "queue_dir": "queue",
            "alias_file": "aliases",
            "help_file": "helpfile",
            # Never the system's resolver: a lookup that was not planned
            # fails at once (nothing listens there).
            "dns_servers": dead_dns_server(),
            "queue_run_interval": "1s",
            "max_backoff": "1s",
            "smtpd_timeout": "60",
            "pop3_failed_login_delay": "0",
        }
        if tls:
            cert, key = common.make_cert()
            settings["tls_cert"] = cert
            settings["tls_key"] = key
        for key, value in (conf or {}).items():
            settings[key] = value
        # pop3_support writes the file (hostname, spool, auth db, run_as
        # "" so root stays root, plaintext_auth) with our keys added.
        self.box = pop.Instance(fmt, plaintext=True, hostname=hostname,
                                conf={})
        self.dir = self.box.dir
        self.conf_path = self.box.conf_path
        self.queue_dir = os.path.join(self.dir, "queue")
        os.mkdir(self.queue_dir, 0o700)
        self.alias_path = os.path.join(self.dir, "aliases")
        self.help_path = os.path.join(self.dir, "helpfile")
        self.transport_path = os.path.join(self.dir, "transport")
        self.help_lines = list(help_lines or [
            "This is the posthorn test instance %s." % hostname,
            "Topics: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY",
        ])
        with open(self.help_path, "w") as f:
            f.write("".join(l + "\n" for l in self.help_lines))
        self.transport = dict(transport or {})
        self.write_transport()
        settings["transport_map"] = "transport"
        self.aliases = dict(aliases or {})
        self.write_aliases()
        self.box.settings.update(settings)
        for key in [k for k, v in self.box.settings.items() if v is None]:
            del self.box.settings[key]
        self.box.write_conf()
        self.secrets = {}
        self.daemons = []
        self._popper = None
        self._cleaned = False
        try:
            for name, secret in (users or {}).items():
                self.add_user(name, secret)
            self.newaliases()
        except BaseException:
            self.cleanup()  # no folder left behind by a failed set-up
            raise

    @property
    def settings(self):
        return self.box.settings

    def set_conf(self, **keys):
        """Changes keys of posthorn.conf (None removes one); takes effect
        for programs started afterwards."""
        for key, value in keys.items():
            if value is None:
                self.box.settings.pop(key, None)
            else:
                self.box.settings[key] = value
        self.box.write_conf()

    def write_transport(self):
        with open(self.transport_path, "w") as f:
            f.write("# written by mta_support.py\n")
            for domain, hop in self.transport.items():
                f.write("%s %s\n" % (domain, hop))

    def set_transport(self, domain, hop):
        self.transport[domain] = hop
        self.write_transport()

    def write_aliases(self):
        with open(self.alias_path, "w") as f:
            f.write("# written by mta_support.py\n")
            for name, targets in self.aliases.items():
                if isinstance(targets, str):
                    targets = [targets]
                f.write("%s: %s\n" % (name, ", ".join(targets)))

    def cleanup(self):
        if self._cleaned:
            return
        self._cleaned = True
        for d in self.daemons:
            d.kill()
        if self._popper is not None:
            self._popper.stop(check=False)
        self.box.cleanup()

    # -- users and aliases --------------------------------------------------

    def add_user(self, name, secret):
        self.box.add_user(name, secret)
        self.secrets[name] = secret

    def newaliases(self):
        r = self.sendmail("-bi")
        if r.returncode != 0:
            raise AssertionError("newaliases: %d %r %r" %
                                 (r.returncode, r.stdout, r.stderr))
        return r

    # -- the sendmail command line ------------------------------------------

    def sendmail(self, *args, input=b"", timeout=RUN_TIMEOUT, env=None):
        """sendmail -C conf ARGS < input; a CompletedProcess."""
        r = subprocess.run([sendmail_binary(), "-C", self.conf_path] +
                           list(args), input=input, capture_output=True,
                           timeout=timeout, env=env)
        common.check_sanitizers(r.stderr, "sendmail %s" % " ".join(args))
        return r

    def mailq(self):
        r = self.sendmail("-bp")
        if r.returncode != 0:
            raise AssertionError("sendmail -bp: %d %r" %
                                 (r.returncode, r.stderr))
        return r.stdout.decode("utf-8", "replace")

    def queue_empty(self):
        return "Mail queue is empty" in self.mailq()

    def wait_queue_empty(self, timeout=DELIVERY_TIMEOUT):
        if not wait_until(self.queue_empty, timeout, step=0.2):
            raise AssertionError("queue of %s not empty after %.0fs:\n%s" %
                                 (self.hostname, timeout, self.mailq()))

    def queue_files(self):
        out = []
        for root, _, files in os.walk(self.queue_dir):
            out += [os.path.relpath(os.path.join(root, n), self.queue_dir)
                    for n in files]
        return sorted(out)

    def run_queue(self, *extra):
        """sendmail -q (one run over every due message)."""
        r = self.sendmail("-q", *extra)
        if r.returncode != 0:
            raise AssertionError("sendmail -q: %d %r" %
                                 (r.returncode, r.stderr))
        return r

    def daemon(self, interval="1s", extra_args=(), start=True):
        d = Daemon(self, interval, extra_args)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    # -- maildrops ------------------------------------------------------------

    def stored(self, user):
        """The user's maildrop as on disk (CRLF form, POP order)."""
        return self.box.stored_messages(user)

    def wait_mail(self, user, count, timeout=DELIVERY_TIMEOUT):
        """Waits until the maildrop holds at least `count` messages;
        returns what it holds (read from disk)."""
        found = []

        def check():
            try:
                found[:] = self.stored(user)
            except AssertionError:
                return False  # an mbox being written
            return len(found) >= count
        wait_until(check, timeout, step=0.1)
        return list(found)

    def holds_tag(self, user, tag):
        """True when a message of `user` on disk holds `tag` (False while
        an mbox is being written)."""
        try:
            return any(tag.encode() in m for m in self.stored(user))
        except AssertionError:
            return False

    def wait_tag(self, user, tag, timeout=DELIVERY_TIMEOUT):
        """True once a message of `user` holding `tag` is on disk; False
        after `timeout` seconds."""
        return wait_until(lambda: self.holds_tag(user, tag), timeout, 0.1)

    def fetch_tagged(self, user, tag):
        """The messages of `user` holding `tag`, through popper (poplib)."""
        return [m for m in self.fetch(user) if tag.encode() in m]

    def popper(self):
        """One popper per instance, on 127.0.0.1 port 0."""
        if self._popper is None:
            self._popper = pop.Popper(self.box, [], ("127.0.0.1:0",), ())
            self._popper.start()
        return self._popper

    def fetch(self, user, delete=False):
        """Every message of `user` through poplib (APOP), as CRLF bytes."""
        port = self.popper().port
        pop.wait_unlocked(port, user, self.secrets[user])
        client = poplib.POP3("127.0.0.1", port, timeout=pop.REPLY_TIMEOUT)
        try:
            client.apop(user, self.secrets[user])
            count, _ = client.stat()
            out = []
            for i in range(1, count + 1):
                _, lines, _ = client.retr(i)
                out.append(b"".join(l + b"\r\n" for l in lines))
                if delete:
                    client.dele(i)
            client.quit()
        finally:
            client.close()
        return out


# ---------------------------------------------------------------------------
# Test-class set-ups

def start_with_remote(cls, remote_domains, **instance_args):
    """For setUpClass: a PyReceiver standing in for the remote MTA
    (cls.remote), an Instance whose transport map sends `remote_domains`
    to it (cls.inst), and that instance's daemon with 1s queue runs
    (cls.daemon); class clean-ups end all three."""
    cls.remote = smtp.PyReceiver().start()
    cls.addClassCleanup(cls.remote.stop)
    hop = "[127.0.0.1]:%d" % cls.remote.port
    cls.inst = Instance(transport=dict((d, hop) for d in remote_domains),
                        **instance_args)
    cls.addClassCleanup(cls.inst.cleanup)
    cls.daemon = cls.inst.daemon(interval="1s")
    cls.addClassCleanup(cls.daemon.stop)


def smtp_client(case, port, helo, source=None):
    """smtplib.SMTP to 127.0.0.1:port (from address `source` when given),
    closed by the test's clean-up."""
    client = smtplib.SMTP("127.0.0.1", port, local_hostname=helo,
                          timeout=DELIVERY_TIMEOUT,
                          source_address=(source, 0) if source else None)
    case.addCleanup(client.close)
    return client


# ---------------------------------------------------------------------------
# dnsmasq as a test DNS server

DNSMASQ = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq"
                                      if os.access("/usr/sbin/dnsmasq",
                                                   os.X_OK) else None)


class Dnsmasq:
    """dnsmasq --no-daemon on a loopback address answering for the
    `local` domains only from its own records (nothing is forwarded)."""

    def __init__(self, mx=(), hosts=(), local=("test",)):
        # dns_servers takes an address without a port, so dnsmasq gets
        # port 53 of an address of its own (root only; else a free port
        # and the "address:port" form).
        self.address = unused_loopback_address()
        self.port = 53 if os.geteuid() == 0 else closed_udp_port()
        if self.port != 53:
            self.address = "127.0.0.1"
        self.args = [DNSMASQ, "--no-daemon", "--port=%d" % self.port,
                     "--listen-address=" + self.address, "--bind-interfaces",
                     "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                     "--pid-file", "--user=root", "--log-queries",
                     "--log-facility=-"]
        for domain in local:
            self.args.append("--local=/%s/" % domain)
        for name, target, pref in mx:
            self.args.append("--mx-host=%s,%s,%d" % (name, target, pref))
        for name, address in hosts:
            self.args.append("--host-record=%s,%s" % (name, address))
        self.proc = None
        self.stderr = b""

    def start(self):
        # stderr to a file: the query log cannot fill a pipe and block it.
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self._log)
        # Ready when it answers a query over UDP.
        if not wait_until(self._answers, START_TIMEOUT, step=0.1):
            self.stop()
            raise AssertionError("dnsmasq did not start: %s\n%r" %
                                 (self.args, self.stderr[-2000:]))
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            return False
        # A minimal query for "ready.test" A; any reply will do.
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x05ready\x04test\x00\x00\x01\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            try:
                s.sendto(query, (self.address, self.port))
                data, _ = s.recvfrom(512)
                return data[:2] == b"\x12\x34"
            except OSError:
                return False

    @property
    def server(self):
        if self.port == 53:
            return self.address
        return "%s:%d" % (self.address, self.port)

    def log(self):
        """What dnsmasq logged so far (one line per query)."""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        if self.proc is not None:
            self._log.seek(0)
            self.stderr = self._log.read()
            self._log.close()
