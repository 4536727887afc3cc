#!/usr/bin/env python3
"""MX routing through a real DNS server: dnsmasq on a loopback port.

dnsmasq answers for *.test only from its own records:
  mx.test       MX 10 mail.mx.test
  mail.mx.test  A  127.0.0.1
  amx.test      A  127.0.0.1          (no MX: the implicit MX, RFC 5321 5.1)
  none.test     NXDOMAIN
Instance A uses it (dns_servers = its address; dnsmasq listens on port 53
of a loopback address of its own, 127.53.x.y, when run as root);
instance B (local domains mx.test, amx.test) receives.

MX delivery goes to port 25. So that no test needs port 25, A's transport
map names the domain without brackets and with B's port ("mx.test
mx.test:PORT" = MX lookup of mx.test, then that port; routing.h). When
port 25 on 127.0.0.1 is free and the test runs as root, one more test
runs B on 127.0.0.1:25 and A with no transport map at all.

- MX lookup -> mail.mx.test -> 127.0.0.1: delivered to B;
- no MX, an A record: delivered to B;
- NXDOMAIN: bounced to the sender (Status 5.1.2);
- DNS server not answering: deferred (4.4.3 in mailq), not bounced.

Usage: mta_mx_test.py --sendmail PATH --popper PATH --popauth PATH
"""

import os
import socket
import unittest
import uuid

import mta_support as sup
import smtp_support

A_USERS = {"alice": "alice-Secret1"}
B_USERS = {"bob": "bob-Secret2"}


def message(tag, to):
    return smtp_support.canonical(
        b"From: alice@a.test\nTo: " + to.encode() + b"\n"
        b"Subject: mx " + tag.encode() + b"\n"
        b"Date: Thu, 26 Nov 2026 09:00:00 +0000\n"
        b"Message-ID: <" + tag.encode() + b"@a.test>\n"
        b"\nbody " + tag.encode() + b"\n")


def port_25_usable():
    if os.geteuid() != 0:
        return False
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 25))
        return True
    except OSError:
        return False


@unittest.skipUnless(sup.DNSMASQ, "dnsmasq not installed")
class MxCase(unittest.TestCase):
    b_port = None  # None: a free port

    def setUp(self):
        self.dns = sup.Dnsmasq(
            mx=[("mx.test", "mail.mx.test", 10)],
            hosts=[("mail.mx.test", "127.0.0.1"),
                   ("amx.test", "127.0.0.1")]).start()
        self.addCleanup(self.dns.stop)
        port = self.b_port or sup.free_port()
        self.b = sup.Instance(hostname="b.test",
                              local_domains=["b.test", "mx.test",
                                             "amx.test"],
                              users=B_USERS,
                              conf={"smtpd_listen": "127.0.0.1:%d" % port})
        self.addCleanup(self.b.cleanup)
        transport = {}
        if port != 25:
            for domain in ("mx.test", "amx.test", "none.test"):
                transport[domain] = "%s:%d" % (domain, port)
        self.a = sup.Instance(hostname="a.test", users=A_USERS,
                              transport=transport,
                              conf={"dns_servers": self.dns.server})
        self.addCleanup(self.a.cleanup)
        self.bd = self.b.daemon()
        self.addCleanup(self.bd.stop)

    def tag(self):
        return "%s-%s" % (self._testMethodName, uuid.uuid4().hex[:8])

    def dns_log(self):
        return self.dns.log()

    def send(self, rcpt, tag):
        r = self.a.sendmail("-odi", "-f", "alice@a.test", rcpt,
                            input=message(tag, rcpt))
        self.assertIn(r.returncode, (0, 75), r.stderr)
        return r

    def wait_for(self, inst, user, tag, timeout=sup.DELIVERY_TIMEOUT):
        self.assertTrue(inst.wait_tag(user, tag, timeout),
                        "no message %s for %s@%s\nA's queue:\n%s\n"
                        "dnsmasq:\n%s\nB:\n%s" %
                        (tag, user, inst.hostname, self.a.mailq(),
                         self.dns_log()[-2000:], self.bd.log_text()[-2000:]))
        found = inst.fetch_tagged(user, tag)
        self.assertEqual(len(found), 1, found)
        return found[0]

    def assertDeliveredToB(self, domain):
        tag = self.tag()
        self.send("bob@" + domain, tag)
        got = self.wait_for(self.b, "bob", tag)
        fields, rest = sup.strip_received_fields(got)
        self.assertEqual(rest, message(tag, "bob@" + domain))
        self.assertIn(b"by b.test", fields[0])
        self.assertTrue(self.a.queue_empty(), self.a.mailq())
        return self.dns_log()


class MxTest(MxCase):
    def test_mx_record(self):
        log = self.assertDeliveredToB("mx.test")
        self.assertIn("query[MX] mx.test", log)
        self.assertRegex(log, r"query\[(A|AAAA)\] mail\.mx\.test")

    def test_implicit_mx(self):
        log = self.assertDeliveredToB("amx.test")
        self.assertIn("query[MX] amx.test", log)
        self.assertRegex(log, r"query\[(A|AAAA)\] amx\.test")

    def test_nxdomain_bounces(self):
        tag = self.tag()
        self.send("bob@none.test", tag)
        # -odi delivered the message (it bounced); the DSN it queued for
        # alice is delivered by the next queue run.
        self.a.run_queue()
        got = self.wait_for(self.a, "alice", tag)
        _, recipients, _ = sup.dsn_parts(got)
        self.assertEqual(len(recipients), 1, recipients)
        self.assertIn("bob@none.test", recipients[0]["final-recipient"])
        self.assertEqual(recipients[0]["action"], "failed")
        self.assertEqual(recipients[0]["status"], "5.1.2")
        self.assertIn("query[MX] none.test", self.dns_log())
        self.a.wait_queue_empty()

    def test_dns_failure_defers(self):
        # Nothing answers there: every lookup fails, nothing may bounce.
        self.a.set_conf(dns_servers=sup.dead_dns_server())
        tag = self.tag()
        self.send("bob@mx.test", tag)
        listing = self.a.mailq()
        self.assertIn("<bob@mx.test>", listing)
        self.assertRegex(listing, r"\(4\d\d 4\.4\.3 [^)]*\)")
        self.assertFalse(any(tag.encode() in m
                             for m in self.a.stored("alice")))
        self.assertFalse(any(tag.encode() in m
                             for m in self.b.stored("bob")))


@unittest.skipUnless(port_25_usable(), "127.0.0.1:25 not free or not root")
class Port25Test(MxCase):
    b_port = 25

    def test_mx_record_on_port_25(self):
        log = self.assertDeliveredToB("mx.test")
        self.assertIn("query[MX] mx.test", log)

    def test_implicit_mx_on_port_25(self):
        self.assertDeliveredToB("amx.test")


if __name__ == "__main__":
    sup.main()
