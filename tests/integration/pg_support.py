"""Helpers for the integration tests of `store = postgresql` (python3
stdlib only): several sendmail and popper processes on one database.

What is here:
  - parse_argv() / main(): --pg-cluster PATH (scripts/lib/pg_cluster.sh)
    plus mta_support's --sendmail / --popper / --popauth;
  - Cluster: a private PostgreSQL cluster in a temporary folder on a
    loopback port (start, createdb, stop fast / immediate and start again
    on the same port, remove), and psql() for the few checks a test makes
    straight in the tables (queue rows, leases, maildrop rows);
  - Node: one posthorn node's instance folder on a database: posthorn.conf
    with `store = postgresql` (its own queue_dir for hoststat, its own
    aliases file), popauth users in the shared auth_users table,
    `sendmail -C conf ...` runs, a `sendmail -bd` daemon (mta_support's
    Daemon: stderr lines kept, SIGTERM / SIGKILL) and a `popper -l`
    daemon (pop3_support's Popper);
  - Pop sessions: apop() logs in with poplib, messages() reads a maildrop
    through a popper as (uidl, bytes) pairs, message_ids() their
    Message-ID fields.

Nothing of mta_support / pop3_support / support_common is copied. All
traffic stays on 127.0.0.1; every wait is bounded.
"""

import os
import poplib
import re
import shutil
import subprocess
import tempfile
import threading

import mta_support as mta
import pop3_support as pop
import support_common as common

# Bounds on every wait, in seconds. Generous: the tests run on a loaded
# two-core machine beside other builds.
CLUSTER_TIMEOUT = 180.0   # pg_cluster.sh start / stop / remove
PSQL_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0       # one `sendmail` / `popauth` command line
REPLY_TIMEOUT = 30.0      # one POP3 / SMTP reply

_paths = {"pg_cluster": os.environ.get("PG_CLUSTER", "")}


def parse_argv():
    """Takes --pg-cluster PATH and mta_support's options out of sys.argv."""
    common.take_path_options(_paths, {"--pg-cluster": "pg_cluster"})
    mta.parse_argv()


def main():
    common.run_main(parse_argv)


def pg_cluster_script():
    return common.require_executable(_paths["pg_cluster"], "pg_cluster.sh",
                                     "--pg-cluster PATH")


def wait_until(predicate, timeout, step=0.1):
    return common.wait_until(predicate, timeout, step)


def _bindir():
    """Where psql is: $POSTHORN_PG_BINDIR, `pg_config --bindir`, or the
    newest /usr/lib/postgresql/*/bin (as pg_cluster.sh looks)."""
    candidates = []
    if os.environ.get("POSTHORN_PG_BINDIR"):
        candidates.append(os.environ["POSTHORN_PG_BINDIR"])
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True,
                             timeout=30)
        if out.returncode == 0:
            candidates.append(out.stdout.decode().strip())
    except OSError:
        pass
    root = "/usr/lib/postgresql"
    if os.path.isdir(root):
        versions = sorted((d for d in os.listdir(root) if d.isdigit()),
                          key=int, reverse=True)
        candidates += [os.path.join(root, v, "bin") for v in versions]
    for d in candidates:
        if os.access(os.path.join(d, "psql"), os.X_OK):
            return d
    return None


# ---------------------------------------------------------------------------
# The cluster

class Cluster:
    """A private cluster (pg_cluster.sh) in a folder of `parent`; start()
    raises unittest.SkipTest when PostgreSQL is missing and
    POSTHORN_PG_SKIP=1."""

    def __init__(self, parent):
        self.dir = os.path.join(parent, "pg")
        self.port = None
        self.bindir = _bindir()

    def _run(self, *args):
        return subprocess.run([pg_cluster_script()] + list(args),
                              capture_output=True, timeout=CLUSTER_TIMEOUT)

    def start(self, port=0):
        """Starts the server (port 0: a free one at the first start; later
        starts reuse the port, so the nodes' DSNs stay right)."""
        if port == 0 and self.port is not None:
            port = self.port
        r = self._run("start", self.dir, str(port))
        if r.returncode != 0:
            reason = r.stderr.decode(errors="replace")
            if self.port is None and os.environ.get("POSTHORN_PG_SKIP") == "1":
                import unittest
                raise unittest.SkipTest("no PostgreSQL: " + reason)
            raise AssertionError("pg_cluster.sh start: " + reason)
        dsn = r.stdout.decode().strip().splitlines()[-1]
        self.port = int(re.search(r"port=(\d+)", dsn).group(1))
        return dsn

    def stop(self, mode="fast"):
        r = self._run("stop", self.dir, mode)
        if r.returncode != 0:
            raise AssertionError("pg_cluster.sh stop %s: %s" %
                                 (mode, r.stderr.decode(errors="replace")))

    def remove(self):
        self._run("remove", self.dir)

    def createdb(self, name):
        r = self._run("createdb", self.dir, name)
        if r.returncode != 0:
            raise AssertionError("pg_cluster.sh createdb %s: %s" %
                                 (name, r.stderr.decode(errors="replace")))
        return r.stdout.decode().strip().splitlines()[-1]

    def psql(self, dsn, sql):
        """The rows of one query as lists of strings (psql -At)."""
        if self.bindir is None:
            raise AssertionError("psql not found")
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-At",
                            "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", dsn,
                            "-c", sql], capture_output=True,
                           timeout=PSQL_TIMEOUT)
        if r.returncode != 0:
            raise AssertionError("psql %r: %s" %
                                 (sql, r.stderr.decode(errors="replace")))
        return [line.split("\t")
                for line in r.stdout.decode().splitlines() if line]

    def count(self, dsn, sql):
        return int(self.psql(dsn, sql)[0][0])


# ---------------------------------------------------------------------------
# A node

class Node:
    """One node's instance folder on the database of `dsn`: posthorn.conf,
    queue_dir (hoststat and mailstats only), aliases, help file. Local
    domain: localhost; local_recipients = auth_db (the database's users).
    `conf` overrides or adds keys."""

    def __init__(self, parent, name, dsn, conf=None):
        self.name = name
        self.hostname = "%s.test" % name
        self.dir = tempfile.mkdtemp(prefix="node-%s." % name, dir=parent)
        self.conf_path = os.path.join(self.dir, "posthorn.conf")
        self.queue_dir = os.path.join(self.dir, "queue")
        with open(os.path.join(self.dir, "aliases"), "w") as f:
            f.write("# written by pg_support.py\npostmaster: root\n")
        with open(os.path.join(self.dir, "helpfile"), "w") as f:
            f.write("posthorn test node %s\n" % name)
        self.settings = {
            "hostname": self.hostname,
            "store": "postgresql",
            "postgresql_dsn": dsn,
            "postgresql_max_connections": "4",
            "local_domains": "localhost",
            "local_recipients": "auth_db",
            "smtpd_listen": "127.0.0.1:0",
            "trusted_networks": "127.0.0.1/32",
            "queue_dir": self.queue_dir,
            "alias_file": os.path.join(self.dir, "aliases"),
            "help_file": os.path.join(self.dir, "helpfile"),
            # Never the system's resolver (nothing answers there).
            "dns_servers": mta.dead_dns_server(),
            "queue_run_interval": "10s",
            "max_backoff": "2s",
            "smtpd_timeout": "120",
            "plaintext_auth": "yes",
            "pop3_failed_login_delay": "0",
            "pop3_timeout": "600",
            "run_as": "",
        }
        self.settings.update(conf or {})
        self.write_conf()
        self.daemons = []
        self.poppers = []
        r = self.sendmail("-bi")
        if r.returncode != 0:
            raise AssertionError("newaliases on %s: %d %r" %
                                 (name, r.returncode, r.stderr))

    def write_conf(self):
        with open(self.conf_path, "w") as f:
            f.write("# written by pg_support.py\n")
            for key, value in self.settings.items():
                f.write("%s = %s\n" % (key, value))

    def cleanup(self):
        for d in self.daemons:
            d.kill()
        for p in self.poppers:
            p.stop(check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def sendmail(self, *args, input=b"", timeout=RUN_TIMEOUT):
        r = subprocess.run([mta.sendmail_binary(), "-C", self.conf_path] +
                           list(args), input=input, capture_output=True,
                           timeout=timeout)
        common.check_sanitizers(r.stderr, "sendmail %s" % " ".join(args))
        return r

    def add_user(self, user, secret):
        """A user in the database's auth_users (seen by every node)."""
        r = subprocess.run([pop.popauth_binary(), "-C", self.conf_path,
                            "-user", user], input=(secret + "\n").encode(),
                           capture_output=True, timeout=RUN_TIMEOUT)
        if r.returncode != 0:
            raise AssertionError("popauth -user %s: %d %r" %
                                 (user, r.returncode, r.stderr))

    def mailq(self):
        r = self.sendmail("-bp")
        if r.returncode != 0:
            raise AssertionError("sendmail -bp on %s: %d %r" %
                                 (self.name, r.returncode, r.stderr))
        return r.stdout.decode("utf-8", "replace")

    def queue_empty(self):
        return "Mail queue is empty" in self.mailq()

    def daemon(self, interval="10s", start=True):
        """sendmail -bd -qINTERVAL (killed by cleanup())."""
        d = Daemon(self, interval)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def popper(self):
        """popper -l 127.0.0.1:0 (stopped by cleanup())."""
        p = pop.Popper(self, [], ("127.0.0.1:0",), ())
        self.poppers.append(p)
        return p.start()


class Daemon(mta.Daemon):
    """mta_support's Daemon with a hook: on_line(line) runs in the reader
    thread for every stderr line as it arrives (to stop or kill the
    process at a given point of its work, with no polling delay)."""

    def __init__(self, node, interval):
        super().__init__(node, interval)
        self.on_line = None

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.lines.append(line)
            hook = self.on_line
            if hook is not None:
                hook(line)


def sent_count(daemon):
    """Deliveries a sendmail daemon logged so far."""
    return sum(1 for line in daemon.log_lines() if "status=sent" in line)


# ---------------------------------------------------------------------------
# POP sessions

def apop(port, user, secret):
    """A poplib session logged in with APOP (raises poplib.error_proto
    with the server's reply when refused)."""
    client = poplib.POP3("127.0.0.1", port, timeout=REPLY_TIMEOUT)
    try:
        client.apop(user, secret)
    except BaseException:
        client.close()
        raise
    return client


def _session_messages(client):
    _, listing, _ = client.uidl()
    out = []
    for entry in listing:
        number, uid = entry.split()
        _, lines, _ = client.retr(int(number))
        out.append((uid.decode(), b"".join(l + b"\r\n" for l in lines)))
    return out


def _in_session(port, user, secret, fn):
    """(fn(client),) run in an APOP session on the maildrop, then QUIT; None
    while another session holds the maildrop ([IN-USE])."""
    try:
        client = apop(port, user, secret)
    except poplib.error_proto as e:
        if b"[IN-USE]" in e.args[0]:
            return None
        raise
    try:
        result = fn(client)
        client.quit()
    finally:
        client.close()
    return (result,)


def messages(port, user, secret, timeout=REPLY_TIMEOUT):
    """[(uidl, message bytes)] of a maildrop read through a popper; waits
    (bounded) while another session holds the maildrop."""
    found = []

    def read():
        got = _in_session(port, user, secret, _session_messages)
        if got is None:
            return False
        found.append(got[0])
        return True
    if not wait_until(read, timeout, step=0.2):
        raise AssertionError("maildrop of %s stays locked" % user)
    return found[0]


def count(port, user, secret):
    """The STAT count of a maildrop (None while it is locked)."""
    got = _in_session(port, user, secret, lambda client: client.stat()[0])
    return None if got is None else got[0]


_MSGID_RE = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.M | re.I)


def message_id(data):
    head = re.split(rb"\r\n\r\n", data, maxsplit=1)[0]
    m = _MSGID_RE.search(head)
    return m.group(1).decode() if m else None


class Counter:
    """A thread-safe set of things seen (acknowledged messages)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = set()

    def add(self, item):
        with self.lock:
            self.items.add(item)

    def __len__(self):
        with self.lock:
            return len(self.items)

    def snapshot(self):
        with self.lock:
            return set(self.items)
