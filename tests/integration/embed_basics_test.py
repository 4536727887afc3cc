#!/usr/bin/env python3
"""Runs the three examples of docs/embedding.md (examples/embed_basics/)
against each other and against python's smtplib:

  - embedded_server (STARTTLS with a throw-away self-signed certificate,
    AUTH demo/demo-secret, each message stored as FOLDER/N.eml);
  - build_and_send sends it a multipart message with an attachment over
    STARTTLS + AUTH, checking the certificate against that CA file;
  - parse_and_walk reads the stored message back and must print the
    attachment's filename and its decoded size, equal to the original's.

And the failures: no AUTH, a wrong password, a server without TLS, a
certificate from another CA all give a non-zero exit and store nothing.

Usage: embed_basics_test.py --parse-and-walk PATH --build-and-send PATH
                            --embedded-server PATH [unittest args]

All traffic is on 127.0.0.1, the server on port 0; every wait is bounded.
"""

import os
import re
import select
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

PATHS = {"--parse-and-walk": "", "--build-and-send": "",
         "--embedded-server": ""}
RUN_TIMEOUT = 60      # seconds for one example run
START_TIMEOUT = 30    # until "listening on"
STOP_TIMEOUT = 15     # after SIGTERM
USER, PASSWORD = "demo", "demo-secret"
EX_UNAVAILABLE, EX_TEMPFAIL = 69, 75


def take_paths():
    args, rest, i = sys.argv[1:], [], 0
    while i < len(args):
        if args[i] in PATHS and i + 1 < len(args):
            PATHS[args[i]] = os.path.abspath(args[i + 1])
            i += 2
        else:
            rest.append(args[i])
            i += 1
    sys.argv[1:] = rest


def make_cert(folder, name):
    """A self-signed certificate for 127.0.0.1 / localhost (its own CA)."""
    cert = os.path.join(folder, name + "-cert.pem")
    key = os.path.join(folder, name + "-key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=RUN_TIMEOUT)
    return cert, key


def check_clean(test, stderr, what):
    """No sanitizer report in a program's output (sanitizer builds)."""
    test.assertNotRegex(stderr or "",
                        r"ERROR: (Address|Leak)Sanitizer|runtime error: ",
                        what)


class Server:
    """embedded_server on 127.0.0.1 port 0, stopped by SIGTERM."""

    def __init__(self, folder, tls_files=None):
        args = [PATHS["--embedded-server"], "0", folder]
        if tls_files:
            args += list(tls_files)
        self.folder = folder
        self.result = None
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self._read_line(START_TIMEOUT)
        m = re.match(rb"listening on 127\.0\.0\.1:(\d+)$", line.strip())
        if not m:
            self.proc.kill()
            out, err = self.proc.communicate(timeout=STOP_TIMEOUT)
            raise AssertionError("embedded_server did not start: %r %r %r" %
                                 (line, out, err))
        self.port = int(m.group(1))

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        line = b""
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n") and len(line) < 4096:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            byte = os.read(fd, 1)
            if not byte:
                break
            line += byte
        return line

    def stored(self):
        return sorted(f for f in os.listdir(self.folder)
                      if f.endswith(".eml"))

    def stop(self):
        """SIGTERM (once); returns (exit status, stdout, stderr), status
        None when it had to be killed."""
        if self.result is None:
            self.proc.send_signal(signal.SIGTERM)
            status = None
            try:
                out, err = self.proc.communicate(timeout=STOP_TIMEOUT)
                status = self.proc.returncode
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, err = self.proc.communicate(timeout=STOP_TIMEOUT)
            self.result = (status, out.decode(), err.decode())
        return self.result


class EmbedBasicsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for flag, path in PATHS.items():
            if not path or not os.access(path, os.X_OK):
                raise AssertionError("%s PATH is required" % flag)
        cls.certs = tempfile.mkdtemp(prefix="posthorn-embed-certs-")
        cls.tls = make_cert(cls.certs, "server")
        cls.other_ca, _ = make_cert(cls.certs, "other")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, True)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="posthorn-embed-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.server = None

    def start(self, tls=True):
        self.server = Server(os.path.join(self.tmp, "inbox"),
                             self.tls if tls else None)
        self.addCleanup(self.stop_checked)
        return self.server

    def stop_checked(self):
        """Every test ends with a clean SIGTERM shutdown (exit 0)."""
        status, out, err = self.server.stop()
        check_clean(self, err, "embedded_server")
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"stopped after \d+ message\(s\)")

    def run_example(self, args, env_extra=None, stdin=None):
        env = {k: v for k, v in os.environ.items()
               if k not in ("SMTP_USER", "SMTP_PASSWORD")}
        env.update(env_extra or {})
        result = subprocess.run(args, env=env, input=stdin,
                                capture_output=True, timeout=RUN_TIMEOUT)
        check_clean(self, result.stderr.decode(errors="replace"), args[0])
        return result

    def send(self, server, attachment=None, auth=(USER, PASSWORD), ca=None):
        args = [PATHS["--build-and-send"], "127.0.0.1", str(server.port),
                ca or self.tls[0], "ana@example.org", "bo@example.net"]
        if attachment:
            args.append(attachment)
        env = {"SMTP_USER": auth[0], "SMTP_PASSWORD": auth[1]} if auth else {}
        return self.run_example(args, env)

    def walk(self, path):
        result = self.run_example([PATHS["--parse-and-walk"], path])
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.decode()

    def assertRefused(self, result, server):
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertGreater(result.returncode, 0, "killed by a signal")
        self.assertEqual(server.stored(), [])

    # -- build_and_send -> embedded_server -> parse_and_walk ---------------

    def test_attachment_arrives_and_is_walked(self):
        server = self.start()
        data = os.urandom(150_001)  # not a multiple of 3: base64 padding
        attachment = os.path.join(self.tmp, "report 2024.bin")
        with open(attachment, "wb") as f:
            f.write(data)
        result = self.send(server, attachment)
        out = result.stdout.decode()
        self.assertEqual(result.returncode, 0, (out, result.stderr))
        self.assertRegex(out, r"rcpt <bo@example\.net>: 250 ")
        self.assertRegex(out, r"final: 250 2\.0\.0 Ok: stored as 1\.eml")
        self.assertEqual(server.stored(), ["1.eml"])

        walk = self.walk(os.path.join(server.folder, "1.eml"))
        self.assertIn("From: ana@example.org\n", walk)
        self.assertIn("To: bo@example.net\n", walk)
        # The subject has a non-ASCII dash: sent as an encoded word,
        # printed decoded.
        self.assertIn("Subject: Report \u2013 posthorn example\n", walk)
        self.assertIn("multipart/mixed (2 parts)", walk)
        self.assertRegex(walk, r"\n  text/plain .*-> \d+ bytes decoded")
        m = re.search(r'application/octet-stream attachment '
                      r'filename="report 2024\.bin" base64 -> (\d+) bytes',
                      walk)
        self.assertIsNotNone(m, walk)
        self.assertEqual(int(m.group(1)), len(data))
        self.assertNotIn("defect", walk)

    def test_generated_attachment(self):
        server = self.start()
        result = self.send(server)
        self.assertEqual(result.returncode, 0, result.stderr)
        walk = self.walk(os.path.join(server.folder, "1.eml"))
        m = re.search(r'filename="generated\.bin" base64 -> (\d+) bytes',
                      walk)
        self.assertIsNotNone(m, walk)
        self.assertEqual(int(m.group(1)), 100 * 1024)

    def test_messages_are_numbered(self):
        server = self.start()
        for _ in range(3):
            self.assertEqual(self.send(server).returncode, 0)
        self.assertEqual(server.stored(), ["1.eml", "2.eml", "3.eml"])
        status, out, err = server.stop()
        self.assertEqual(status, 0, err)
        self.assertEqual(len(re.findall(r"^message \d+: from "
                                        r"<ana@example\.org> to 1 ", out,
                                        re.M)), 3, out)
        self.assertIn("stopped after 3 message(s)", out)

    # -- what must fail ------------------------------------------------------

    def test_without_auth_is_refused(self):
        server = self.start()
        result = self.send(server, auth=None)
        self.assertRefused(result, server)
        self.assertEqual(result.returncode, EX_UNAVAILABLE)
        self.assertRegex(result.stdout.decode(), r"final: 530 ")

    def test_wrong_password_is_refused(self):
        server = self.start()
        self.assertRefused(self.send(server, auth=(USER, "guess")), server)

    def test_server_without_tls_is_refused(self):
        server = self.start(tls=False)
        result = self.send(server)
        self.assertRefused(result, server)
        self.assertEqual(result.returncode, EX_UNAVAILABLE)

    def test_certificate_of_another_ca_is_refused(self):
        server = self.start()
        result = self.send(server, ca=self.other_ca)
        self.assertRefused(result, server)
        self.assertEqual(result.returncode, EX_TEMPFAIL)

    def test_nothing_listening(self):
        # A bound socket that does not listen: connections are refused.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            result = self.run_example(
                [PATHS["--build-and-send"], "127.0.0.1",
                 str(s.getsockname()[1]), self.tls[0], "ana@example.org",
                 "bo@example.net"],
                {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD})
        self.assertEqual(result.returncode, EX_TEMPFAIL, result.stdout)
        self.assertRegex(result.stdout.decode(), r"final: 421 4\.4\.")

    # -- python's smtplib as the client ---------------------------------------

    def smtplib_client(self, server):
        client = smtplib.SMTP("127.0.0.1", server.port, timeout=RUN_TIMEOUT)
        self.addCleanup(client.close)
        context = ssl.create_default_context(cafile=self.tls[0])
        client.ehlo()
        client.starttls(context=context)
        client.ehlo()
        return client

    def test_smtplib_starttls_and_login(self):
        server = self.start()
        client = self.smtplib_client(server)
        client.login(USER, PASSWORD)
        body = (b"From: py@example.org\r\nTo: bo@example.net\r\n"
                b"Subject: from smtplib\r\n\r\n.leading dot\r\nend\r\n")
        refused = client.sendmail("py@example.org", ["bo@example.net"], body)
        self.assertEqual(refused, {})
        client.quit()
        self.assertEqual(server.stored(), ["1.eml"])
        with open(os.path.join(server.folder, "1.eml"), "rb") as f:
            self.assertEqual(f.read(), body)
        walk = self.walk(os.path.join(server.folder, "1.eml"))
        self.assertIn("Subject: from smtplib\n", walk)
        self.assertRegex(walk, r"text/plain 7bit -> 19 bytes decoded")

    def test_smtplib_needs_tls_and_login(self):
        server = self.start()
        plain = smtplib.SMTP("127.0.0.1", server.port, timeout=RUN_TIMEOUT)
        self.addCleanup(plain.close)
        plain.ehlo()
        self.assertTrue(plain.has_extn("starttls"))
        self.assertFalse(plain.has_extn("auth"))  # AUTH only over TLS
        plain.quit()
        client = self.smtplib_client(server)
        with self.assertRaises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("py@example.org", ["bo@example.net"], b"x\r\n")
        self.assertEqual(refused.exception.smtp_code, 530)
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            client.login(USER, "wrong")
        client.quit()
        self.assertEqual(server.stored(), [])

    # -- parse_and_walk on its own ---------------------------------------------

    def test_walk_reports_defects_from_stdin(self):
        message = (b"From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\n"
                   b"Subject: =?iso-8859-1?q?caf=E9?=\r\n"
                   b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                   b"--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                   b"a=3Db\r\n"
                   b"--b\r\nContent-Type: image/png; name=x.png\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n"
                   b"iVBO!!RwoK\r\n")  # bad base64, boundary never closed
        result = self.run_example([PATHS["--parse-and-walk"]], stdin=message)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout.decode()
        self.assertIn("From: J\u00fcrgen <j@example.org>\n", out)
        self.assertIn("Subject: caf\u00e9\n", out)
        self.assertIn("text/plain quoted-printable -> 3 bytes decoded", out)
        self.assertIn('image/png filename="x.png" base64', out)
        self.assertRegex(out, r"defect boundary_never_closed at offset \d+")
        self.assertRegex(out, r"defect invalid_base64 at offset \d+")

    def test_walk_missing_file(self):
        result = self.run_example([PATHS["--parse-and-walk"],
                                   os.path.join(self.tmp, "nope.eml")])
        self.assertEqual(result.returncode, 1)


if __name__ == "__main__":
    take_paths()
    unittest.main()
