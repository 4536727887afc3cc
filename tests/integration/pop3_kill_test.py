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

Environment: POP3_KILL_SEED (default 5), POP3_KILL_ITERATIONS (default 6
per format and kind).

Usage: pop3_kill_test.py --popper PATH --popauth PATH [unittest args]
"""

import os
import random
import socket
import time
import unittest

import pop3_support as sup

USER = "heidi"
SECRET = "he1di-pw"
SEED = int(os.environ.get("POP3_KILL_SEED", "5"))
ITERATIONS = int(os.environ.get("POP3_KILL_ITERATIONS", "6"))


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

    def start(self):
        popper = self.inst.popper()
        self.addCleanup(popper.stop, False)
        popper.start()
        return popper

    def login(self, popper, small_buffer=False):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if small_buffer:
            # popper then blocks in mid-message until the client reads.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        sock.settimeout(sup.REPLY_TIMEOUT)
        sock.connect(("127.0.0.1", popper.port))
        c = sup.Pop3Raw(sock=sock)
        self.addCleanup(c.close)
        c.login_apop(USER, SECRET)
        return c

    def read_all(self, popper):
        """Every message `popper` shows (its session open also finishes
        what a killed commit left), byte for byte; QUIT deletes nothing."""
        c = self.login(popper)
        count = int(c.cmd("STAT").split()[1])
        # Pipelined RETR of everything.
        c.send(b"".join(b"RETR %d\r\n" % (i + 1) for i in range(count)))
        seen = []
        for _ in range(count):
            self.assertTrue(c.line().startswith(b"+OK"))
            seen.append(c.multiline())
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        c.read_until_close()
        c.close()
        return seen

    def test_kill_during_retr(self):
        messages = [sup.sample_message(1), large_message(2 << 20),
                    sup.sample_message(3)]
        self.inst.put_messages(USER, messages)
        want = [sup.crlf(m) for m in messages]
        popper = self.start()
        for iteration in range(ITERATIONS):
            c = self.login(popper, small_buffer=True)
            c.cmd("DELE 1")
            c.cmd("DELE 3")
            c.send(b"RETR 2\r\n")
            # Read a random part of the message, then kill.
            stop_after = self.rng.randrange(0, len(want[1]))
            got = len(c.buf)
            while got < stop_after:
                chunk = c.sock.recv(min(65536, stop_after - got))
                if not chunk:
                    break
                got += len(chunk)
            popper.kill()
            c.close()
            popper = self.start()
            self.assertEqual(self.read_all(popper), want,
                             "iteration %d" % iteration)
            self.assertEqual(self.inst.stored_messages(USER), want,
                             "iteration %d" % iteration)
        popper.stop()
        self.assertEqual(popper.returncode, 0)

    def test_kill_during_update(self):
        count = 120
        messages = [sup.sample_message(i, body_lines=i % 7)
                    for i in range(count)]
        want = [sup.crlf(m) for m in messages]
        popper = self.start()
        # Measure one undisturbed update to aim the kills.
        self.inst.put_messages(USER, messages)
        c = self.login(popper)
        c.send(b"".join(b"DELE %d\r\n" % (i + 1) for i in range(0, count, 2)))
        for _ in range(0, count, 2):
            c.line()
        start = time.monotonic()
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        update_time = time.monotonic() - start
        c.close()
        outcomes = {"none": 0, "all": 0}
        for iteration in range(ITERATIONS):
            self.inst.put_messages(USER, messages)
            deleted = set(self.rng.sample(range(count),
                                          self.rng.randrange(1, count)))
            kept = [m for i, m in enumerate(want) if i not in deleted]
            c = self.login(popper)
            c.send(b"".join(b"DELE %d\r\n" % (i + 1)
                            for i in sorted(deleted)))
            for _ in deleted:
                self.assertTrue(c.line().startswith(b"+OK"))
            delay = self.rng.uniform(0, update_time)
            c.send(b"QUIT\r\n")
            time.sleep(delay)
            popper.kill()
            c.close()
            popper = self.start()
            after = self.read_all(popper)
            if after == want:
                outcomes["none"] += 1
            elif after == kept:
                outcomes["all"] += 1
            else:
                self.fail("iteration %d (kill after %.4f s): %d messages "
                          "shown, expected %d or %d" %
                          (iteration, delay, len(after), len(want),
                           len(kept)))
            self.assertEqual(self.inst.stored_messages(USER), after)
        popper.stop()
        self.assertEqual(popper.returncode, 0)
        # Both outcomes are legal; the counts only show where kills hit.
        print("%s update kills: %s (update %.4f s)" %
              (self.fmt, outcomes, update_time))


class MboxKillTest(KillCase, unittest.TestCase):
    fmt = "mbox"


class MaildirKillTest(KillCase, unittest.TestCase):
    fmt = "maildir"


if __name__ == "__main__":
    sup.main()
