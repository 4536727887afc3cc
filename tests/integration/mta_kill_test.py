#!/usr/bin/env python3
"""SIGKILL the MTA under load; no accepted message may be lost.

Three rounds, each ending with `kill -9` of `sendmail -bd`:
  1. during DATA: several smtplib senders at once plus one raw client
     that stopped in the middle of its DATA; killed when about half of the
     round's messages got their 250;
  2. during delivery: killed as soon as a few deliveries were logged
     while the senders still send;
  3. during a queue run: messages queued with `sendmail -odq` while no
     daemon runs; the daemon started and killed at its first delivery.
Afterwards a fresh daemon runs until the queue is empty (a dot-lock
left by a kill names a dead pid and is broken at once; the store never
leaves an empty one). Every message that got a 250 (or a 0 exit from
sendmail -odq) must be in the maildrop exactly once (read with poplib
through popper, counted by its X-Seq header): a crash between the
maildrop append and the queue update makes the queue runner deliver
again, and the store's keyed delivery (DeliveryInfo::delivery_id,
store/mailstore.h) turns that retry into a no-op. The one whose DATA
was cut off must not be delivered at all.

Environment: MTA_KILL_SEED (default 6), MTA_KILL_PER_ROUND (default 30).

Usage: mta_kill_test.py --sendmail PATH --popper PATH --popauth PATH
"""

import os
import random
import re
import smtplib
import sys
import threading
import time
import unittest

import mta_support as sup
import smtp_support

USER = "kim"
SECRET = "kim-Secret9"
SEED = int(os.environ.get("MTA_KILL_SEED", "6"))
PER_ROUND = int(os.environ.get("MTA_KILL_PER_ROUND", "30"))
SENDERS = 3

_SEQ_RE = re.compile(rb"^X-Seq: (\d+)\r?$", re.M)


def message(seq, rng):
    body = b"".join(b"line %d of message %d .From >From\r\n" % (i, seq)
                    for i in range(rng.randrange(1, 200)))
    return (b"From: load@client.example\r\nTo: kim@a.test\r\n"
            b"Subject: load %d\r\nX-Seq: %d\r\n"
            b"Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n"
            b"Message-ID: <seq-%d@client.example>\r\n\r\n" % (seq, seq, seq) +
            body)


class Load:
    """Concurrent smtplib senders; remembers which messages got 250."""

    def __init__(self, port, seqs, rng):
        self.port = port
        self.accepted = set()
        self.failed = set()
        self.lock = threading.Lock()
        self.rng = rng
        chunks = [seqs[i::SENDERS] for i in range(SENDERS)]
        self.threads = [threading.Thread(target=self._send, args=(c,),
                                         daemon=True) for c in chunks]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _send(self, seqs):
        client = None
        for seq in seqs:
            data = message(seq, random.Random(seq))
            try:
                if client is None:
                    client = smtplib.SMTP("127.0.0.1", self.port,
                                          local_hostname="load.example",
                                          timeout=20)
                client.sendmail("load@client.example", ["kim@a.test"], data)
                with self.lock:
                    self.accepted.add(seq)
            except (OSError, smtplib.SMTPException):
                with self.lock:
                    self.failed.add(seq)
                if client is not None:
                    try:
                        client.close()
                    except OSError:
                        pass
                client = None
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                pass
            client.close()

    def count(self):
        with self.lock:
            return len(self.accepted)

    def join(self, timeout=60):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


class KillTest(unittest.TestCase):
    def setUp(self):
        self.inst = sup.Instance(hostname="a.test", users={USER: SECRET})
        self.addCleanup(self.inst.cleanup)
        self.rng = random.Random(SEED)
        self.accepted = set()
        self.never = set()  # must not be delivered
        self.kills = 0
        self.next_seq = 1

    def seqs(self, n):
        out = list(range(self.next_seq, self.next_seq + n))
        self.next_seq += n
        return out

    def sent_count(self, daemon):
        return sum(1 for l in daemon.log_lines() if "status=sent" in l)

    def kill(self, daemon):
        daemon.kill()
        self.kills += 1

    def note(self, what, load, daemon):
        """One line per kill on stderr: how much was in flight (and the
        daemon's log when nothing was delivered at all)."""
        accepted = load.count() if load else PER_ROUND
        failed = len(load.failed) if load else 0
        sent = self.sent_count(daemon)
        sys.stderr.write("kill %s: %d accepted, %d failed, %d delivered "
                         "before the kill\n" % (what, accepted, failed, sent))
        if sent == 0 and what != "during DATA":
            sys.stderr.write("nothing delivered; log:\n%s\nspool: %s\n" %
                             (daemon.log_text()[-4000:],
                              os.listdir(self.inst.box.spool)))

    def diagnostics(self, daemon):
        return "log:\n%s\nspool: %s\nqueue:\n%s" % (
            daemon.log_text()[-6000:], os.listdir(self.inst.box.spool),
            self.inst.mailq())

    def round_during_data(self):
        daemon = self.inst.daemon(interval="1s")
        # One client stops in the middle of its DATA.
        seq = self.seqs(1)[0]
        raw = smtp_support.RawClient("127.0.0.1", daemon.port)
        self.addCleanup(raw.close)
        self.assertEqual(raw.reply()[0], 220)
        for cmd, code in ((b"EHLO raw.example", 250),
                          (b"MAIL FROM:<raw@client.example>", 250),
                          (b"RCPT TO:<kim@a.test>", 250),
                          (b"DATA", 354)):
            raw.send(cmd + b"\r\n")
            self.assertEqual(raw.reply()[0], code, cmd)
        data = message(seq, random.Random(seq))
        raw.send(data[:len(data) // 2])
        self.never.add(seq)
        load = Load(daemon.port, self.seqs(PER_ROUND), self.rng).start()
        sup.wait_until(lambda: load.count() >= PER_ROUND // 2, 60, 0.005)
        self.kill(daemon)
        self.assertTrue(load.join(), "senders hang after the kill")
        raw.close()
        self.accepted |= load.accepted
        self.note("during DATA", load, daemon)

    def round_during_delivery(self):
        daemon = self.inst.daemon(interval="1s")
        base = self.sent_count(daemon)
        load = Load(daemon.port, self.seqs(PER_ROUND), self.rng).start()
        target = base + self.rng.randrange(2, 8)
        sup.wait_until(lambda: self.sent_count(daemon) >= target or
                       not any(t.is_alive() for t in load.threads), 60,
                       0.005)
        self.kill(daemon)
        self.assertTrue(load.join(), "senders hang after the kill")
        self.accepted |= load.accepted
        self.note("during delivery", load, daemon)

    def round_during_queue_run(self):
        for seq in self.seqs(PER_ROUND):
            r = self.inst.sendmail("-odq", "-oi", "-f", "load@client.example",
                                   "kim@a.test",
                                   input=message(seq, random.Random(seq)))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.accepted.add(seq)
        daemon = self.inst.daemon(interval="1s")
        sup.wait_until(lambda: self.sent_count(daemon) >= 1, 60, 0.002)
        self.kill(daemon)
        self.note("during a queue run", None, daemon)

    def test_sigkill_under_load(self):
        self.round_during_data()
        self.round_during_delivery()
        self.round_during_queue_run()
        # A fresh daemon finishes what is left.
        daemon = self.inst.daemon(interval="1s")
        self.addCleanup(daemon.stop)
        if not sup.wait_until(self.inst.queue_empty, 60, 0.2):
            self.fail("queue not empty after 60s; " +
                      self.diagnostics(daemon))
        self.assertEqual(daemon.terminate(), 0, daemon.log_text()[-3000:])

        fetched = self.inst.fetch(USER)
        on_disk = self.inst.stored(USER)
        self.assertEqual(len(fetched), len(on_disk))
        counts = {}
        for m in fetched:
            found = _SEQ_RE.findall(m)
            self.assertEqual(len(found), 1, m[:300])
            seq = int(found[0])
            counts[seq] = counts.get(seq, 0) + 1
            # Each message is whole: its body matches what was sent.
            _, rest = sup.strip_received_fields(m)
            self.assertEqual(rest, message(seq, random.Random(seq)))
        lost = sorted(self.accepted - set(counts))
        self.assertEqual(lost, [], "accepted but lost (%d accepted, %d "
                         "kills)" % (len(self.accepted), self.kills))
        self.assertEqual(sorted(self.never & set(counts)), [],
                         "a message cut off in DATA was delivered")
        dups = {s: c for s, c in counts.items() if c > 1}
        self.assertEqual(dups, {}, "delivered more than once (seq: copies) "
                         "after %d kills" % self.kills)
        self.assertGreaterEqual(len(self.accepted), PER_ROUND)


if __name__ == "__main__":
    sup.main()
