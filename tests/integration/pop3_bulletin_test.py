#!/usr/bin/env python3
"""popper -b dir: qpopper's bulletins, checked by content.

- A user with no record gets only the newest bulletin, as an extra
  message at the end of the maildrop, once.
- A bulletin added later arrives in the next session, exactly once.
- The delivered text: To: (with its folded lines) replaced by
  "To: user@hostname", Status: and X-Status: header lines dropped, a
  leading mbox "From " line dropped, every other byte kept.
- The per-user record survives a popper restart (no bulletin twice).
- Files not named NNNNN.name are ignored.

Usage: pop3_bulletin_test.py --popper PATH --popauth PATH [unittest args]
"""

import unittest

import pop3_support as sup

USER = "frank"
SECRET = "fr4nk-pw"
HOST = "bull.example"


def bulletin(n, extra=b""):
    return (b"From: postmaster@example.org\r\n"
            b"To: all-users@example.org,\r\n"
            b"    more-users@example.org\r\n"
            b"Status: RO\r\n"
            b"Subject: bulletin %d\r\n"
            b"X-Status: A\r\n" % n + extra +
            b"\r\n"
            b"Bulletin number %d.\r\n"
            b".a line with a dot\r\n"
            b"From the admins\r\n" % n)


def delivered(n, user, extra=b""):
    """What the user must receive for bulletin(n)."""
    return (b"From: postmaster@example.org\r\n"
            b"To: %s@%s\r\n"
            b"Subject: bulletin %d\r\n" % (user.encode(), HOST.encode(), n) +
            extra +
            b"\r\n"
            b"Bulletin number %d.\r\n"
            b".a line with a dot\r\n"
            b"From the admins\r\n" % n)


class BulletinCase:
    fmt = None

    def setUp(self):
        self.inst = sup.Instance(self.fmt, plaintext=True, delay=0,
                                 hostname=HOST)
        self.addCleanup(self.inst.cleanup)
        self.inst.add_user(USER, SECRET)
        self.inst.add_user("grace", "gr4ce-pw")
        self.own = [sup.crlf(sup.sample_message(1))]
        self.inst.put_messages(USER, [sup.sample_message(1)])
        self.inst.bulletin("00001.old", bulletin(1))
        self.inst.bulletin("00002.outage", bulletin(2))
        self.inst.bulletin("README", b"not a bulletin\r\n")
        self.inst.bulletin("12x.bad", b"not a bulletin either\r\n")
        self.start()

    def start(self):
        self.popper = self.inst.popper("-b", self.inst.bulletins)
        self.addCleanup(self.popper.stop)
        self.popper.start()

    def session(self, user=USER, secret=SECRET):
        """Logs in, returns every message of the maildrop, QUITs."""
        c = sup.Pop3Raw("127.0.0.1", self.popper.port)
        self.addCleanup(c.close)
        c.login_apop(user, secret)
        count = int(c.cmd("STAT").split()[1])
        messages = [c.retr(i + 1) for i in range(count)]
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        c.read_until_close()
        return messages

    def test_new_user_gets_only_the_newest_once(self):
        self.assertEqual(self.session(), self.own + [delivered(2, USER)])
        self.assertEqual(self.session(), self.own + [delivered(2, USER)])
        self.assertEqual(self.inst.stored_messages(USER),
                         self.own + [delivered(2, USER)])

    def test_user_without_maildrop(self):
        self.assertEqual(self.session("grace", "gr4ce-pw"),
                         [delivered(2, "grace")])

    def test_later_bulletin_arrives_once(self):
        self.session()
        self.inst.bulletin("00003.upgrade", bulletin(3, b"X-Extra: kept\r\n"))
        want = self.own + [delivered(2, USER),
                           delivered(3, USER, b"X-Extra: kept\r\n")]
        self.assertEqual(self.session(), want)
        self.assertEqual(self.session(), want)

    def test_record_survives_restart(self):
        self.session()
        self.popper.stop()
        self.assertEqual(self.popper.returncode, 0)
        self.start()
        self.assertEqual(self.session(), self.own + [delivered(2, USER)])
        self.inst.bulletin("00004.more", bulletin(4))
        self.popper.stop()
        self.start()
        self.assertEqual(self.session(), self.own + [delivered(2, USER),
                                                     delivered(4, USER)])

    def test_deleted_bulletin_does_not_come_back(self):
        c = sup.Pop3Raw("127.0.0.1", self.popper.port)
        self.addCleanup(c.close)
        c.login_apop(USER, SECRET)
        self.assertEqual(c.cmd("STAT").split()[1], b"2")
        self.assertEqual(c.cmd("DELE 2"), b"+OK message 2 deleted")
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        c.read_until_close()
        self.assertEqual(self.session(), self.own)

    def test_mbox_from_line_dropped(self):
        self.inst.bulletin("00005.with-from",
                           b"From admin@example.org Mon Jan  1 00:00:00 2024\n"
                           + bulletin(5).replace(b"\r\n", b"\n"))
        self.assertEqual(self.session(), self.own + [delivered(5, USER)])


class MboxBulletinTest(BulletinCase, unittest.TestCase):
    fmt = "mbox"


class MaildirBulletinTest(BulletinCase, unittest.TestCase):
    fmt = "maildir"


if __name__ == "__main__":
    sup.main()
