#!/usr/bin/env python3
"""curl's POP3 client (libcurl) against the real popper.

curl logs in with AUTH PLAIN when CAPA offers SASL PLAIN (plaintext
allowed), or with APOP when the greeting has a timestamp; it prints the
LIST body for a URL without a path, the unstuffed message for "/N", and
runs a custom command with -X (with -I for a one-line answer). Every case
is checked against the maildrop on disk. --ssl-reqd makes curl send STLS
and refuse to go on without it; the certificate is checked with --cacert
or skipped with -k.

Skipped when curl is missing or lacks pop3 (curl --version "Protocols:").

Usage: pop3_curl_test.py --popper PATH --popauth PATH [unittest args]
"""

import shutil
import subprocess
import unittest

import pop3_support as sup

CURL = shutil.which("curl")
USER = "carol"
APOP = ("--login-options", "AUTH=+APOP")
SECRET = "c4rol-pw"


def curl_protocols():
    if not CURL:
        return set(), set()
    out = subprocess.run([CURL, "--version"], capture_output=True,
                         timeout=30).stdout.decode("utf-8", "replace")
    protocols, features = set(), set()
    for line in out.splitlines():
        if line.startswith("Protocols:"):
            protocols = set(line.split()[1:])
        if line.startswith("Features:"):
            features = set(line.split()[1:])
    return protocols, features


PROTOCOLS, FEATURES = curl_protocols()
HAVE_POP3 = "pop3" in PROTOCOLS
HAVE_TLS = HAVE_POP3 and ("SSL" in FEATURES or "pop3s" in PROTOCOLS)


@unittest.skipUnless(HAVE_POP3, "curl without pop3 support")
class CurlCase:
    fmt = None
    plaintext = True

    # One instance and popper per class; each test gets a fresh maildrop.
    @classmethod
    def setUpClass(cls):
        cls.inst = sup.Instance(cls.fmt, plaintext=cls.plaintext, tls=True)
        cls.addClassCleanup(cls.inst.cleanup)
        cls.inst.add_user(USER, SECRET)
        cls.popper = cls.inst.popper()
        cls.addClassCleanup(cls.popper.stop)
        cls.popper.start()

    def setUp(self):
        sup.wait_unlocked(self.popper.port, USER, SECRET)
        self.messages = [sup.sample_message(1),
                         sup.sample_message(2, body_lines=300),
                         sup.sample_message(3)]
        self.inst.put_messages(USER, self.messages)

    def url(self, path="/", host="127.0.0.1"):
        return "pop3://%s:%s@%s:%d%s" % (USER, SECRET, host,
                                         self.popper.port, path)

    def curl(self, *args):
        r = subprocess.run([CURL, "-sS", "--max-time", "60"] + list(args),
                           capture_output=True, timeout=90)
        return r

    def ok(self, *args):
        r = self.curl(*args)
        self.assertEqual(r.returncode, 0,
                         (args, r.stderr, self.popper.stderr_text()))
        return r.stdout

    def want(self):
        return [sup.crlf(m) for m in self.messages]


class PlainCurlCase(CurlCase):
    def test_list(self):
        r = self.curl("-v", self.url("/"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"> AUTH PLAIN", r.stderr)
        out = r.stdout
        self.assertEqual(out, b"".join(b"%d %d\r\n" % (i + 1, len(m))
                                       for i, m in enumerate(self.want())))

    def test_retr_is_byte_exact(self):
        # APOP: PLAIN would cost a crypt() per curl run (test_list uses it).
        for i, m in enumerate(self.want()):
            self.assertEqual(self.ok(*APOP, self.url("/%d" % (i + 1))), m)

    def test_retr_with_apop(self):
        r = self.curl("-v", *APOP, self.url("/3"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.want()[2])
        self.assertIn(b"> APOP " + USER.encode() + b" ", r.stderr)

    def test_uidl_custom_command(self):
        out = self.ok(*APOP, "-X", "UIDL", self.url("/"))
        self.assertEqual(out, b"".join(
            b"%d %s\r\n" % (i + 1, u.encode())
            for i, u in enumerate(self.inst.expected_uids(USER))))

    def test_dele(self):
        self.ok(*APOP, "-X", "DELE 1", "-I", self.url("/"))
        want = self.want()
        self.assertEqual(self.inst.stored_messages(USER), want[1:])
        out = self.ok(*APOP, self.url("/"))
        self.assertEqual(out, b"".join(b"%d %d\r\n" % (i + 1, len(m))
                                       for i, m in enumerate(want[1:])))

    def test_wrong_password_fails(self):
        r = self.curl("pop3://%s:wrong@127.0.0.1:%d/" %
                      (USER, self.popper.port))
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.inst.stored_messages(USER), self.want())

    def test_missing_message(self):
        r = self.curl(*APOP, self.url("/9"))
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, b"")

    @unittest.skipUnless(HAVE_TLS, "curl without TLS")
    def test_ssl_reqd_stls_cacert(self):
        cert, _ = sup.make_cert()
        out = self.ok("--ssl-reqd", "--cacert", cert, self.url("/2"))
        self.assertEqual(out, self.want()[1])

    @unittest.skipUnless(HAVE_TLS, "curl without TLS")
    def test_ssl_reqd_stls_insecure_and_dele(self):
        self.ok("--ssl-reqd", "-k", "-X", "DELE 2", "-I", self.url("/"))
        want = self.want()
        self.assertEqual(self.inst.stored_messages(USER),
                         [want[0], want[2]])

    @unittest.skipUnless(HAVE_TLS, "curl without TLS")
    def test_ssl_reqd_refuses_untrusted_certificate(self):
        r = self.curl("--ssl-reqd", self.url("/1"))
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, b"")


class MboxCurlTest(PlainCurlCase, unittest.TestCase):
    fmt = "mbox"


class MaildirCurlTest(PlainCurlCase, unittest.TestCase):
    fmt = "maildir"


@unittest.skipUnless(HAVE_TLS, "curl without TLS")
class NoPlaintextCurlTest(CurlCase, unittest.TestCase):
    """plaintext_auth = no: curl's PLAIN only once TLS is up."""
    fmt = "mbox"
    plaintext = False

    def test_ssl_reqd_login_with_plain_after_stls(self):
        cert, _ = sup.make_cert()
        out = self.ok("--ssl-reqd", "--cacert", cert,
                      "--login-options", "AUTH=PLAIN", self.url("/1"))
        self.assertEqual(out, self.want()[0])

    def test_plain_refused_without_tls(self):
        r = self.curl("--login-options", "AUTH=PLAIN", self.url("/1"))
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, b"")


if __name__ == "__main__":
    sup.main()
