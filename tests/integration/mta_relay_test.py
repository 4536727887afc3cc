#!/usr/bin/env python3
"""No open relay: sendmail -bd with trusted_networks = 127.0.0.1/32.

A client connecting from 127.0.0.2 (an untrusted source address on the
loopback) is refused "554 5.7.1" for every remote-domain form of RCPT an
open-relay tester tries (plain, source route, quoted, percent hack, bang
path, address literal); nothing reaches the remote receiver (a Python SMTP
receiver the transport map points remote.test at). The same client may
still send to a local user. A client that logged in (STARTTLS + AUTH
PLAIN / LOGIN against the popauth database) may relay; AUTH is not
offered before STARTTLS (plaintext_auth = no); a failed AUTH does not
open the relay. 127.0.0.1 itself relays without AUTH.

Usage: mta_relay_test.py --sendmail PATH --popper PATH --popauth PATH
"""

import smtplib
import unittest
import uuid

import mta_support as sup
import smtp_support

USERS = {"carol": "carol-Secret3"}
UNTRUSTED = "127.0.0.2"


def can_bind(address):
    import socket
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


def message(tag):
    return (b"From: carol@a.test\r\nTo: x@remote.test\r\n"
            b"Subject: relay " + tag.encode() + b"\r\n\r\nbody " +
            tag.encode() + b"\r\n")


@unittest.skipUnless(can_bind(UNTRUSTED), "cannot bind 127.0.0.2")
class RelayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sup.start_with_remote(
            cls, ["remote.test", "other.test"], hostname="a.test", tls=True,
            users=USERS, conf={"trusted_networks": "127.0.0.1/32",
                               "plaintext_auth": "no"})

    def smtp(self, source=UNTRUSTED):
        client = sup.smtp_client(self, self.daemon.port,
                                 "relay-tester.example", source)
        client.ehlo()
        return client

    def tls_login(self, client, mechanism="PLAIN"):
        client.starttls(context=smtp_support.insecure_context())
        client.ehlo()
        client.user, client.password = "carol", USERS["carol"]
        code, text = client.auth(
            mechanism, getattr(client, "auth_" + mechanism.lower()),
            initial_response_ok=True)
        self.assertEqual(code, 235, text)

    def remote_tags(self):
        return b"".join(t["data"] for t in self.remote.transactions)

    def wait_remote(self, tag):
        ok = sup.wait_until(lambda: tag.encode() in self.remote_tags(),
                            sup.DELIVERY_TIMEOUT)
        self.assertTrue(ok, "%s not relayed; queue:\n%s\nlog:\n%s" %
                        (tag, self.inst.mailq(),
                         self.daemon.log_text()[-3000:]))

    def test_untrusted_client_cannot_relay(self):
        client = self.smtp()
        code, text = client.mail("tester@relay-tester.example")
        self.assertEqual(code, 250, text)
        code, text = client.rcpt("victim@remote.test")
        self.assertEqual(code, 554, text)
        self.assertTrue(text.startswith(b"5.7.1"), text)
        # DATA with no accepted recipient goes nowhere.
        code, _ = client.docmd("DATA")
        self.assertGreaterEqual(code, 500)

    def test_relay_tricks_refused(self):
        tricks = ["victim@remote.test",
                  "VICTIM@REMOTE.TEST",
                  "victim@remote.test.",
                  "@a.test:victim@remote.test",
                  "\"victim@remote.test\"",
                  "\"victim@remote.test\"@a.test",
                  "victim%remote.test@a.test",
                  "remote.test!victim",
                  "remote.test!victim@a.test",
                  "victim@other.test",
                  "victim@[127.0.0.1]"]
        before = len(self.remote.transactions)
        for addr in tricks:
            client = self.smtp()
            client.mail("tester@relay-tester.example")
            code, text = client.docmd("RCPT TO:<%s>" % addr)
            self.assertGreaterEqual(code, 500, (addr, code, text))
            # The plain forms must get the relay refusal itself; the
            # others may also be refused as bad syntax or unknown user.
            if addr.lower() in ("victim@remote.test", "victim@other.test"):
                self.assertEqual(code, 554, (addr, text))
                self.assertTrue(text.startswith(b"5.7.1"), (addr, text))
            client.quit()
        self.assertEqual(len(self.remote.transactions), before)

    def test_untrusted_client_may_send_to_local_user(self):
        tag = uuid.uuid4().hex
        client = self.smtp()
        self.assertEqual(client.sendmail("tester@relay-tester.example",
                                         ["carol@a.test"], message(tag)), {})
        client.quit()
        got = self.inst.wait_mail("carol", 1)
        self.assertTrue(any(tag.encode() in m for m in got), got)
        fetched = [m for m in self.inst.fetch("carol") if tag.encode() in m]
        self.assertEqual(len(fetched), 1)
        fields, rest = sup.strip_received_fields(fetched[0])
        self.assertEqual(rest, message(tag))
        self.assertIn(UNTRUSTED.encode(), fields[0])

    def test_auth_not_offered_before_starttls(self):
        client = self.smtp()
        self.assertFalse(client.has_extn("auth"))
        self.assertTrue(client.has_extn("starttls"))
        code, _ = client.docmd("AUTH PLAIN",
                               "AGNhcm9sAGNhcm9sLVNlY3JldDM=")
        self.assertGreaterEqual(code, 500)

    def test_authenticated_client_may_relay(self):
        for mechanism in ("PLAIN", "LOGIN"):
            tag = uuid.uuid4().hex
            client = self.smtp()
            self.tls_login(client, mechanism)
            self.assertEqual(client.sendmail("carol@a.test",
                                             ["friend@remote.test"],
                                             message(tag)), {})
            client.quit()
            self.wait_remote(tag)

    def test_failed_auth_keeps_relay_closed(self):
        client = self.smtp()
        client.starttls(context=smtp_support.insecure_context())
        client.ehlo()
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            client.login("carol", "not-the-secret")
        client.mail("carol@a.test")
        code, text = client.rcpt("friend@remote.test")
        self.assertEqual(code, 554, text)

    def test_trusted_address_relays_without_auth(self):
        tag = uuid.uuid4().hex
        client = self.smtp(source="127.0.0.1")
        self.assertEqual(client.sendmail("carol@a.test",
                                         ["friend@remote.test"],
                                         message(tag)), {})
        client.quit()
        self.wait_remote(tag)


if __name__ == "__main__":
    sup.main()
