#!/usr/bin/env python3
"""popper as inetd starts it: no -l, one session on stdin/stdout.

- Over a socketpair (stdin and stdout the same connected socket, as inetd
  hands it over) and over two plain pipes: a whole session, DELE + QUIT
  applied to the maildrop, popper exits 0 when the session ends.
- -s -t file: the trace file holds "Stats: user deleted_msgs
  deleted_bytes left_msgs left_bytes" with the right numbers.
- -d: the protocol log (in the trace file) has the commands and never
  the password.
- The trace file is refused (exit 73, a message naming it) when it is a
  symlink, has more than one link, or is not a regular file; the symlink's
  target is never written.
- -k and bad flags: exit 64; a bad config line: exit 78 naming file:line.
- As root with run_as = nobody and a key only root may read: STLS works
  (the key is read before the privileges are dropped).

Usage: pop3_inetd_test.py --popper PATH --popauth PATH [unittest args]
"""

import os
import re
import socket
import subprocess
import unittest

import pop3_support as sup

USER = "erin"
SECRET = "Erin-pw-1"


class InetdCase(unittest.TestCase):
    fmt = "mbox"

    def setUp(self):
        self.inst = sup.Instance(self.fmt, plaintext=True, delay=0)
        self.addCleanup(self.inst.cleanup)
        self.inst.add_user(USER, SECRET)
        self.messages = [sup.sample_message(1), sup.sample_message(2, 10),
                         sup.sample_message(3)]
        self.inst.put_messages(USER, self.messages)
        self.want = [sup.crlf(m) for m in self.messages]
        self.stderr_path = os.path.join(self.inst.dir, "popper.stderr")

    def popper_args(self, *extra):
        return [sup.popper_binary(), "-C", self.inst.conf_path] + list(extra)

    def stderr_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read()

    def run_on_socketpair(self, session, *extra):
        """Runs popper on one end of a socketpair; `session(raw)` talks
        over the other. Returns popper's exit status."""
        ours, theirs = socket.socketpair()
        with open(self.stderr_path, "wb") as err:
            proc = subprocess.Popen(self.popper_args(*extra), stdin=theirs,
                                    stdout=theirs, stderr=err)
        theirs.close()
        raw = sup.Pop3Raw(sock=ours)
        try:
            session(raw)
        finally:
            raw.close()
        rc = proc.wait(timeout=sup.REPLY_TIMEOUT)
        sup.check_sanitizers(self.stderr_text(), "popper")
        return rc

    def run_on_pipes(self, script, *extra):
        """Writes `script` to popper's stdin pipe, returns (rc, stdout)."""
        with open(self.stderr_path, "wb") as err:
            r = subprocess.run(self.popper_args(*extra), input=script,
                               stdout=subprocess.PIPE, stderr=err,
                               timeout=sup.REPLY_TIMEOUT)
        sup.check_sanitizers(self.stderr_text(), "popper")
        return r.returncode, r.stdout

    def read_trace(self):
        with open(self.inst.trace, "rb") as f:
            return f.read()


class InetdSessionTest(InetdCase):
    def test_socketpair_session(self):
        def session(c):
            greeting = c.line()
            self.assertTrue(greeting.startswith(b"+OK"), greeting)
            sup.greeting_timestamp(greeting)
            self.assertTrue(c.cmd("USER " + USER).startswith(b"+OK"))
            self.assertTrue(c.cmd("PASS " + SECRET).startswith(b"+OK"))
            self.assertEqual(c.cmd("STAT"), b"+OK 3 %d" %
                             sum(len(m) for m in self.want))
            self.assertEqual(c.retr(2), self.want[1])
            self.assertEqual(c.cmd("DELE 2"), b"+OK message 2 deleted")
            self.assertEqual(c.cmd("QUIT"),
                             b"+OK testhost.example POP3 server signing "
                             b"off (2 messages left)")
            self.assertEqual(c.read_until_close(), b"")
        self.assertEqual(self.run_on_socketpair(session), 0,
                         self.stderr_text())
        self.assertEqual(self.inst.stored_messages(USER),
                         [self.want[0], self.want[2]])

    def test_socketpair_apop(self):
        def session(c):
            ts = sup.greeting_timestamp(c.line())
            r = c.cmd("APOP %s %s" % (USER, sup.apop_digest(ts, SECRET)))
            self.assertTrue(r.startswith(b"+OK"), r)
            self.assertEqual(c.retr(1), self.want[0])
            self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.run_on_socketpair(session), 0)
        self.assertEqual(self.inst.stored_messages(USER), self.want)

    def test_pipes_session(self):
        script = ("USER %s\r\nPASS %s\r\nLIST\r\nRETR 3\r\nDELE 1\r\n"
                  "DELE 3\r\nQUIT\r\n" % (USER, SECRET)).encode()
        rc, out = self.run_on_pipes(script)
        self.assertEqual(rc, 0, self.stderr_text())
        listing = b"".join(b"%d %d\r\n" % (i + 1, len(m))
                           for i, m in enumerate(self.want))
        stuffed = re.sub(rb"(?m)^\.", b"..", self.want[2])
        expected_tail = (
            b"+OK Password required for erin.\r\n"
            b"+OK erin's maildrop has 3 messages (%d octets)\r\n"
            % sum(len(m) for m in self.want) +
            b"+OK 3 messages (%d octets)\r\n" % sum(len(m) for m in
                                                    self.want) +
            listing + b".\r\n" +
            b"+OK %d octets\r\n" % len(self.want[2]) + stuffed + b".\r\n" +
            b"+OK message 1 deleted\r\n+OK message 3 deleted\r\n"
            b"+OK testhost.example POP3 server signing off "
            b"(1 message left)\r\n")
        greeting, _, rest = out.partition(b"\r\n")
        self.assertTrue(greeting.startswith(b"+OK"), out[:200])
        self.assertEqual(rest, expected_tail)
        self.assertEqual(self.inst.stored_messages(USER), [self.want[1]])

    def test_pipes_eof_without_quit_deletes_nothing(self):
        script = ("USER %s\r\nPASS %s\r\nDELE 1\r\nDELE 2\r\n" %
                  (USER, SECRET)).encode()
        rc, out = self.run_on_pipes(script)
        self.assertIn(b"+OK message 2 deleted\r\n", out)
        self.assertEqual(self.inst.stored_messages(USER), self.want)

    def test_pipes_offer_no_stls(self):
        rc, out = self.run_on_pipes(b"CAPA\r\nSTLS\r\nQUIT\r\n")
        self.assertEqual(rc, 0)
        self.assertNotIn(b"\r\nSTLS\r\n", out)
        self.assertIn(b"\r\n-ERR", out)


class InetdStatsTraceTest(InetdCase):
    def test_stats_line_in_trace_file(self):
        script = ("USER %s\r\nPASS %s\r\nDELE 2\r\nQUIT\r\n" %
                  (USER, SECRET)).encode()
        rc, _ = self.run_on_pipes(script, "-s", "-t", self.inst.trace)
        self.assertEqual(rc, 0, self.stderr_text())
        trace = self.read_trace()
        left = [self.want[0], self.want[2]]
        line = b"Stats: %s 1 %d 2 %d" % (USER.encode(), len(self.want[1]),
                                         sum(len(m) for m in left))
        self.assertIn(line, trace)
        self.assertEqual(trace.count(b"Stats: "), 1, trace)
        self.assertRegex(trace, rb"popper\[\d+\]: .*Stats: ")
        self.assertEqual(os.stat(self.inst.trace).st_mode & 0o777, 0o600)
        # Appended, not truncated: a second session adds a second line.
        script = ("USER %s\r\nPASS %s\r\nQUIT\r\n" %
                  (USER, SECRET)).encode()
        rc, _ = self.run_on_pipes(script, "-s", "-t", self.inst.trace)
        trace2 = self.read_trace()
        self.assertTrue(trace2.startswith(trace))
        self.assertIn(b"Stats: %s 0 0 2 %d" % (USER.encode(),
                                               sum(len(m) for m in left)),
                      trace2[len(trace):])

    def test_debug_log_has_commands_not_password(self):
        script = ("USER %s\r\nPASS %s\r\nSTAT\r\nLIST 1\r\nQUIT\r\n" %
                  (USER, SECRET)).encode()
        rc, _ = self.run_on_pipes(script, "-d", "-t", self.inst.trace)
        self.assertEqual(rc, 0, self.stderr_text())
        trace = self.read_trace()
        for command in (b"USER " + USER.encode(), b"STAT", b"LIST 1",
                        b"QUIT", b"PASS"):
            self.assertIn(command, trace)
        self.assertNotIn(SECRET.encode(), trace)
        self.assertNotIn(SECRET.encode(), self.stderr_text())
        # Message content is never logged.
        self.assertNotIn(b"line 0 of message", trace)

    def test_debug_log_hides_apop_and_plain(self):
        def session(c):
            ts = sup.greeting_timestamp(c.line())
            self.digest = sup.apop_digest(ts, SECRET)
            c.cmd("APOP %s %s" % (USER, self.digest))
            c.cmd("QUIT")
        self.run_on_socketpair(session, "-d", "-t", self.inst.trace)
        trace = self.read_trace()
        self.assertIn(b"APOP", trace)
        self.assertNotIn(self.digest.encode(), trace)
        self.assertNotIn(SECRET.encode(), trace)


class TraceFileRefusedTest(InetdCase):
    def assertRefused(self, path):
        rc, out = self.run_on_pipes(b"QUIT\r\n", "-s", "-t", path)
        self.assertEqual(rc, 73, self.stderr_text())
        self.assertIn(path.encode(), self.stderr_text())
        self.assertEqual(out, b"")

    def test_symlink(self):
        target = os.path.join(self.inst.dir, "precious")
        with open(target, "wb") as f:
            f.write(b"keep me\n")
        link = os.path.join(self.inst.dir, "trace-link")
        os.symlink(target, link)
        self.assertRefused(link)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"keep me\n")
        # A dangling symlink must not create its target either.
        missing = os.path.join(self.inst.dir, "not-there")
        os.symlink(missing, link + "2")
        self.assertRefused(link + "2")
        self.assertFalse(os.path.exists(missing))

    def test_hard_link(self):
        target = os.path.join(self.inst.dir, "other")
        with open(target, "wb") as f:
            f.write(b"other file\n")
        link = os.path.join(self.inst.dir, "trace-hard")
        os.link(target, link)
        self.assertRefused(link)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"other file\n")

    def test_directory(self):
        self.assertRefused(self.inst.spool)


class CommandLineTest(InetdCase):
    def test_kerberos_refused(self):
        rc, _ = self.run_on_pipes(b"", "-k")
        self.assertEqual(rc, 64)
        self.assertIn(b"-k (Kerberos) is not supported", self.stderr_text())

    def test_bad_flag(self):
        rc, _ = self.run_on_pipes(b"", "-Z")
        self.assertEqual(rc, 64)

    def test_config_error(self):
        with open(self.inst.conf_path, "a") as f:
            f.write("no_such_key = 1\n")
        rc, _ = self.run_on_pipes(b"QUIT\r\n")
        self.assertEqual(rc, 78)
        lines = len(open(self.inst.conf_path).read().splitlines())
        self.assertIn(("posthorn.conf:%d" % lines).encode(),
                      self.stderr_text())


class InetdTlsAfterDropTest(InetdCase):
    """STLS under inetd with a key only root may read: popper reads the
    certificate and key before it becomes run_as, so STLS still works."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (popper drops to run_as = nobody)")
        self.inst = sup.Instance(self.fmt, plaintext=True, delay=0, tls=True,
                                 conf={"run_as": "nobody"})
        self.addCleanup(self.inst.cleanup)
        self.inst.add_user(USER, SECRET)  # popper needs its auth database
        key = self.inst.settings["tls_key"]
        os.chmod(key, 0o600)
        self.assertEqual(os.stat(key).st_uid, 0)
        self.stderr_path = os.path.join(self.inst.dir, "popper.stderr")

    def test_stls_with_a_root_only_key(self):
        def session(c):
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.cmd("STLS").startswith(b"+OK"))
            c.starttls()
            capa = c.cmd("CAPA")
            self.assertTrue(capa.startswith(b"+OK"), capa)
            self.assertIn(b"USER", c.multiline())  # over TLS now
            self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.run_on_socketpair(session), 0,
                         self.stderr_text())


if __name__ == "__main__":
    sup.main()
