#!/usr/bin/env python3
"""The whole path through the real MTA: SMTP client -> sendmail -bd ->
queue -> local delivery -> maildrop -> popper -> poplib.

Clients: curl (smtp://, also with --ssl-reqd and AUTH), swaks (plain, TLS,
AUTH PLAIN), python's smtplib (plain, STARTTLS, AUTH PLAIN). Each message
read back through popper must be the message sent, byte for byte, below
the Received: field the MTA put on top (lines with leading dots and
"From " lines included: the mbox quoting is undone by popper). Also: an
unknown local user is refused at RCPT (550 5.1.1), VRFY 252, EXPN 502,
HELP shows the help file, more than 100 Received: fields gives
554 5.4.6, AUTH PLAIN from an untrusted address lets a client relay.

Usage: mta_path_test.py --sendmail PATH --popper PATH --popauth PATH
"""

import os
import shutil
import smtplib
import subprocess
import tempfile
import unittest
import uuid

import mta_support as sup
import smtp_support

CURL = shutil.which("curl")
SWAKS = shutil.which("swaks")

USERS = {"alice": "alice-Secret1", "bob": "bob-Secret2"}


def swaks_has_tls():
    if not SWAKS:
        return False
    # This swaks' --support takes no argument: it lists every capability.
    r = subprocess.run([SWAKS, "--support"], capture_output=True, timeout=60)
    return b"=== TLS supported" in r.stdout + r.stderr


HAS_TLS = swaks_has_tls()


def message(tag, crlf=True):
    """A message with the lines that need care in SMTP and in an mbox."""
    text = (b"From: Sender <sender@client.example>\n"
            b"To: alice@a.test\n"
            b"Subject: path test " + tag.encode() + b"\n"
            b"Message-ID: <" + tag.encode() + b"@client.example>\n"
            b"\n"
            b"first line of " + tag.encode() + b"\n"
            b".a line with a leading dot\n"
            b"..two dots\n"
            b"From the start of a line\n"
            b">From quoted already\n"
            b"\n"
            b"last line\n")
    return smtp_support.canonical(text) if crlf else text


class PathTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sup.start_with_remote(
            cls, ["remote.test"], hostname="a.test", tls=True, users=USERS,
            aliases={"postmaster": "alice"},
            help_lines=["posthorn-test-help first line",
                        "posthorn-test-help second line"])
        cls.tmp = tempfile.mkdtemp(prefix="posthorn-mta-path-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)

    def tag(self):
        return "%s-%s" % (self._testMethodName, uuid.uuid4().hex[:8])

    def write(self, data):
        path = os.path.join(self.tmp, uuid.uuid4().hex + ".eml")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def smtp(self, source=None):
        return sup.smtp_client(self, self.daemon.port, "client.example",
                               source)

    def received(self, user, tag):
        """The one message of `user` holding `tag`, read with poplib after
        it reached the maildrop."""
        self.assertTrue(self.inst.wait_tag(user, tag),
                        "no message %s for %s; queue:\n%s\nlog:\n%s" %
                        (tag, user, self.inst.mailq(),
                         self.daemon.log_text()[-3000:]))
        found = self.inst.fetch_tagged(user, tag)
        self.assertEqual(len(found), 1, found)
        return found[0]

    def assertSameBelowReceived(self, got, sent, protocol=None):
        fields, rest = sup.strip_received_fields(got)
        self.assertEqual(len(fields), 1, fields)
        self.assertEqual(rest, sent)
        self.assertIn(b"by a.test", fields[0])
        if protocol:
            self.assertRegex(fields[0], rb"with " + protocol.encode() + rb"\b")
        return fields[0]

    # -- smtplib --------------------------------------------------------------

    def test_smtplib_plain(self):
        tag = self.tag()
        sent = message(tag)
        client = self.smtp()
        refused = client.sendmail("sender@client.example", ["alice@a.test"],
                                  sent)
        self.assertEqual(refused, {})
        client.quit()
        field = self.assertSameBelowReceived(self.received("alice", tag),
                                             sent, "ESMTP")
        self.assertIn(b"client.example", field)
        self.assertIn(b"for <alice@a.test>", field)

    def test_smtplib_two_recipients_and_alias(self):
        tag = self.tag()
        sent = message(tag)
        client = self.smtp()
        self.assertEqual(client.sendmail("sender@client.example",
                                         ["bob@a.test", "postmaster@a.test"],
                                         sent), {})
        client.quit()
        self.assertSameBelowReceived(self.received("bob", tag), sent)
        self.assertSameBelowReceived(self.received("alice", tag), sent)

    def test_smtplib_starttls(self):
        tag = self.tag()
        sent = message(tag)
        client = self.smtp()
        client.ehlo()
        self.assertTrue(client.has_extn("starttls"))
        client.starttls(context=smtp_support.insecure_context())
        client.ehlo()
        self.assertEqual(client.sendmail("sender@client.example",
                                         ["alice@a.test"], sent), {})
        client.quit()
        self.assertSameBelowReceived(self.received("alice", tag), sent,
                                     "ESMTPS")

    def test_smtplib_auth_plain_relays_from_untrusted_address(self):
        tag = self.tag()
        sent = message(tag)
        before = len(self.remote.transactions)
        client = self.smtp(source="127.0.0.2")
        client.ehlo()
        client.starttls(context=smtp_support.insecure_context())
        client.ehlo()
        code, _ = client.login("bob", USERS["bob"])
        self.assertEqual(code, 235)
        self.assertEqual(client.sendmail("bob@a.test", ["someone@remote.test"],
                                         sent), {})
        client.quit()
        self.assertTrue(sup.wait_until(
            lambda: len(self.remote.transactions) > before,
            sup.DELIVERY_TIMEOUT), self.daemon.log_text()[-3000:])
        t = self.remote.transactions[-1]
        self.assertEqual(t["mail_from"], "bob@a.test")
        self.assertEqual(t["recipients"], ["someone@remote.test"])
        fields, rest = sup.strip_received_fields(t["data"])
        self.assertEqual(rest, sent)
        self.assertRegex(fields[0], rb"with ESMTPSA\b")

    def test_auth_with_a_wrong_password_is_refused(self):
        client = self.smtp(source="127.0.0.2")
        client.ehlo()
        client.starttls(context=smtp_support.insecure_context())
        client.ehlo()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            client.login("bob", "wrong-password")
        self.assertEqual(cm.exception.smtp_code, 535)

    # -- curl -------------------------------------------------------------------

    def curl(self, path, rcpts, extra=()):
        args = [CURL, "-sS", "--max-time", "60",
                "smtp://127.0.0.1:%d/client.example" % self.daemon.port,
                "--mail-from", "sender@client.example"]
        for r in rcpts:
            args += ["--mail-rcpt", r]
        args += list(extra) + ["--upload-file", path]
        return subprocess.run(args, capture_output=True, timeout=90)

    @unittest.skipUnless(CURL, "curl not installed")
    def test_curl(self):
        tag = self.tag()
        sent = message(tag)
        r = self.curl(self.write(sent), ["alice@a.test"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameBelowReceived(self.received("alice", tag), sent)

    @unittest.skipUnless(CURL, "curl not installed")
    def test_curl_lf_file_with_crlf_option(self):
        tag = self.tag()
        r = self.curl(self.write(message(tag, crlf=False)), ["alice@a.test"],
                      extra=("--crlf",))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameBelowReceived(self.received("alice", tag), message(tag))

    @unittest.skipUnless(CURL, "curl not installed")
    def test_curl_lf_file_without_crlf_is_refused(self):
        # Bare LF in DATA is the smuggling vector: refused, nothing stored.
        tag = self.tag()
        r = self.curl(self.write(message(tag, crlf=False)), ["alice@a.test"])
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(any(tag.encode() in m
                             for m in self.inst.stored("alice")))

    @unittest.skipUnless(CURL, "curl not installed")
    def test_curl_starttls_and_auth(self):
        tag = self.tag()
        sent = message(tag)
        r = self.curl(self.write(sent), ["alice@a.test"],
                      extra=("--ssl-reqd", "--insecure",
                             "--user", "alice:" + USERS["alice"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameBelowReceived(self.received("alice", tag), sent,
                                     "ESMTPSA")

    @unittest.skipUnless(CURL, "curl not installed")
    def test_curl_unknown_user_fails_at_rcpt(self):
        r = self.curl(self.write(message(self.tag())), ["nosuchuser@a.test"],
                      extra=("-v",))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"< 550 5.1.1", r.stderr)

    # -- swaks ------------------------------------------------------------------

    def swaks(self, body, *extra, to="alice@a.test"):
        args = [SWAKS, "--server", "127.0.0.1:%d" % self.daemon.port,
                "--helo", "client.example", "--from", "sender@client.example",
                "--to", to, "--data", "@" + self.write(body),
                "--timeout", "60"] + list(extra)
        return subprocess.run(args, capture_output=True, timeout=90)

    @unittest.skipUnless(SWAKS, "swaks not installed")
    def test_swaks(self):
        tag = self.tag()
        # swaks converts LF to CRLF and always ends with CRLF "." CRLF: a
        # body without a final newline arrives as canonical(body).
        body = message(tag, crlf=False).rstrip(b"\n")
        r = self.swaks(body, "--pipeline")
        self.assertEqual(r.returncode, 0, r.stdout[-3000:])
        self.assertSameBelowReceived(self.received("alice", tag),
                                     smtp_support.canonical(body))

    @unittest.skipUnless(HAS_TLS, "swaks without TLS support")
    def test_swaks_tls_auth_plain_relay_from_untrusted_address(self):
        tag = self.tag()
        body = message(tag, crlf=False).rstrip(b"\n")
        before = len(self.remote.transactions)
        r = self.swaks(body, "--tls", "--auth", "PLAIN",
                       "--auth-user", "alice",
                       "--auth-password", USERS["alice"],
                       "--local-interface", "127.0.0.2",
                       to="friend@remote.test")
        self.assertEqual(r.returncode, 0, r.stdout[-3000:])
        self.assertTrue(sup.wait_until(
            lambda: len(self.remote.transactions) > before,
            sup.DELIVERY_TIMEOUT), self.daemon.log_text()[-3000:])
        _, rest = sup.strip_received_fields(self.remote.transactions[-1]["data"])
        self.assertEqual(rest, smtp_support.canonical(body))

    # -- replies ----------------------------------------------------------------

    def test_unknown_local_user_refused_at_rcpt(self):
        client = self.smtp()
        client.ehlo()
        client.mail("sender@client.example")
        code, text = client.rcpt("nosuchuser@a.test")
        self.assertEqual(code, 550, text)
        self.assertTrue(text.startswith(b"5.1.1"), text)
        code, _ = client.rcpt("alice@a.test")
        self.assertEqual(code, 250)

    def test_vrfy_expn_help(self):
        client = self.smtp()
        client.ehlo()
        code, text = client.verify("alice")
        self.assertEqual(code, 252, text)
        code, text = client.expn("postmaster")
        self.assertEqual(code, 502, text)
        code, text = client.docmd("HELP")
        self.assertEqual(code, 214, text)
        self.assertIn(b"posthorn-test-help first line", text)
        self.assertIn(b"posthorn-test-help second line", text)

    def hops(self, count, tag):
        fields = b"".join(b"Received: from hop%d.example by hop%d.example; "
                          b"Thu, 26 Nov 2026 09:00:00 +0000\r\n" % (i, i + 1)
                          for i in range(count))
        return fields + message(tag)

    def test_hop_limit(self):
        tag = self.tag()
        client = self.smtp()
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            client.sendmail("sender@client.example", ["alice@a.test"],
                            self.hops(101, tag))
        self.assertEqual(cm.exception.smtp_code, 554)
        self.assertTrue(cm.exception.smtp_error.startswith(b"5.4.6"),
                        cm.exception.smtp_error)
        # The session goes on; exactly 100 is still accepted.
        tag2 = self.tag()
        client.rset()
        self.assertEqual(client.sendmail("sender@client.example",
                                         ["alice@a.test"],
                                         self.hops(100, tag2)), {})
        client.quit()
        got = self.received("alice", tag2)
        self.assertEqual(len(sup.strip_received_fields(got)[0]), 101)
        self.assertFalse(any(tag.encode() in m
                             for m in self.inst.stored("alice")))


class AtOnceTest(unittest.TestCase):
    """A daemon whose periodic queue run is an hour away still delivers
    what SMTP accepted at once (the runner is kicked per message)."""

    def test_smtp_mail_delivered_without_a_queue_run(self):
        inst = sup.Instance(hostname="a.test", users=USERS)
        self.addCleanup(inst.cleanup)
        daemon = inst.daemon(interval="1h")
        self.addCleanup(daemon.stop)
        tag = "at-once-" + uuid.uuid4().hex[:8]
        client = sup.smtp_client(self, daemon.port, "client.example")
        self.assertEqual(client.sendmail("sender@client.example",
                                         ["alice@a.test"], message(tag)), {})
        client.quit()
        got = inst.wait_mail("alice", 1, timeout=15)
        self.assertTrue(any(tag.encode() in m for m in got),
                        "not delivered within 15s; queue:\n%s\nlog:\n%s" %
                        (inst.mailq(), daemon.log_text()[-3000:]))


if __name__ == "__main__":
    sup.main()
