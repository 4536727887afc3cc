#!/usr/bin/env python3
"""SIGKILL popper at random points; no message may be lost.

For each spool format (seeded random, bounded iterations):
- during RETR of a large message, after some DELEs: afterwards every
  message is still there, byte for byte (a session that did not QUIT
  deletes nothing);
- during the UPDATE after DELE of many messages + QUIT: afterwards the
  maildrop holds either every message or exactly the undeleted ones,
  never a mix, never a lost kept message, never a corrupt mbox.
Each check reads the maildrop through a fresh popper (whose session open
finishes an interrupted commit; RETR of every message) and then from
disk, and compares both with what was stored.

Environment: POP3_KILL_SEED (default 5), POP3_KILL_ITERATIONS (default 7
per format and kind).

Usage: pop3_kill_test.py --popper PATH --popauth PATH [unittest args]
"""

import os
import random
import time
import unittest

import pop3_support as sup

USER = "heidi"
SECRET = "he1di-pw"
SEED = int(os.environ.get("POP3_KILL_SEED", "5"))
ITERATIONS = int(os.environ.get("POP3_KILL_ITERATIONS", "7"))


def large_message(size):
    line = b"0123456789abcdefghijklmnopqrstuvwxyz.From >From .\r\n"
    body = b"".join(b"%07d " % i + line for i in range(size // 60))
    return b"Subject: large\r\n\r\n" + body


class KillCase:
    fmt = None

    def setUp(self):
        self.inst = sup.Instance(self.fmt, plaintext=True, delay=0)
        self.addCleanup(self.inst.cleanup)
        self.inst.add_user(USER, SECRET)
        self.rng = random.Random("%s-%d" % (self.fmt, SEED))
        self.popper = None

    def start(self):
        self.popper = self.inst.popper()
        self.addCleanup(self.popper.stop, False)
        self.popper.start()
        return self.popper

    def login(self):
        c = sup.Pop3Raw("127.0.0.1", self.popper.port)
        c.login(USER, SECRET)
        return c

    def read_through_popper(self):
        """Every message a fresh popper shows (its session open also
        finishes what a killed commit left), byte for byte; QUIT deletes
        nothing."""
        self.start()
        c = self.login()
        try:
            count = int(c.cmd("STAT").split()[1])
            # Pipelined RETR of everything.
            c.send(b"".join(b"RETR %d\r\n" % (i + 1) for i in range(count)))
            seen = []
            for _ in range(count):
                self.assertTrue(c.line().startswith(b"+OK"))
                seen.append(c.multiline())
            self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
            c.read_until_close()
        finally:
            c.close()
        self.popper.stop()
        return seen

    def test_kill_during_retr(self):
        messages = [sup.sample_message(1), large_message(3 << 20),
                    sup.sample_message(3)]
        self.inst.put_messages(USER, messages)
        want = [sup.crlf(m) for m in messages]
        for iteration in range(ITERATIONS):
            popper = self.start()
            c = self.login()
            c.cmd("DELE 1")
            c.cmd("DELE 3")
            c.send(b"RETR 2\r\n")
            # Read a random part of the message, then kill.
            stop_after = self.rng.randrange(0, len(want[1]))
            got = 0
            while got < stop_after:
                chunk = c.sock.recv(min(65536, stop_after - got) or 1)
                if not chunk:
                    break
                got += len(chunk)
            popper.kill()
            c.close()
            self.assertEqual(self.read_through_popper(), want,
                             "iteration %d" % iteration)
            self.assertEqual(self.inst.stored_messages(USER), want,
                             "iteration %d" % iteration)

    def test_kill_during_update(self):
        count = 120
        messages = [sup.sample_message(i, body_lines=i % 7)
                    for i in range(count)]
        want = [sup.crlf(m) for m in messages]
        # Measure one undisturbed update to aim the kills.
        self.inst.put_messages(USER, messages)
        popper = self.start()
        c = self.login()
        c.send(b"".join(b"DELE %d\r\n" % (i + 1) for i in range(0, count, 2)))
        for _ in range(0, count, 2):
            c.line()
        start = time.monotonic()
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        update_time = time.monotonic() - start
        c.close()
        popper.stop()
        outcomes = {"none": 0, "all": 0}
        for iteration in range(ITERATIONS):
            self.inst.put_messages(USER, messages)
            deleted = set(self.rng.sample(range(count),
                                          self.rng.randrange(1, count)))
            kept = [m for i, m in enumerate(want) if i not in deleted]
            popper = self.start()
            c = self.login()
            c.send(b"".join(b"DELE %d\r\n" % (i + 1)
                            for i in sorted(deleted)))
            for _ in deleted:
                self.assertTrue(c.line().startswith(b"+OK"))
            delay = self.rng.uniform(0, update_time * 1.5)
            c.send(b"QUIT\r\n")
            time.sleep(delay)
            popper.kill()
            c.close()
            after = self.read_through_popper()
            if after == want:
                outcomes["none"] += 1
            elif after == kept:
                outcomes["all"] += 1
            else:
                self.fail("iteration %d (kill after %.4f s): %d messages "
                          "on disk, expected %d or %d" %
                          (iteration, delay, len(after), len(want),
                           len(kept)))
            self.assertEqual(self.inst.stored_messages(USER), after)
        # Both outcomes are legal; the counts only show where kills hit.
        print("%s update kills: %s (update %.4f s)" %
              (self.fmt, outcomes, update_time))


class MboxKillTest(KillCase, unittest.TestCase):
    fmt = "mbox"


class MaildirKillTest(KillCase, unittest.TestCase):
    fmt = "maildir"


if __name__ == "__main__":
    sup.main()
