#!/usr/bin/env python3
"""Two real MTAs on the loopback: instance A (a.test) relays to instance
B (b.test) through A's transport map ("b.test [127.0.0.1]:<B's port>").

- mail from A's user reaches B's maildrop (read with poplib from B's
  popper), byte for byte below the two Received: fields;
- B down: A defers, mailq shows the message and the reason; B started
  later on the same port, A's `sendmail -q` delivers it exactly once;
- B refuses one recipient (unknown user at B): the other gets the mail,
  A bounces a DSN to its local sender (multipart/report, delivery-status,
  Status 5.1.1, Action failed);
- queue_lifetime 2s with B down: the message expires and bounces
  (Status 4.4.7).

Usage: mta_two_instances_test.py --sendmail PATH --popper PATH
       --popauth PATH
"""

import smtplib
import time
import unittest
import uuid

import mta_support as sup
import smtp_support

A_USERS = {"alice": "alice-Secret1"}
B_USERS = {"bob": "bob-Secret2"}


def message(tag, to="bob@b.test"):
    return smtp_support.canonical(
        b"From: Alice <alice@a.test>\nTo: " + to.encode() + b"\n"
        b"Subject: two instances " + tag.encode() + b"\n"
        b"Date: Thu, 26 Nov 2026 09:00:00 +0000\n"
        b"Message-ID: <" + tag.encode() + b"@a.test>\n\n"
        b"hello from a.test " + tag.encode() + b"\n"
        b".leading dot\nFrom a line\n")


class TwoInstancesCase(unittest.TestCase):
    a_conf = {}

    def setUp(self):
        self.b_port = sup.free_port()
        self.b = sup.Instance(hostname="b.test", users=B_USERS,
                              conf={"smtpd_listen": "127.0.0.1:%d" %
                                    self.b_port})
        self.addCleanup(self.b.cleanup)
        self.a = sup.Instance(
            hostname="a.test", users=A_USERS,
            transport={"b.test": "[127.0.0.1]:%d" % self.b_port},
            conf=dict(self.a_conf))
        self.addCleanup(self.a.cleanup)

    def tag(self):
        return "%s-%s" % (self._testMethodName, uuid.uuid4().hex[:8])

    def send_to_a(self, daemon, rcpts, data):
        client = smtplib.SMTP("127.0.0.1", daemon.port,
                              local_hostname="client.a.test",
                              timeout=sup.DELIVERY_TIMEOUT)
        try:
            refused = client.sendmail("alice@a.test", rcpts, data)
            client.quit()
        finally:
            client.close()
        return refused

    def wait_for(self, inst, user, tag, timeout=sup.DELIVERY_TIMEOUT,
                 why=""):
        self.assertTrue(inst.wait_tag(user, tag, timeout),
                        "no message %s for %s@%s\nA's queue:\n%s\n%s" %
                        (tag, user, inst.hostname, self.a.mailq(), why))
        found = inst.fetch_tagged(user, tag)
        self.assertEqual(len(found), 1, found)
        return found[0]

    def start_daemons(self):
        """B's daemon, then A's (both stopped at clean-up): (a, b)."""
        b = self.b.daemon()
        self.addCleanup(b.stop)
        a = self.a.daemon()
        self.addCleanup(a.stop)
        return a, b

    def dsn_for(self, tag, timeout=sup.DELIVERY_TIMEOUT, why=""):
        """The DSN in alice's maildrop on A that quotes `tag`."""
        got = self.wait_for(self.a, "alice", tag, timeout, why)
        msg = sup.parse(got)
        self.assertIn("MAILER-DAEMON", msg["From"] or "")
        self.assertEqual(msg["Auto-Submitted"], "auto-replied")
        return got


class DeliveryTest(TwoInstancesCase):
    def test_a_to_b(self):
        a, b = self.start_daemons()
        tag = self.tag()
        sent = message(tag)
        self.assertEqual(self.send_to_a(a, ["bob@b.test"], sent), {})
        got = self.wait_for(self.b, "bob", tag,
                            why=a.log_text()[-3000:] + b.log_text()[-3000:])
        fields, rest = sup.strip_received_fields(got)
        self.assertEqual(len(fields), 2, fields)
        self.assertIn(b"by b.test", fields[0])
        self.assertIn(b"by a.test", fields[1])
        self.assertEqual(rest, sent)
        self.a.wait_queue_empty()
        self.assertTrue(a.wait_log(r"to=<bob@b\.test>, relay=.*status=sent"),
                        a.log_text())

    def test_b_down_then_up(self):
        tag = self.tag()
        sent = message(tag)
        # No daemon on A either: -odi delivers in the foreground.
        r = self.a.sendmail("-odi", "-i", "-f", "alice@a.test", "bob@b.test",
                            input=sent)
        self.assertIn(r.returncode, (0, 75), r.stderr)
        listing = self.a.mailq()
        self.assertIn("(1 request", listing)
        self.assertIn("<alice@a.test>", listing)
        self.assertIn("<bob@b.test>", listing)
        self.assertRegex(listing, r"\(4\d\d [^)]*\)")
        self.assertRegex(listing, r"(?i)refused|4\.4\.1")
        # B comes up on its port; A's queue run delivers once.
        b = self.b.daemon()
        self.addCleanup(b.stop)
        deadline = time.monotonic() + sup.DELIVERY_TIMEOUT
        while not self.a.queue_empty() and time.monotonic() < deadline:
            time.sleep(0.5)  # max_backoff = 1s: due again soon
            self.a.run_queue()
        self.assertTrue(self.a.queue_empty(), self.a.mailq())
        got = self.wait_for(self.b, "bob", tag)
        self.assertEqual(sup.strip_received_fields(got)[1], sent)
        time.sleep(1.5)
        self.a.run_queue()
        self.assertEqual(sum(tag.encode() in m for m in self.b.stored("bob")),
                         1)

    def test_b_refuses_one_recipient(self):
        a, _ = self.start_daemons()
        tag = self.tag()
        sent = message(tag)
        self.assertEqual(
            self.send_to_a(a, ["bob@b.test", "nosuchuser@b.test"], sent), {})
        self.wait_for(self.b, "bob", tag)
        dsn = self.dsn_for(tag, why=a.log_text()[-3000:])
        report_type, recipients, text = sup.dsn_parts(dsn)
        self.assertEqual(report_type, "delivery-status")
        self.assertEqual(len(recipients), 1, recipients)
        r = recipients[0]
        self.assertIn("nosuchuser@b.test", r["final-recipient"])
        self.assertEqual(r["action"], "failed")
        self.assertEqual(r["status"], "5.1.1")
        self.assertIn("550", r.get("diagnostic-code", ""))
        self.assertIn("nosuchuser@b.test", text)
        self.assertNotIn("bob@b.test", r["final-recipient"])
        self.a.wait_queue_empty()


class ExpiryTest(TwoInstancesCase):
    a_conf = {"queue_lifetime": "2s", "delay_warning": "0"}

    def test_expired_while_b_down(self):
        a = self.a.daemon(interval="1s")
        self.addCleanup(a.stop)
        tag = self.tag()
        self.assertEqual(self.send_to_a(a, ["bob@b.test"], message(tag)), {})
        self.assertTrue(a.wait_log(r"to=<bob@b\.test>.*status=deferred"),
                        a.log_text())
        dsn = self.dsn_for(tag, timeout=30, why=a.log_text()[-3000:])
        _, recipients, text = sup.dsn_parts(dsn)
        self.assertEqual(len(recipients), 1, recipients)
        self.assertEqual(recipients[0]["action"], "failed")
        self.assertRegex(recipients[0]["status"], r"^[45]\.4\.7$")
        self.assertRegex(dsn, rb"(?i)expired")
        self.a.wait_queue_empty()


if __name__ == "__main__":
    sup.main()
