#!/usr/bin/env python3
"""Hostile clients against the real smtp_sink_server, over raw sockets.

- SMTP smuggling: a message whose data holds a non-standard end of data
  (<LF>.<LF>, <CR>.<CR>, ...) followed by a second MAIL/RCPT/DATA. The
  server must never store the smuggled message: at most the carrier is
  stored, and no second transaction is ever started.
- STARTTLS command injection (CVE-2011-0411): "STARTTLS\\r\\nRSET\\r\\n" in
  one packet; after the handshake the RSET must not be answered.
- Talking before the greeting, and pipelining after EHLO (RFC 2920 forbids
  it): 554 5.5.0 and the connection is closed.

Usage: smtp_hostile_test.py --sink /path/to/smtp_sink_server [unittest args]
"""

import os
import socket
import struct
import time
import unittest

import smtp_support as sup

CARRIER = b"Subject: carrier\r\n\r\ncarrier body\r\n"
SMUGGLED_COMMANDS = (b"MAIL FROM:<evil@attacker.example>\r\n"
                     b"RCPT TO:<victim@y.example>\r\n"
                     b"DATA\r\n"
                     b"Subject: smuggled\r\n\r\nsmuggled body\r\n")

# The non-standard end-of-data sequences used in smuggling attacks.
FAKE_ENDS = {
    "lf_dot_lf": b"\n.\n",
    "lf_dot_crlf": b"\n.\r\n",
    "cr_dot_cr": b"\r.\r",
    "crlf_dot_lf": b"\r\n.\n",
    "cr_dot_crlf": b"\r.\r\n",
    "crlf_dot_cr": b"\r\n.\r",
    "lf_dot_cr": b"\n.\r",
}


class SinkCase(unittest.TestCase):
    sink_args = ()
    tls = False

    def setUp(self):
        sup.need_binary(self, "sink")
        self.server = sup.SinkServer(self.sink_args, tls=self.tls)
        self.addCleanup(self.server.stop)
        self.server.start()

    def client(self):
        c = sup.RawClient(self.server.host, self.server.port)
        self.addCleanup(c.close)
        return c

    def greeted(self, ehlo=True):
        c = self.client()
        code, _ = c.reply()
        self.assertEqual(code, 220)
        if ehlo:
            c.send(b"EHLO attacker.example\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250)
            c.ehlo_lines = lines
        return c


class SmugglingTest(SinkCase):
    def smuggle(self, fake_end):
        c = self.greeted()
        c.send(b"MAIL FROM:<carrier@x.example>\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.send(b"RCPT TO:<b@y.example>\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.send(b"DATA\r\n")
        self.assertEqual(c.reply()[0], 354)
        c.send(b"Subject: carrier\r\n\r\ncarrier body" + fake_end +
               SMUGGLED_COMMANDS + b".\r\n")
        # The server answers the one transaction it saw, then QUIT.
        code, lines = c.reply()
        c.send(b"QUIT\r\n")
        rest = c.read_until_close()
        finals = [code] + [int(l[:3]) for l in sup.replies_in(rest)]
        # Exactly one reply to the data, then 221 (or a close): never a 250
        # to a smuggled MAIL/RCPT nor a second 354.
        self.assertNotIn(354, finals, (lines, rest))
        self.assertLessEqual(len(finals), 2, (lines, rest))
        if len(finals) == 2:
            self.assertEqual(finals[1], 221, rest)
        stored = self.server.wait_messages(1, timeout=1.0)
        self.assertLessEqual(len(stored), 1, stored)
        for s in stored:
            self.assertNotEqual(s.mail_from, "evil@attacker.example")
            self.assertNotIn("victim@y.example", s.recipients)
            self.assertEqual(s.mail_from, "carrier@x.example")
        # By default the data is refused outright (bare CR/LF): 5xx.
        self.assertGreaterEqual(code, 500, lines)
        self.assertEqual(stored, [])
        return code, lines

    def test_each_fake_end_of_data(self):
        for name, fake_end in FAKE_ENDS.items():
            with self.subTest(name):
                for f in self.server.all_files():
                    os.unlink(os.path.join(self.server.maildir, f))
                self.smuggle(fake_end)

    def test_pipelined_smuggling_in_one_packet(self):
        # Everything, including the fake end and the second transaction,
        # in one write after DATA's 354 is requested in a pipeline group.
        c = self.greeted()
        c.send(b"MAIL FROM:<carrier@x.example>\r\n"
               b"RCPT TO:<b@y.example>\r\n"
               b"DATA\r\n")
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.reply()[0], 354)
        c.send(CARRIER[:-2] + b"\n.\n" + SMUGGLED_COMMANDS +
               b".\r\nQUIT\r\n")
        data = c.read_until_close()
        self.assertNotIn(b"\r\n354", b"\r\n" + data)
        self.assertEqual(self.server.wait_messages(1, timeout=1.0), [])

    def test_bare_lf_in_command_refused(self):
        c = self.greeted()
        c.send(b"MAIL FROM:<a@x.example>\n")
        c.send(b"NOOP\r\n")
        code, lines = c.reply()
        self.assertEqual(code // 100, 5, lines)

    def test_real_end_after_fake_is_the_only_end(self):
        # A body holding "\r\n..\r\n" (a stuffed dot line) is data, not an
        # end: the message is stored with the dot line unstuffed.
        c = self.greeted()
        for line, want in ((b"MAIL FROM:<a@x.example>", 250),
                           (b"RCPT TO:<b@y.example>", 250),
                           (b"DATA", 354)):
            c.send(line + b"\r\n")
            self.assertEqual(c.reply()[0], want)
        c.send(b"Subject: t\r\n\r\n..\r\nMAIL FROM:<no@x>\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.send(b"QUIT\r\n")
        self.assertEqual(c.reply()[0], 221)
        stored = self.server.wait_messages(1)
        self.assertEqual([s.data for s in stored],
                         [b"Subject: t\r\n\r\n.\r\nMAIL FROM:<no@x>\r\n"])


class StartTlsInjectionTest(SinkCase):
    tls = True

    def test_command_after_starttls_discarded(self):
        c = self.greeted()
        self.assertTrue(any(l[4:].upper() == b"STARTTLS"
                            for l in c.ehlo_lines), c.ehlo_lines)
        c.send(b"STARTTLS\r\nRSET\r\n")
        code, lines = c.reply()
        if code == 554:
            # Refusing the pipelined STARTTLS outright is safe too: the
            # connection must then be closed without a handshake.
            self.assertTrue(lines[0].startswith(b"554 5.5.0"), lines)
            self.assertEqual(c.read_until_close(), b"")
            return
        self.assertEqual(code, 220, lines)
        # Nothing more in plaintext (no reply to RSET before the handshake).
        self.assertEqual(c.buf, b"")
        c.starttls()
        # After the handshake the server waits for EHLO: the injected
        # RSET must not be answered.
        self.assertTrue(c.quiet_for(1.0), c.buf)
        c.send(b"EHLO client.example\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 250)
        self.assertGreater(len(lines), 1,
                           "EHLO reply expected, got %r" % lines)
        self.assertNotIn(b"STARTTLS", b"".join(lines))
        c.send(b"MAIL FROM:<a@x.example>\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.send(b"QUIT\r\n")
        self.assertEqual(c.reply()[0], 221)

    def test_mail_before_ehlo_after_tls_refused(self):
        # RFC 3207 4.2: the session starts again; the EHLO before STARTTLS
        # no longer counts.
        c = self.greeted()
        c.send(b"STARTTLS\r\n")
        self.assertEqual(c.reply()[0], 220)
        c.starttls()
        c.send(b"MAIL FROM:<a@x.example>\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 503, lines)

    def test_starttls_twice_refused(self):
        c = self.greeted()
        c.send(b"STARTTLS\r\n")
        self.assertEqual(c.reply()[0], 220)
        c.starttls()
        c.send(b"EHLO client.example\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.send(b"STARTTLS\r\n")
        code, lines = c.reply()
        self.assertEqual(code // 100, 5, lines)


class PregreetTest(SinkCase):
    # The check needs a greeting pause (PREGREET, like Postfix's
    # postscreen_greet_wait); without one the server greets at once.
    sink_args = ("--greet-pause", "1500")

    def test_polite_client_is_greeted_after_the_pause(self):
        c = self.client()
        code, lines = c.reply()
        self.assertEqual(code, 220, lines)
        c.send(b"EHLO polite.example\r\n")
        self.assertEqual(c.reply()[0], 250)

    def test_talk_before_greeting(self):
        # The EHLO is on the wire before the server could have greeted:
        # the first reply must be the refusal, not a 220.
        c = self.client()
        c.send(b"EHLO early.example\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 554,
                         "a client that talked before the greeting was "
                         "greeted: %r" % lines)
        self.assertTrue(lines[0].startswith(b"554 5.5.0"), lines)
        self.assertNotIn(b"250", c.read_until_close())


class PipeliningViolationTest(SinkCase):
    def test_pipelining_after_ehlo(self):
        c = self.greeted(ehlo=False)
        c.send(b"EHLO client.example\r\nMAIL FROM:<a@x.example>\r\n")
        data = c.read_until_close()
        finals = sup.replies_in(data)
        self.assertTrue(finals and finals[-1].startswith(b"554 5.5.0"),
                        data)
        # MAIL was never accepted.
        self.assertNotIn(b"2.1.0", data)

    def test_pipelining_after_data(self):
        c = self.greeted()
        c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
               b"DATA\r\nSubject: early\r\n\r\nx\r\n.\r\n")
        data = c.read_until_close()
        self.assertIn(b"554 5.5.0", data)
        self.assertNotIn(b"354", data)
        self.assertEqual(self.server.wait_messages(1, timeout=1.0), [])

    def test_allowed_pipelining_group(self):
        # MAIL, RCPT, RCPT and DATA last: allowed by RFC 2920.
        c = self.greeted()
        c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
               b"RCPT TO:<c@y.example>\r\nDATA\r\n")
        self.assertEqual([c.reply()[0] for _ in range(4)],
                         [250, 250, 250, 354])
        c.send(b"Subject: pipelined\r\n\r\nx\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.send(b"QUIT\r\n")
        self.assertEqual(c.reply()[0], 221)
        stored = self.server.wait_messages(1)
        self.assertEqual([(s.data, s.recipients) for s in stored],
                         [(b"Subject: pipelined\r\n\r\nx\r\n",
                           ["b@y.example", "c@y.example"])])


class GarbageTest(SinkCase):
    def test_nul_and_eight_bit_in_commands(self):
        c = self.greeted()
        for bad in (b"MAIL FROM:<a\x00b@x.example>", b"NO\x00OP",
                    b"MAIL FROM:<\xff\xfe@x.example>"):
            c.send(bad + b"\r\n")
            code, lines = c.reply()
            self.assertIn(code, (500, 501, 553, 555), (bad, lines))
        c.send(b"NOOP\r\n")
        self.assertEqual(c.reply()[0], 250)

    def test_shell_metacharacters_are_inert(self):
        # CVE-2020-7247 style: refused, or carried as data.
        c = self.greeted()
        c.send(b"MAIL FROM:<;sleep 66;>\r\n")
        code, _ = c.reply()
        if code == 250:
            c.send(b"RCPT TO:<b@y.example>\r\nDATA\r\n")
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 354)
            c.send(b"x\r\n.\r\n")
            self.assertEqual(c.reply()[0], 250)
            stored = self.server.wait_messages(1)
            self.assertEqual(stored[0].mail_from, ";sleep 66;")
        else:
            self.assertIn(code, (501, 553), code)

    def test_long_command_line(self):
        c = self.greeted()
        c.send(b"NOOP " + b"a" * 5000 + b"\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 500, lines)
        c.send(b"NOOP\r\n")
        self.assertEqual(c.reply()[0], 250)

    def test_many_errors_disconnect(self):
        c = self.greeted()
        start = time.monotonic()
        closed = False
        for _ in range(40):
            try:
                c.send(b"BOGUS\r\n")
                code, _ = c.reply()
            except (EOFError, ConnectionResetError, BrokenPipeError):
                closed = True
                break
            if code == 421:
                closed = True
                break
        self.assertTrue(closed)
        self.assertLess(time.monotonic() - start, 60)

    def test_abrupt_disconnect_mid_data(self):
        c = self.greeted()
        c.send(b"MAIL FROM:<a@x.example>\r\n")
        c.reply()
        c.send(b"RCPT TO:<b@y.example>\r\n")
        c.reply()
        c.send(b"DATA\r\n")
        self.assertEqual(c.reply()[0], 354)
        c.send(b"Subject: cut\r\n\r\nhalf a mess")
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        c.close()  # RST
        # The server is still up and stored nothing.
        d = self.greeted()
        d.send(b"QUIT\r\n")
        self.assertEqual(d.reply()[0], 221)
        self.assertEqual(self.server.names(), [])


if __name__ == "__main__":
    sup.main()
