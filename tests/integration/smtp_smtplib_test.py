#!/usr/bin/env python3
"""python3 smtplib against the real smtp_sink_server.

Every message smtplib hands to its data() step is recorded (RecordingSMTP)
and the file the sink stored must be exactly those bytes (smtplib's
dot-stuffing removed again by the server, the last line ended with CRLF);
the .env sidecar must name the envelope.

Usage: smtp_smtplib_test.py --sink /path/to/smtp_sink_server [unittest args]
"""

import concurrent.futures
import email.message
import email.policy
import smtplib
import unittest

import smtp_support as sup


class RecordingSMTP(smtplib.SMTP):
    """Remembers the bytes given to data(), i.e. what smtplib sends."""

    def __init__(self, *args, **kwargs):
        self.sent = []
        self.rcpts = []
        super().__init__(*args, **kwargs)

    def rcpt(self, recip, options=()):
        reply = super().rcpt(recip, options)
        if reply[0] == 250:
            self.rcpts.append(recip)
        return reply

    def data(self, msg):
        self.sent.append(bytes(msg))
        return super().data(msg)


def ended(data):
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class SinkTestCase(unittest.TestCase):
    sink_args = ()
    tls = False
    listen = ("127.0.0.1:0",)

    def setUp(self):
        sup.need_binary(self, "sink")
        self.server = sup.SinkServer(self.sink_args, listen=self.listen,
                                     tls=self.tls)
        self.addCleanup(self.server.stop)
        self.server.start()

    def connect(self, endpoint=0):
        host, port = self.server.endpoints[endpoint]
        client = RecordingSMTP(host, port, timeout=sup.REPLY_TIMEOUT)
        self.addCleanup(client.close)
        return client

    def assertStoredOnce(self, sent, mail_from, recipients):
        """`recipients` in the order the client sent them."""
        stored = self.server.wait_messages(1)
        self.assertEqual(len(stored), 1, stored)
        self.assertEqual(stored[0].data, ended(sent),
                         self.server.diagnostics())
        self.assertEqual(stored[0].mail_from, mail_from)
        self.assertEqual(stored[0].recipients, recipients)
        return stored[0]


class PlainTest(SinkTestCase):
    def test_sendmail_str(self):
        client = self.connect()
        refused = client.sendmail("a@x.example", ["b@y.example"],
                                  "Subject: plain\n\nhello\nworld\n")
        self.assertEqual(refused, {})
        client.quit()
        self.assertEqual(client.sent[0],
                         b"Subject: plain\r\n\r\nhello\r\nworld\r\n")
        self.assertStoredOnce(client.sent[0], "a@x.example", ["b@y.example"])

    def test_ehlo_announces_extensions(self):
        client = self.connect()
        code, _ = client.ehlo("client.example")
        self.assertEqual(code, 250)
        for ext in ("size", "pipelining", "8bitmime", "enhancedstatuscodes"):
            self.assertTrue(client.has_extn(ext), ext)
        # Without a certificate there is no STARTTLS to offer.
        self.assertFalse(client.has_extn("starttls"))
        client.quit()

    def test_send_message_mime_several_recipients(self):
        msg = email.message.EmailMessage()
        msg["From"] = "Alice <a@x.example>"
        msg["To"] = "b@y.example, c@y.example"
        msg["Cc"] = "d@z.example"
        msg["Bcc"] = "hidden@z.example"
        msg["Subject"] = "MIME test \u00e9t\u00e9"
        msg["Date"] = "Mon, 01 Jan 2024 00:00:00 +0000"
        msg["Message-ID"] = "<mime-test@x.example>"
        msg.set_content("Body line 1\n.starts with a dot\nlast line\n")
        msg.add_alternative("<p>html</p>\n", subtype="html")
        msg.add_attachment(bytes(range(256)) * 40, maintype="application",
                           subtype="octet-stream", filename="blob.bin")
        client = self.connect()
        refused = client.send_message(msg)
        self.assertEqual(refused, {})
        client.quit()
        sent = client.sent[0]
        # smtplib removes Bcc from what it sends; the envelope keeps it.
        self.assertNotIn(b"hidden@z.example", sent)
        self.assertEqual(sorted(client.rcpts),
                         ["b@y.example", "c@y.example", "d@z.example",
                          "hidden@z.example"])
        stored = self.assertStoredOnce(sent, "a@x.example", client.rcpts)
        self.assertIn(b"\r\n--", stored.data)
        parsed = email.message_from_bytes(stored.data,
                                          policy=email.policy.default)
        blob = [p for p in parsed.iter_attachments()
                if p.get_filename() == "blob.bin"]
        self.assertEqual(blob[0].get_content(), bytes(range(256)) * 40)

    def test_transparency_lines_with_dots(self):
        body = (b"Subject: dots\r\n\r\n"
                b".\r\n"
                b"..\r\n"
                b"...\r\n"
                b". space\r\n"
                b".x\r\n"
                b"mid.dle\r\n"
                b"\r\n.\r\n"
                b"end.\r\n")
        client = self.connect()
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        self.assertEqual(client.sent[0], body)
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])

    def test_unterminated_last_line_is_ended(self):
        body = b"Subject: no final newline\r\n\r\nlast"
        client = self.connect()
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])

    def test_five_mebibytes(self):
        line = (b"0123456789abcdefghijklmnopqrstuvwxyz"
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&*+-/=\r\n")
        body = b"Subject: big\r\n\r\n" + line * ((5 << 20) // len(line) + 1)
        self.assertGreater(len(body), 5 << 20)
        client = self.connect()
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])

    def test_several_messages_one_session(self):
        client = self.connect()
        bodies = [b"Subject: %d\r\n\r\nmessage %d\r\n" % (i, i)
                  for i in range(5)]
        for i, body in enumerate(bodies):
            client.sendmail("s%d@x.example" % i, ["r%d@y.example" % i], body)
        client.quit()
        stored = self.server.wait_messages(5)
        self.assertEqual(len(stored), 5)
        by_sender = {s.mail_from: s for s in stored}
        for i, body in enumerate(bodies):
            s = by_sender["s%d@x.example" % i]
            self.assertEqual(s.data, body)
            self.assertEqual(s.recipients, ["r%d@y.example" % i])

    def test_rset_drops_transaction(self):
        client = self.connect()
        client.ehlo("c.example")
        self.assertEqual(client.mail("dropped@x.example")[0], 250)
        self.assertEqual(client.rcpt("b@y.example")[0], 250)
        self.assertEqual(client.rset()[0], 250)
        self.assertEqual(client.docmd("DATA")[0], 503)
        client.sendmail("kept@x.example", ["b@y.example"],
                        b"Subject: kept\r\n\r\nx\r\n")
        client.quit()
        stored = self.server.wait_messages(1)
        self.assertEqual([s.mail_from for s in stored], ["kept@x.example"])

    def test_null_sender(self):
        client = self.connect()
        client.sendmail("", ["b@y.example"], b"Subject: bounce\r\n\r\nx\r\n")
        client.quit()
        self.assertStoredOnce(b"Subject: bounce\r\n\r\nx\r\n", "",
                              ["b@y.example"])

    def test_sidecar_is_valid_json_for_odd_local_parts(self):
        # A quoted local part with a quote, a backslash and a space must
        # come out of the sidecar as the same string (JSON escaping).
        sender = '"odd \\"quoted\\\\ part"@x.example'
        client = self.connect()
        client.ehlo("c.example")
        self.assertEqual(client.docmd("MAIL FROM:<%s>" % sender)[0], 250)
        self.assertEqual(client.rcpt("b@y.example")[0], 250)
        self.assertEqual(client.data(b"Subject: odd\r\n\r\nx\r\n")[0], 250)
        client.quit()
        stored = self.server.wait_messages(1)
        self.assertEqual(len(stored), 1)
        self.assertIn(stored[0].mail_from,
                      (sender, 'odd "quoted\\ part@x.example'))

    def test_smtputf8(self):
        client = self.connect()
        client.ehlo("c.example")
        if not client.has_extn("smtputf8"):
            self.skipTest("SMTPUTF8 not announced")
        body = "Subject: \u00fc\r\n\r\nGr\u00fc\u00dfe\r\n".encode("utf-8")
        client.sendmail("j\u00f6rg@x.example", ["\u00e9l\u00e8ve@y.example"],
                        body, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        client.quit()
        self.assertStoredOnce(body, "j\u00f6rg@x.example",
                              ["\u00e9l\u00e8ve@y.example"])

    def test_eight_bit_body(self):
        body = b"Subject: 8bit\r\n\r\n\xc3\xa9\xff\x80 raw bytes\r\n"
        client = self.connect()
        client.sendmail("a@x.example", ["b@y.example"], body,
                        mail_options=["BODY=8BITMIME"])
        client.quit()
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])

    def test_concurrent_clients(self):
        def one(i):
            with smtplib.SMTP(self.server.host, self.server.port,
                              timeout=sup.REPLY_TIMEOUT) as c:
                for j in range(5):
                    c.sendmail("c%d-%d@x.example" % (i, j), ["b@y.example"],
                               b"Subject: %d-%d\r\n\r\n%s\r\n" %
                               (i, j, b"z" * (i * 100 + j)))
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            list(pool.map(one, range(20)))
        stored = self.server.wait_messages(100)
        self.assertEqual(len(stored), 100)
        for s in stored:
            i, j = map(int, s.mail_from[1:].split("@")[0].split("-"))
            self.assertEqual(s.data, b"Subject: %d-%d\r\n\r\n%s\r\n" %
                             (i, j, b"z" * (i * 100 + j)))

    def test_sigterm_exits_cleanly(self):
        client = self.connect()
        client.sendmail("a@x.example", ["b@y.example"],
                        b"Subject: t\r\n\r\nx\r\n")
        client.quit()
        self.assertEqual(self.server.terminate(), 0,
                         self.server.diagnostics())
        self.assertEqual(len(self.server.messages()), 1)


class MaxSizeTest(SinkTestCase):
    sink_args = ("--max-size", "100000")

    def test_size_announced(self):
        client = self.connect()
        client.ehlo("c.example")
        self.assertEqual(client.esmtp_features.get("size"), "100000")
        client.quit()

    def test_oversize_with_size_parameter_refused_at_mail(self):
        body = b"Subject: big\r\n\r\n" + b"x" * 78 + b"\r\n"
        body = body * 2000
        client = self.connect()
        with self.assertRaises(smtplib.SMTPSenderRefused) as ctx:
            client.sendmail("a@x.example", ["b@y.example"], body)
        self.assertEqual(ctx.exception.smtp_code, 552)
        client.quit()
        self.assertEqual(self.server.names(), [])

    def test_oversize_streamed_gets_552_and_session_goes_on(self):
        # No SIZE= on MAIL: the limit must be enforced while streaming.
        body = (b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * 2000)
        client = self.connect()
        client.ehlo("c.example")
        self.assertEqual(client.mail("a@x.example")[0], 250)
        self.assertEqual(client.rcpt("b@y.example")[0], 250)
        code, text = client.data(body)
        self.assertEqual(code, 552, text)
        self.assertEqual(self.server.names(), [])
        # The session survives: a small message after is accepted.
        small = b"Subject: small\r\n\r\nok\r\n"
        client.sendmail("a@x.example", ["b@y.example"], small)
        client.quit()
        stored = self.server.wait_messages(1)
        self.assertEqual([s.data for s in stored], [small])

    def test_under_limit_accepted(self):
        body = b"Subject: fits\r\n\r\n" + (b"f" * 78 + b"\r\n") * 1000
        client = self.connect()
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])


class StartTlsTest(SinkTestCase):
    tls = True

    def test_starttls_then_send(self):
        client = self.connect()
        client.ehlo("c.example")
        self.assertTrue(client.has_extn("starttls"))
        code, _ = client.starttls(context=sup.insecure_context())
        self.assertEqual(code, 220)
        client.ehlo("c.example")
        self.assertFalse(client.has_extn("starttls"))
        body = b"Subject: over tls\r\n\r\nsecret\r\n"
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])

    def test_certificate_verifies_with_its_own_cafile(self):
        import ssl
        cert, _ = sup.make_cert()
        context = ssl.create_default_context(cafile=cert)
        client = self.connect()
        client.starttls(context=context)  # hostname is 127.0.0.1: SAN IP
        body = b"Subject: verified\r\n\r\nx\r\n"
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])


class AuthTest(SinkTestCase):
    tls = True
    sink_args = ("--auth", "user:s3cret")

    def test_login_after_starttls(self):
        client = self.connect()
        client.starttls(context=sup.insecure_context())
        client.ehlo("c.example")
        self.assertIn("PLAIN", client.esmtp_features.get("auth", "").upper())
        self.assertIn("LOGIN", client.esmtp_features.get("auth", "").upper())
        code, _ = client.login("user", "s3cret")
        self.assertEqual(code, 235)
        body = b"Subject: authenticated\r\n\r\nx\r\n"
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])

    def test_login_mechanism_explicitly(self):
        for mechanism in ("PLAIN", "LOGIN"):
            client = self.connect()
            client.starttls(context=sup.insecure_context())
            client.ehlo("c.example")
            client.user, client.password = "user", "s3cret"
            code, _ = client.auth(
                mechanism, getattr(client, "auth_" + mechanism.lower()),
                initial_response_ok=(mechanism == "PLAIN"))
            self.assertEqual(code, 235, mechanism)
            client.quit()

    def test_wrong_password_refused(self):
        client = self.connect()
        client.starttls(context=sup.insecure_context())
        with self.assertRaises(smtplib.SMTPAuthenticationError) as ctx:
            client.login("user", "wrong")
        self.assertEqual(ctx.exception.smtp_code, 535)
        client.close()
        self.assertEqual(self.server.names(), [])

    def test_no_auth_without_tls(self):
        client = self.connect()
        client.ehlo("c.example")
        with self.assertRaises(smtplib.SMTPException):
            client.login("user", "s3cret")
        client.close()


class PlaintextAuthTest(SinkTestCase):
    sink_args = ("--auth", "user:s3cret", "--plaintext-auth")

    def test_login_without_tls(self):
        client = self.connect()
        code, _ = client.login("user", "s3cret")
        self.assertEqual(code, 235)
        body = b"Subject: plaintext auth\r\n\r\nx\r\n"
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        self.assertStoredOnce(body, "a@x.example", ["b@y.example"])


class ReceivedTest(SinkTestCase):
    sink_args = ("--received",)

    def test_received_line_prepended(self):
        body = b"Subject: traced\r\n\r\nx\r\n"
        client = self.connect()
        client.sendmail("a@x.example", ["b@y.example"], body)
        client.quit()
        stored = self.server.wait_messages(1)
        self.assertEqual(len(stored), 1)
        received, rest = sup.strip_received(stored[0].data)
        self.assertEqual(rest, body)
        self.assertIn(b"from ", received)
        self.assertIn(b"127.0.0.1", received)
        self.assertIn(b";", received)  # the date follows the semicolon


class NoStoreTest(SinkTestCase):
    sink_args = ("--no-store",)

    def test_accepts_and_discards(self):
        client = self.connect()
        refused = client.sendmail("a@x.example", ["b@y.example"],
                                  b"Subject: gone\r\n\r\nx\r\n")
        self.assertEqual(refused, {})
        client.quit()
        self.assertEqual(self.server.all_files(), [])


@unittest.skipUnless(sup.have_ipv6_loopback(), "no IPv6 loopback")
class TwoListenersTest(SinkTestCase):
    listen = ("127.0.0.1:0", "[::1]:0")

    def test_both_families(self):
        self.assertEqual(len(self.server.endpoints), 2)
        hosts = sorted(h for h, _ in self.server.endpoints)
        self.assertEqual(hosts, ["127.0.0.1", "::1"])
        for index in range(2):
            client = self.connect(index)
            client.sendmail("a%d@x.example" % index, ["b@y.example"],
                            b"Subject: %d\r\n\r\nx\r\n" % index)
            client.quit()
        stored = self.server.wait_messages(2)
        self.assertEqual(sorted(s.mail_from for s in stored),
                         ["a0@x.example", "a1@x.example"])


if __name__ == "__main__":
    sup.main()
