#!/usr/bin/env python3
"""openssl s_client -starttls smtp against the real smtp_sink_server.

s_client does the plaintext EHLO and STARTTLS itself; after the handshake
we send EHLO and the reply must offer AUTH (PLAIN, LOGIN) and no longer
STARTTLS. One line at a time: the server drops a client that pipelines
past EHLO, so EHLO and QUIT are never written together.

Usage: smtp_openssl_test.py --sink /path/to/smtp_sink_server [unittest args]
"""

import re
import shutil
import subprocess
import threading
import time
import unittest

import smtp_support as sup

OPENSSL = shutil.which("openssl")


class SClient:
    """openssl s_client with a reader thread and bounded waits."""

    def __init__(self, address, extra=()):
        self.proc = subprocess.Popen(
            [OPENSSL, "s_client", "-starttls", "smtp", "-connect", address,
             "-name", "client.example", "-crlf", "-quiet", "-brief",
             "-servername", "localhost"] + list(extra),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, "out"),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, "err"),
                             daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, stream, name):
        while True:
            chunk = stream.read1(65536)
            if not chunk:
                return
            with self.lock:
                setattr(self, name, getattr(self, name) + chunk)

    def send(self, line):
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()

    def wait_for(self, predicate, timeout=sup.REPLY_TIMEOUT, stream="out"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(getattr(self, stream)):
                    return True
            if self.proc.poll() is not None:
                time.sleep(0.1)  # let the pumps drain
                with self.lock:
                    return predicate(getattr(self, stream))
            time.sleep(0.02)
        return False

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=sup.STOP_TIMEOUT)
        for t in self.threads:
            t.join(timeout=sup.STOP_TIMEOUT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


def final_line(code):
    return lambda out: any(l.startswith(code + b" ")
                           for l in out.split(b"\r\n"))


@unittest.skipUnless(OPENSSL, "openssl not installed")
class OpensslStartTlsTest(unittest.TestCase):
    def setUp(self):
        sup.need_binary(self, "sink")
        self.server = sup.SinkServer(("--auth", "user:s3cret"), tls=True)
        self.addCleanup(self.server.stop)
        self.server.start()

    def test_ehlo_after_tls_offers_auth(self):
        client = SClient(self.server.address)
        self.addCleanup(client.close)
        client.send(b"EHLO client.example")
        self.assertTrue(client.wait_for(final_line(b"250")),
                        (client.out, client.err, self.server.diagnostics()))
        lines = [l for l in client.out.split(b"\r\n") if l.startswith(b"250")]
        keywords = [l[4:].upper() for l in lines[1:]]
        auth = [k for k in keywords if k.startswith(b"AUTH")]
        self.assertEqual(len(auth), 1, lines)
        self.assertIn(b"PLAIN", auth[0].split())
        self.assertIn(b"LOGIN", auth[0].split())
        self.assertNotIn(b"STARTTLS", keywords)
        # s_client writes its -brief summary to stderr in pieces, maybe
        # after the first reply reached stdout: wait for the whole line.
        version = re.compile(rb"Protocol version: TLSv1\.[23]")
        self.assertTrue(
            client.wait_for(lambda err: version.search(err) is not None,
                            stream="err"), client.err)
        client.send(b"QUIT")
        self.assertTrue(client.wait_for(final_line(b"221")), client.out)

    def test_auth_plain_over_tls(self):
        import base64
        client = SClient(self.server.address)
        self.addCleanup(client.close)
        client.send(b"EHLO client.example")
        self.assertTrue(client.wait_for(final_line(b"250")), client.out)
        token = base64.b64encode(b"\0user\0s3cret")
        client.send(b"AUTH PLAIN " + token)
        self.assertTrue(client.wait_for(final_line(b"235")), client.out)
        client.send(b"QUIT")
        self.assertTrue(client.wait_for(final_line(b"221")), client.out)

    def test_plaintext_ehlo_hides_or_refuses_auth(self):
        # Before TLS, AUTH must not succeed (538, or not offered at all).
        c = sup.RawClient(self.server.host, self.server.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        c.send(b"EHLO client.example\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 250)
        self.assertIn(b"STARTTLS", [l[4:].upper() for l in lines])
        c.send(b"AUTH PLAIN AHVzZXIAczNjcmV0\r\n")
        code, lines = c.reply()
        self.assertIn(code, (502, 503, 504, 530, 538), lines)


if __name__ == "__main__":
    sup.main()
