#!/usr/bin/env python3
"""swaks against the real smtp_sink_server: --pipeline, --tls, --auth.

swaks (checked with 20201014.0) sends the --data file with LF converted to
CRLF and leading dots doubled, then always "\r\n.\r\n": a file that
ends with a newline gets an empty line more. BODY has no final newline,
so the stored file must be canonical(BODY).
--tls needs swaks' TLS support (Debian package libnet-ssleay-perl): those
tests are skipped when `swaks --support` does not list TLS.

Usage: smtp_swaks_test.py --sink /path/to/smtp_sink_server [unittest args]
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import smtp_support as sup

SWAKS = shutil.which("swaks")


def swaks_has_tls():
    if not SWAKS:
        return False
    # This swaks' --support takes no argument: it lists every capability.
    result = subprocess.run([SWAKS, "--support"], capture_output=True,
                            timeout=60)
    return b"=== TLS supported" in result.stdout + result.stderr


HAS_TLS = swaks_has_tls()

BODY = (b"Subject: swaks\nFrom: a@x.example\n\n"
        b"first line\n.leading dot\n..two dots\n.\nlast")


@unittest.skipUnless(SWAKS, "swaks not installed")
class SwaksCase(unittest.TestCase):
    sink_args = ()
    tls = False

    def setUp(self):
        sup.need_binary(self, "sink")
        self.server = sup.SinkServer(self.sink_args, tls=self.tls)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.tmp = tempfile.mkdtemp(prefix="posthorn-swaks-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.data_file = os.path.join(self.tmp, "body.txt")
        with open(self.data_file, "wb") as f:
            f.write(BODY)

    def swaks(self, *extra, to="b@y.example"):
        args = [SWAKS, "--server", self.server.address, "--helo",
                "client.example", "--from", "a@x.example", "--to", to,
                "--data", "@" + self.data_file, "--timeout", "60"]
        return sup.run(args + list(extra))

    def assertDelivered(self, result, rcpts=("b@y.example",)):
        self.assertEqual(result.returncode, 0,
                         (result.stdout[-3000:], self.server.diagnostics()))
        stored = self.server.wait_messages(1)
        self.assertEqual(len(stored), 1, stored)
        self.assertEqual(stored[0].data, sup.canonical(BODY))
        self.assertEqual(stored[0].mail_from, "a@x.example")
        self.assertEqual(stored[0].recipients, list(rcpts))


class SwaksPlainTest(SwaksCase):
    def test_plain(self):
        self.assertDelivered(self.swaks())

    def test_pipeline(self):
        result = self.swaks("--pipeline", to="b@y.example,c@y.example")
        self.assertIn(b"PIPELINING", result.stdout)
        self.assertDelivered(result, ("b@y.example", "c@y.example"))

    def test_tls_required_but_not_offered(self):
        if not HAS_TLS:
            self.skipTest("swaks without TLS support")
        result = self.swaks("--tls")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(self.server.names(), [])


@unittest.skipUnless(HAS_TLS, "swaks without TLS support "
                     "(install libnet-ssleay-perl)")
class SwaksTlsTest(SwaksCase):
    tls = True

    def test_tls(self):
        result = self.swaks("--tls")
        self.assertIn(b"STARTTLS", result.stdout)
        self.assertDelivered(result)

    def test_tls_pipeline(self):
        self.assertDelivered(self.swaks("--tls", "--pipeline"))


@unittest.skipUnless(HAS_TLS, "swaks without TLS support "
                     "(install libnet-ssleay-perl)")
class SwaksAuthTest(SwaksCase):
    tls = True
    sink_args = ("--auth", "user:s3cret")

    def test_auth_plain(self):
        self.assertDelivered(self.swaks(
            "--tls", "--auth", "PLAIN", "--auth-user", "user",
            "--auth-password", "s3cret"))

    def test_auth_login(self):
        self.assertDelivered(self.swaks(
            "--tls", "--auth", "LOGIN", "--auth-user", "user",
            "--auth-password", "s3cret", "--pipeline"))

    def test_auth_wrong_password(self):
        result = self.swaks("--tls", "--auth", "PLAIN", "--auth-user", "user",
                            "--auth-password", "nope")
        self.assertEqual(result.returncode, 28, result.stdout[-2000:])
        self.assertIn(b"535", result.stdout)
        self.assertEqual(self.server.names(), [])

    def test_auth_without_tls_refused(self):
        result = self.swaks("--auth", "PLAIN", "--auth-user", "user",
                            "--auth-password", "s3cret")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(self.server.names(), [])


class SwaksPlaintextAuthTest(SwaksCase):
    sink_args = ("--auth", "user:s3cret", "--plaintext-auth")

    def test_auth_login_plaintext(self):
        self.assertDelivered(self.swaks(
            "--auth", "LOGIN", "--auth-user", "user",
            "--auth-password", "s3cret"))


if __name__ == "__main__":
    sup.main()
