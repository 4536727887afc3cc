#!/usr/bin/env python3
"""Hostile clients on raw sockets against the real popper.

- Bad message numbers (0, -1, 1x, 4294967296, +1, a deleted or missing
  message, TOP n -1) and over-long USER/PASS/APOP arguments: each a clean
  -ERR, and the session goes on (the next command is answered normally).
- User names that could reach a path (../x, a/b, empty, NUL, overlong)
  over USER/PASS, APOP and AUTH PLAIN: refused, and no file appears
  anywhere in the instance folder (a decoy mbox where ../x would point
  stays untouched).
- "STLS\\r\\nUSER x\\r\\n" in one packet: USER is answered neither in
  plaintext nor after the handshake.
- Failed logins are delayed (pop3_failed_login_delay = 1: measured) and
  the session closes after the third; the per-address limit refuses the
  next connection with -ERR [SYS/TEMP]; an idle session (-T 2) gets
  "-ERR autologout timer expired" and nothing it deleted is removed.

Usage: pop3_hostile_test.py --popper PATH --popauth PATH [unittest args]
"""

import base64
import os
import time
import unittest

import pop3_support as sup

USER = "dave"
SECRET = "d4ve-secret"


class HostileCase(unittest.TestCase):
    conf = {"pop3_address_max_failures": "0"}
    delay = 0
    popper_args = ()
    tls = False

    def setUp(self):
        self.inst = sup.Instance("mbox", plaintext=True, delay=self.delay,
                                 tls=self.tls, conf=self.conf)
        self.addCleanup(self.inst.cleanup)
        self.inst.add_user(USER, SECRET)
        self.messages = [sup.sample_message(1), sup.sample_message(2)]
        self.inst.put_messages(USER, self.messages)
        self.popper = self.inst.popper(*self.popper_args)
        self.addCleanup(self.popper.stop)
        self.popper.start()

    def connect(self):
        c = sup.Pop3Raw("127.0.0.1", self.popper.port)
        self.addCleanup(c.close)
        return c

    def login(self):
        c = self.connect()
        c.login_apop(USER, SECRET)
        return c

    def assertErr(self, line, what):
        self.assertTrue(line.startswith(b"-ERR"), (what, line))
        # A clean status line: printable text, no echo of raw bytes.
        self.assertTrue(all(0x20 <= b < 0x7F for b in line), (what, line))

    def assertGoesOn(self, c, what):
        r = c.cmd("NOOP")
        self.assertEqual(r, b"+OK", what)


class MessageNumberTest(HostileCase):
    def test_bad_numbers_each_clean_err(self):
        want = [sup.crlf(m) for m in self.messages]
        c = self.login()
        self.assertEqual(c.cmd("DELE 2"), b"+OK message 2 deleted")
        cases = ["RETR 0", "RETR -1", "RETR 1x", "RETR 4294967296",
                 "RETR +1", "RETR 2", "RETR 3", "DELE 0", "DELE -1",
                 "LIST 4294967296", "UIDL +1", "TOP 1 -1", "TOP 0 1",
                 "TOP 2 1", "DELE 2", "LIST 2"]
        for command in cases:
            self.assertErr(c.cmd(command), command)
            self.assertGoesOn(c, command)
        self.assertEqual(c.cmd("RETR 2"), b"-ERR message 2 already deleted")
        self.assertEqual(c.cmd("RETR 3"),
                         b"-ERR no such message, only 2 messages in "
                         b"maildrop")
        # Still a working session: RETR 1 is the stored message.
        self.assertEqual(c.retr(1), want[0])
        # A line count beyond 2^32 - 1 is refused; the largest accepted
        # one gives the whole message.
        self.assertEqual(c.cmd("TOP 1 99999999999"),
                         b"-ERR invalid line count")
        self.assertTrue(c.cmd("TOP 1 4294967295").startswith(b"+OK"))
        self.assertEqual(c.multiline(), want[0])
        self.assertTrue(c.cmd("RSET").startswith(b"+OK"))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertEqual(self.inst.stored_messages(USER), want)

    def test_overlong_arguments(self):
        c = self.connect()
        c.line()
        for command in (b"USER " + b"u" * 300, b"USER " + b"u" * 100,
                        b"PASS " + b"p" * 300, b"APOP " + b"a" * 300 +
                        b" " + b"0" * 32, b"APOP dave " + b"0" * 300,
                        b"AUTH PLAIN " + b"A" * 4000):
            self.assertErr(c.cmd(command), command[:20])
            self.assertTrue(c.cmd("CAPA").startswith(b"+OK"))
            c.multiline()
        # The session still accepts a good login.
        self.assertTrue(c.cmd("USER " + USER).startswith(b"+OK"))
        r = c.cmd("PASS " + SECRET)
        self.assertTrue(r.startswith(b"+OK"), r)
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))


class UserNameTest(HostileCase):
    BAD_NAMES = [b"../x", b"a/b", b"..", b".", b"/etc/passwd",
                 b"x" * 65, b"x" * 250, b"a\x00b", b"dave/../dave",
                 b".dave", b"dave.lock"]

    def setUp(self):
        super().setUp()
        # Where "../x" would lead from the spool: it must stay untouched.
        self.decoy = os.path.join(self.inst.dir, "x")
        with open(self.decoy, "wb") as f:
            f.write(self.inst.mbox_record(sup.sample_message(8)))
        # One good session first, so every file popper makes for a
        # normal login (index, lock files) exists before the snapshot.
        c = self.login()
        c.cmd("QUIT")
        c.read_until_close()

    def attempts(self, name):
        """Every login form with `name`; each must end in -ERR."""
        c = self.connect()
        c.line()
        r = c.cmd(b"USER " + name)
        if r.startswith(b"+OK"):
            r = c.cmd(b"PASS " + SECRET.encode())
        self.assertErr(r, name)
        c.close()
        c = self.connect()
        greeting = c.line()
        ts = sup.greeting_timestamp(greeting)
        r = c.cmd(b"APOP " + name + b" " +
                  sup.apop_digest(ts, SECRET).encode())
        self.assertErr(r, name)
        c.close()
        if b"\x00" not in name:
            c = self.connect()
            c.line()
            token = base64.b64encode(b"\x00" + name + b"\x00" +
                                     SECRET.encode())
            r = c.cmd(b"AUTH PLAIN " + token)
            self.assertErr(r, name)
            c.close()

    def test_bad_names_refused_and_no_file_created(self):
        before = self.inst.all_files()
        with open(self.decoy, "rb") as f:
            decoy = f.read()
        for name in self.BAD_NAMES:
            self.attempts(name)
        # Empty user names.
        c = self.connect()
        c.line()
        self.assertErr(c.cmd("USER"), "USER")
        self.assertErr(c.cmd("USER "), "USER ")
        self.assertErr(c.cmd(b"AUTH PLAIN " +
                             base64.b64encode(b"\x00\x00pw")), "PLAIN")
        c.close()
        time.sleep(0.2)
        after = self.inst.all_files()
        # popper's stderr capture is the only file that may change.
        self.assertEqual(sorted(after - before), [])
        with open(self.decoy, "rb") as f:
            self.assertEqual(f.read(), decoy)
        # The real user is unaffected.
        c = self.login()
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 2 "))
        c.cmd("QUIT")


class StlsInjectionTest(HostileCase):
    tls = True

    def test_pipelined_user_after_stls_is_discarded(self):
        c = self.connect()
        c.line()
        c.send(b"STLS\r\nUSER " + USER.encode() + b"\r\n")
        self.assertEqual(c.line(), b"+OK Begin TLS negotiation")
        # Nothing more in plaintext.
        self.assertEqual(c.buf, b"")
        self.assertTrue(c.quiet_for(0.5))
        c.starttls()
        # USER was dropped: PASS has no USER to follow, and the first
        # answer over TLS is PASS's.
        r = c.cmd("PASS " + SECRET)
        self.assertErr(r, "PASS after injected USER")
        self.assertTrue(c.cmd("USER " + USER).startswith(b"+OK"))
        r = c.cmd("PASS " + SECRET)
        self.assertTrue(r.startswith(b"+OK"), r)
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))

    def test_commands_in_the_handshake_packet_are_dropped(self):
        c = self.connect()
        c.line()
        # STLS and a partial line without its end.
        c.send(b"STLS\r\nUSER evil")
        self.assertEqual(c.line(), b"+OK Begin TLS negotiation")
        c.starttls()
        r = c.cmd("CAPA")
        self.assertEqual(r, b"+OK Capability list follows")
        caps = c.multiline()
        self.assertNotIn(b"STLS", caps)
        self.assertIn(b"USER", caps)


class LoginDelayTest(HostileCase):
    delay = 1

    def test_failed_logins_delayed_then_closed(self):
        c = self.connect()
        c.line()
        times = []
        for attempt in range(3):
            self.assertTrue(c.cmd("USER " + USER).startswith(b"+OK"))
            start = time.monotonic()
            r = c.cmd("PASS wrong-%d" % attempt)
            times.append(time.monotonic() - start)
            self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
        for t in times:
            self.assertGreaterEqual(t, 0.9, times)
        # Closed after the third failure.
        self.assertTrue(c.closed_within(5.0))
        # A good login is not delayed by a second.
        c = self.connect()
        c.line()
        c.cmd("USER " + USER)
        start = time.monotonic()
        r = c.cmd("PASS " + SECRET)
        self.assertTrue(r.startswith(b"+OK"), r)
        c.cmd("QUIT")
        self.assertLess(time.monotonic() - start, 10.0)


class AddressLimitTest(HostileCase):
    conf = {"pop3_address_max_failures": "2",
            "pop3_address_window": "10m"}

    def test_next_connection_refused(self):
        c = self.connect()
        c.line()
        for attempt in range(2):
            c.cmd("USER " + USER)
            r = c.cmd("PASS nope")
            self.assertTrue(r.startswith(b"-ERR [AUTH]"), r)
        c.close()
        c = self.connect()
        greeting = c.line()
        self.assertTrue(greeting.startswith(b"-ERR [SYS/TEMP]"), greeting)
        self.assertTrue(c.closed_within(5.0))
        # Even the right password cannot get in from this address now.
        c = self.connect()
        self.assertTrue(c.line().startswith(b"-ERR [SYS/TEMP]"))


class IdleTimeoutTest(HostileCase):
    popper_args = ("-T", "2")

    def test_autologout_deletes_nothing(self):
        c = self.login()
        self.assertEqual(c.cmd("DELE 1"), b"+OK message 1 deleted")
        start = time.monotonic()
        self.assertTrue(c.closed_within(15.0))
        waited = time.monotonic() - start
        self.assertIn(b"-ERR autologout timer expired\r\n", c.buf)
        self.assertGreaterEqual(waited, 1.5)
        self.assertEqual(self.inst.stored_messages(USER),
                         [sup.crlf(m) for m in self.messages])
        c = self.login()
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 2 "))
        c.cmd("QUIT")

    def test_autologout_in_authorization(self):
        c = self.connect()
        c.line()
        self.assertTrue(c.closed_within(15.0))
        self.assertEqual(c.buf, b"-ERR autologout timer expired\r\n")


if __name__ == "__main__":
    sup.main()
