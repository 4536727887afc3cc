#!/usr/bin/env python3
"""Command-line submission the way real programs use sendmail.

- cron: `sendmail -FCronDaemon -i -B8BITMIME -oem user` and `sendmail -t
  -oi` with From:/To:/Subject: only and LF line ends: Date:,
  Message-ID: are added, the rest kept byte for byte;
- git send-email: `sendmail -i -f from rcpt...` with a full header
  section (kept unchanged, a lone "." line is data), and `-t` with
  Cc:/Bcc: (every recipient gets one copy, the Bcc: field is gone);
- missing From: added from the sender and -F; a lone "." line ends the
  input without -i (the rest is ignored);
- exit codes: no recipient 64, unknown flag 64, bad address 65, unknown
  local user 67, config error 78;
- delivery modes: -odi (delivered before sendmail exits), -odq with no
  daemon (mailq lists it; `sendmail -q` delivers it), the default -odb
  (a detached child delivers), and -odq while a daemon runs (its runner
  notices the new queue file).

Each delivered message is read back with poplib through popper.

Usage: mta_submit_test.py --sendmail PATH --popper PATH --popauth PATH
"""

import os
import re
import unittest
import uuid

import mta_support as sup
import smtp_support

USERS = {"alice": "alice-Secret1", "bob": "bob-Secret2",
         "carol": "carol-Secret3"}


class SubmitCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = sup.Instance(hostname="a.test", users=USERS)
        cls.addClassCleanup(cls.inst.cleanup)

    def tag(self):
        return "%s-%s" % (self._testMethodName, uuid.uuid4().hex[:8])

    def submit(self, data, *args, expect=0):
        r = self.inst.sendmail(*args, input=data)
        self.assertEqual(r.returncode, expect,
                         "sendmail %s: %r %r" % (args, r.stdout, r.stderr))
        return r

    def received(self, user, tag, timeout=sup.DELIVERY_TIMEOUT):
        """The one message of `user` holding `tag`, through poplib."""
        def arrived():
            try:
                return any(tag.encode() in m for m in self.inst.stored(user))
            except AssertionError:
                return False
        self.assertTrue(sup.wait_until(arrived, timeout, 0.1),
                        "no message %s for %s; queue:\n%s" %
                        (tag, user, self.inst.mailq()))
        found = [m for m in self.inst.fetch(user) if tag.encode() in m]
        self.assertEqual(len(found), 1, found)
        return found[0]

    def assertNotDelivered(self, user, tag):
        self.assertFalse(any(tag.encode() in m
                             for m in self.inst.stored(user)))


class CronTest(SubmitCase):
    def cron_mail(self, tag, to="alice"):
        # What cron writes: LF line ends, no Date:, no Message-ID:.
        return (b"From: root (Cron Daemon)\n"
                b"To: " + to.encode() + b"\n"
                b"Subject: Cron <root@a> /usr/local/bin/job " +
                tag.encode() + b"\n"
                b"MIME-Version: 1.0\n"
                b"Content-Type: text/plain; charset=UTF-8\n"
                b"Content-Transfer-Encoding: 8bit\n"
                b"X-Cron-Env: <SHELL=/bin/sh>\n"
                b"\n"
                b"job output " + tag.encode() + b"\n"
                b".\n"
                b"From here on\n"
                b"done\n")

    def assertCronCopy(self, got, sent):
        fields, rest = sup.strip_received_fields(got)
        self.assertEqual(len(fields), 1, fields)
        msg = sup.parse(rest)
        self.assertIsNotNone(msg["Date"])
        self.assertRegex(msg["Message-ID"], r"^<[^<>@\s]+@a\.test>$")
        # The header fields cron wrote come through unchanged and in order,
        # the added ones before the empty line; the body byte for byte.
        head, _, body = rest.partition(b"\r\n\r\n")
        sent_head, _, sent_body = smtp_support.canonical(sent).partition(
            b"\r\n\r\n")
        self.assertTrue(head.startswith(sent_head), head)
        self.assertEqual(sorted(sup.header_names(head[len(sent_head):])),
                         ["date", "message-id"])
        self.assertEqual(body, sent_body)

    def test_cron_debian_command_line(self):
        tag = self.tag()
        sent = self.cron_mail(tag)
        self.submit(sent, "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "-odi",
                    "alice")
        self.assertCronCopy(self.received("alice", tag), sent)

    def test_cron_dash_t_oi(self):
        tag = self.tag()
        sent = self.cron_mail(tag, to="bob@a.test")
        self.submit(sent, "-t", "-oi", "-odi")
        self.assertCronCopy(self.received("bob", tag), sent)

    def test_missing_from_is_added(self):
        tag = self.tag()
        self.submit(b"To: carol\nSubject: " + tag.encode() + b"\n\nhi\n",
                    "-odi", "-F", "Job Runner", "-f", "jobs@a.test", "carol")
        got = sup.parse(self.received("carol", tag))
        self.assertIn("jobs@a.test", got["From"])
        self.assertIn("Job Runner", got["From"])
        self.assertIsNotNone(got["Date"])
        self.assertIsNotNone(got["Message-ID"])

    def test_lone_dot_ends_input_without_i(self):
        tag = self.tag()
        self.submit(b"Subject: " + tag.encode() + b"\n\nbefore the dot\n.\n"
                    b"after the dot\n", "-odi", "alice")
        got = self.received("alice", tag)
        self.assertIn(b"before the dot\r\n", got)
        self.assertNotIn(b"after the dot", got)
        self.assertFalse(got.endswith(b"\r\n.\r\n"), got)

    def test_lone_dot_is_data_with_oi(self):
        tag = self.tag()
        self.submit(b"Subject: " + tag.encode() + b"\n\nbefore\n.\nafter\n",
                    "-oi", "-odi", "alice")
        got = self.received("alice", tag)
        self.assertTrue(got.endswith(b"\r\nbefore\r\n.\r\nafter\r\n"), got)


class GitSendEmailTest(SubmitCase):
    def patch_mail(self, tag, extra_headers=b""):
        return (b"From: Alice Dev <alice@a.test>\n"
                b"To: bob@a.test\n"
                b"Cc: carol@a.test\n" + extra_headers +
                b"Subject: [PATCH 1/1] fix the thing " + tag.encode() + b"\n"
                b"Date: Thu, 26 Nov 2026 09:00:00 +0000\n"
                b"Message-ID: <20261126090000." + tag.encode() +
                b"-1-alice@a.test>\n"
                b"X-Mailer: git-send-email 2.39.5\n"
                b"MIME-Version: 1.0\n"
                b"Content-Transfer-Encoding: 8bit\n"
                b"\n"
                b"The commit message.\n"
                b"\n"
                b"Signed-off-by: Alice Dev <alice@a.test>\n"
                b"---\n"
                b" file.c | 2 +-\n"
                b"\n"
                b"diff --git a/file.c b/file.c\n"
                b"--- a/file.c\n"
                b"+++ b/file.c\n"
                b"@@ -1 +1 @@\n"
                b"-old\n"
                b"+new\n"
                b".\n"
                b"From a line that looks like an mbox separator\n"
                b"-- \n"
                b"2.39.5\n"
                b"\n")

    def test_explicit_recipients(self):
        tag = self.tag()
        sent = self.patch_mail(tag)
        self.submit(sent, "-i", "-f", "alice@a.test", "-odi",
                    "bob@a.test", "carol@a.test")
        for user in ("bob", "carol"):
            fields, rest = sup.strip_received_fields(
                self.received(user, tag))
            self.assertEqual(len(fields), 1)
            self.assertEqual(rest, smtp_support.canonical(sent))

    def test_dash_t_with_cc_and_bcc(self):
        tag = self.tag()
        sent = self.patch_mail(tag, extra_headers=b"Bcc: alice@a.test,\n"
                                                  b" Secret <alice@a.test>\n")
        self.submit(sent, "-t", "-i", "-f", "alice@a.test", "-odi")
        want = smtp_support.canonical(sent).replace(
            b"Bcc: alice@a.test,\r\n Secret <alice@a.test>\r\n", b"")
        for user in ("alice", "bob", "carol"):
            got = self.received(user, tag)
            self.assertNotIn(b"Bcc:", got)
            self.assertNotIn(b"Secret", got)
            _, rest = sup.strip_received_fields(got)
            self.assertEqual(rest, want)


class ExitCodeTest(SubmitCase):
    def test_no_recipient(self):
        r = self.submit(b"Subject: none\n\nx\n", "-odi", expect=64)
        self.assertTrue(r.stderr)
        r = self.submit(b"Subject: none\n\nx\n", "-t", "-odi", expect=64)
        self.assertTrue(self.inst.queue_empty(), self.inst.mailq())

    def test_unknown_flag(self):
        r = self.submit(b"", "-Zzz", "alice", expect=64)
        self.assertIn(b"sendmail", r.stderr)

    def test_help(self):
        r = self.submit(b"", "--help")
        self.assertIn(b"-bd", r.stdout)

    def test_bad_address(self):
        for bad in ("a@b@c", "@a.test"):
            self.submit(b"Subject: x\n\nx\n", "-odq", bad, expect=65)
        self.assertTrue(self.inst.queue_empty(), self.inst.mailq())

    def test_unknown_local_user(self):
        # As sendmail: refused at once (EX_NOUSER), nothing queued.
        r = self.submit(b"Subject: x\n\nx\n", "-odq", "nosuchuser@a.test",
                        expect=67)
        self.assertIn(b"User unknown", r.stderr)
        self.assertTrue(self.inst.queue_empty(), self.inst.mailq())

    def test_config_error(self):
        bad = os.path.join(self.inst.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("hostname = a.test\nno_such_key = 1\n")
        r = sup.subprocess.run([sup.sendmail_binary(), "-C", bad, "alice"],
                               input=b"x\n", capture_output=True,
                               timeout=sup.RUN_TIMEOUT)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn(b"bad.conf:2:", r.stderr)


class QueueModesTest(SubmitCase):
    def test_odq_then_queue_run(self):
        tag = self.tag()
        self.submit(b"Subject: " + tag.encode() + b"\n\nqueued\n",
                    "-odq", "-f", "alice@a.test", "bob@a.test")
        listing = self.inst.mailq()
        self.assertIn("(1 request", listing)
        self.assertIn("<alice@a.test>", listing)
        self.assertIn("<bob@a.test>", listing)
        self.assertNotDelivered("bob", tag)
        self.inst.run_queue()
        self.received("bob", tag, timeout=5)
        self.assertTrue(self.inst.queue_empty(), self.inst.mailq())

    def test_default_background_delivery(self):
        tag = self.tag()
        self.submit(b"Subject: " + tag.encode() + b"\n\nbackground\n",
                    "-oi", "carol")
        self.received("carol", tag)
        self.inst.wait_queue_empty()

    def test_odq_while_daemon_runs(self):
        # A long interval: only the queue-folder watch can be in time.
        daemon = self.inst.daemon(interval="1h")
        self.addCleanup(daemon.stop)
        tags = [self.tag() for _ in range(3)]
        for tag in tags:
            self.submit(b"Subject: " + tag.encode() + b"\n\nwatched\n",
                        "-odq", "alice")
        for tag in tags:
            self.received("alice", tag, timeout=15)
        self.inst.wait_queue_empty()
        sent = [l for l in daemon.log_lines()
                if re.search(r"to=<alice(@a\.test)?>.*status=sent", l)]
        self.assertGreaterEqual(len(sent), 3, daemon.log_text())


if __name__ == "__main__":
    sup.main()
