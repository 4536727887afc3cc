#!/usr/bin/env python3
"""curl (libcurl's SMTP client) against the real smtp_sink_server.

What curl sends, checked against curl 7.88: the upload file as is (no LF
to CRLF conversion unless --crlf), a dot doubled only after CRLF, and
"\\r\\n.\\r\\n" or ".\\r\\n" to end depending on whether the file ends
with CRLF. So the stored file must equal canonical(file) for CRLF files
and for LF files sent with --crlf; a file with bare LFs sent without
--crlf must be refused (bare LF in DATA, the smuggling vector) and nothing
stored.

Usage: smtp_curl_test.py --sink /path/to/smtp_sink_server [unittest args]
"""

import os
import shutil
import tempfile
import unittest

import smtp_support as sup

CURL = shutil.which("curl")


@unittest.skipUnless(CURL, "curl not installed")
class CurlCase(unittest.TestCase):
    sink_args = ()
    tls = False
    listen = ("127.0.0.1:0",)

    def setUp(self):
        sup.need_binary(self, "sink")
        self.server = sup.SinkServer(self.sink_args, tls=self.tls,
                                     listen=self.listen)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.tmp = tempfile.mkdtemp(prefix="posthorn-curl-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, data, name="msg.eml"):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def curl(self, path, mail_from="a@x.example", rcpts=("b@y.example",),
             extra=()):
        url = "smtp://%s/client.example" % self.server.address
        args = [CURL, "-sS", "--max-time", "60", url,
                "--mail-from", mail_from]
        for r in rcpts:
            args += ["--mail-rcpt", r]
        args += list(extra) + ["-T", path]
        return sup.run(args)

    def assertSent(self, data, rcpts=("b@y.example",), extra=(),
                   expected=None):
        result = self.curl(self.write(data), rcpts=rcpts, extra=extra)
        self.assertEqual(result.returncode, 0,
                         (result.stderr, self.server.diagnostics()))
        stored = self.server.wait_messages(1)
        self.assertEqual(len(stored), 1, stored)
        want = sup.canonical(data) if expected is None else expected
        self.assertEqual(stored[0].data, want)
        self.assertEqual(stored[0].mail_from, "a@x.example")
        self.assertEqual(stored[0].recipients, list(rcpts))
        return stored[0]


class CurlPlainTest(CurlCase):
    def test_url_without_path(self):
        # With no domain in the URL, curl says EHLO with the uploaded
        # file's name ("hola_root.eml"), which is no RFC 5321 domain:
        # accepted like Postfix does, carried as data.
        path = self.write(b"Subject: no path\r\n\r\nx\r\n",
                          name="hola_root.eml")
        result = sup.run([CURL, "-sS", "--max-time", "60",
                          "smtp://%s" % self.server.address,
                          "--mail-from", "a@x.example",
                          "--mail-rcpt", "b@y.example", "-T", path])
        self.assertEqual(result.returncode, 0,
                         (result.stderr, self.server.diagnostics()))
        stored = self.server.wait_messages(1)
        self.assertEqual([m.data for m in stored],
                         [b"Subject: no path\r\n\r\nx\r\n"])

    def test_crlf_file(self):
        self.assertSent(b"Subject: curl\r\nFrom: a@x.example\r\n\r\n"
                        b"hello\r\nworld\r\n")

    def test_several_recipients(self):
        self.assertSent(b"Subject: many\r\n\r\nx\r\n",
                        rcpts=("b@y.example", "c@y.example", "d@z.example"))

    def test_dot_lines(self):
        self.assertSent(b"Subject: dots\r\n\r\n.\r\n..\r\n.x\r\nend\r\n")

    def test_no_final_newline(self):
        self.assertSent(b"Subject: open\r\n\r\nlast line", expected=(
            b"Subject: open\r\n\r\nlast line\r\n"))

    def test_lf_file_with_crlf_option(self):
        self.assertSent(b"Subject: lf\n\n.dot\nline\n", extra=("--crlf",),
                        expected=b"Subject: lf\r\n\r\n.dot\r\nline\r\n")

    def test_bare_lf_file_refused(self):
        # curl passes bare LFs through (and does not stuff "\n."): the
        # server must refuse the whole message and store nothing.
        result = self.curl(self.write(b"Subject: lf\n\nbody\n.\nMAIL FROM:"
                                      b"<evil@x>\n"))
        self.assertNotEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.server.names(), [])

    def test_large_message(self):
        data = b"Subject: large\r\n\r\n" + (b"L" * 998 + b"\r\n") * 3000
        self.assertSent(data)

    def test_ssl_reqd_without_starttls_fails(self):
        result = self.curl(self.write(b"Subject: x\r\n\r\nx\r\n"),
                           extra=("--ssl-reqd",))
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(self.server.names(), [])


class CurlStartTlsTest(CurlCase):
    tls = True

    def test_ssl_reqd_insecure(self):
        self.assertSent(b"Subject: tls\r\n\r\nover starttls\r\n",
                        extra=("--ssl-reqd", "--insecure"))

    def test_ssl_reqd_verified_with_cacert(self):
        cert, _ = sup.make_cert()
        self.assertSent(b"Subject: tls\r\n\r\nverified\r\n",
                        extra=("--ssl-reqd", "--cacert", cert))

    def test_unverified_certificate_refused_by_curl(self):
        result = self.curl(self.write(b"Subject: x\r\n\r\nx\r\n"),
                           extra=("--ssl-reqd",))
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(self.server.names(), [])


class CurlAuthTest(CurlCase):
    tls = True
    sink_args = ("--auth", "user:s3cret")

    def test_auth_plain_and_login(self):
        for mech in ("PLAIN", "LOGIN"):
            with self.subTest(mech):
                for f in self.server.all_files():
                    os.unlink(os.path.join(self.server.maildir, f))
                self.assertSent(
                    b"Subject: auth %s\r\n\r\nx\r\n" % mech.encode(),
                    extra=("--ssl-reqd", "--insecure", "--user",
                           "user:s3cret", "--login-options", "AUTH=" + mech))

    def test_wrong_password(self):
        result = self.curl(self.write(b"Subject: x\r\n\r\nx\r\n"),
                           extra=("--ssl-reqd", "--insecure", "--user",
                                  "user:bad"))
        self.assertEqual(result.returncode, 67, result.stderr)  # LOGIN_DENIED
        self.assertEqual(self.server.names(), [])


@unittest.skipUnless(sup.have_ipv6_loopback(), "no IPv6 loopback")
class CurlIpv6Test(CurlCase):
    listen = ("[::1]:0",)

    def test_ipv6(self):
        self.assertEqual(self.server.host, "::1")
        self.assertSent(b"Subject: v6\r\n\r\nx\r\n")


if __name__ == "__main__":
    sup.main()
