#!/usr/bin/env python3
"""python3 poplib against the real popper, for mbox and Maildir spools.

Every retrieved byte is compared with what was stored (the message with
CRLF line ends, "From " lines unquoted, dots unstuffed by poplib); UIDL
ids are the store's own (Maildir: the base file name; mbox: the digest of
the record on disk), stable across sessions and never a forged X-UIDL
header; DELE/RSET/QUIT change the maildrop exactly as asked, mail that
arrives during a session survives its QUIT, and a second session gets
[IN-USE]. STLS (plaintext refused with [AUTH] before it) and implicit TLS
(popper -L) are checked with verified certificates.

Usage: pop3_poplib_test.py --popper PATH --popauth PATH [unittest args]
"""

import poplib
import unittest

import pop3_support as sup

USER = "alice"
SECRET = "s3cret-Alice"


def retr_bytes(client, n):
    """RETR n through poplib, as CRLF bytes."""
    resp, lines, octets = client.retr(n)
    if not resp.startswith(b"+OK"):
        raise AssertionError(resp)
    return b"".join(line + b"\r\n" for line in lines)


class PoplibCase:
    """Mixed into one TestCase per mailbox format."""
    fmt = None

    # One instance, auth database and popper per class (popauth and
    # popper start-up are the slow part); each test gets a fresh maildrop.
    @classmethod
    def setUpClass(cls):
        cls.inst = sup.Instance(cls.fmt, plaintext=True, tls=True)
        cls.addClassCleanup(cls.inst.cleanup)
        cls.inst.add_user(USER, SECRET)
        cls.inst.add_user("bob", "bob-Password", password_only=True)
        cls.popper = cls.inst.popper(tls_listen=("127.0.0.1:0",))
        cls.addClassCleanup(cls.popper.stop)
        cls.popper.start()

    def setUp(self):
        sup.wait_unlocked(self.popper.port, USER, SECRET)
        self.messages = [
            sup.sample_message(1),
            sup.sample_message(2, body_lines=40),
            sup.sample_message(3, extra_header=b"X-UIDL: forged-uid-1\r\n"),
        ]
        self.inst.put_messages(USER, self.messages)

    def connect(self):
        client = poplib.POP3("127.0.0.1", self.popper.port,
                             timeout=sup.REPLY_TIMEOUT)
        self.addCleanup(client.close)
        return client

    def login(self):
        """APOP: the mechanism does not matter here, and PASS costs a
        crypt() per login (tested on its own below)."""
        client = self.connect()
        client.apop(USER, SECRET)
        return client

    def login_pass(self):
        client = self.connect()
        client.user(USER)
        client.pass_(SECRET)
        return client

    def expected(self):
        return [sup.crlf(m) for m in self.messages]

    def test_user_pass_stat_list_retr(self):
        client = self.login_pass()
        want = self.expected()
        count, size = client.stat()
        self.assertEqual(count, 3)
        self.assertEqual(size, sum(len(m) for m in want))
        resp, listing, _ = client.list()
        self.assertTrue(resp.startswith(b"+OK"), resp)
        self.assertEqual(listing, [b"%d %d" % (i + 1, len(m))
                                   for i, m in enumerate(want)])
        self.assertEqual(client.list(2), b"+OK 2 %d" % len(want[1]))
        for i, m in enumerate(want):
            self.assertEqual(retr_bytes(client, i + 1), m)
        self.assertTrue(client.quit().startswith(b"+OK"))
        # Nothing deleted: the maildrop is unchanged.
        self.assertEqual(self.inst.stored_messages(USER), want)

    def test_apop(self):
        client = self.connect()
        self.assertRegex(client.getwelcome(), rb"^\+OK .*<[^>]+@[^>]+>$")
        resp = client.apop(USER, SECRET)
        self.assertTrue(resp.startswith(b"+OK"), resp)
        self.assertEqual(retr_bytes(client, 1), self.expected()[0])
        client.quit()

    def test_wrong_password_and_apop_digest_refused(self):
        client = self.connect()
        client.user(USER)
        with self.assertRaises(poplib.error_proto) as cm:
            client.pass_("wrong")
        self.assertIn(b"-ERR [AUTH]", cm.exception.args[0])
        with self.assertRaises(poplib.error_proto) as cm:
            client.apop(USER, "not the secret")
        self.assertIn(b"-ERR [AUTH]", cm.exception.args[0])

    def test_password_only_user_has_no_apop(self):
        self.inst.put_messages("bob", [sup.sample_message(7)])
        client = self.connect()
        with self.assertRaises(poplib.error_proto):
            client.apop("bob", "bob-Password")
        client.close()
        client = self.connect()
        client.user("bob")
        client.pass_("bob-Password")
        self.assertEqual(retr_bytes(client, 1),
                         sup.crlf(sup.sample_message(7)))
        client.quit()

    def test_top(self):
        client = self.login()
        want = self.expected()
        for n, lines in ((1, 0), (2, 5), (3, 100), (2, 4294967295)):
            resp, got, _ = client.top(n, lines)
            self.assertTrue(resp.startswith(b"+OK"), resp)
            self.assertEqual(b"".join(x + b"\r\n" for x in got),
                             sup.top_of(want[n - 1], lines), (n, lines))
        client.quit()

    def test_uidl_stable_and_not_forged(self):
        client = self.login()
        resp, lines, _ = client.uidl()
        first = [line.split(b" ", 1)[1].decode() for line in lines]
        self.assertEqual([line.split(b" ")[0] for line in lines],
                         [b"1", b"2", b"3"])
        self.assertEqual(len(set(first)), 3)
        self.assertNotIn("forged-uid-1", first)
        self.assertEqual(first, self.inst.expected_uids(USER))
        self.assertEqual(client.uidl(3), b"+OK 3 " + first[2].encode())
        client.dele(1)
        client.quit()
        # The kept messages keep their ids in the next sessions.
        for _ in range(2):
            client = self.login()
            resp, lines, _ = client.uidl()
            self.assertEqual([x.split(b" ", 1)[1].decode() for x in lines],
                             first[1:])
            client.quit()

    def test_dele_rset_quit(self):
        want = self.expected()
        client = self.login()
        self.assertEqual(client.dele(1), b"+OK message 1 deleted")
        self.assertEqual(client.stat(), (2, len(want[1]) + len(want[2])))
        resp = client.rset()
        self.assertTrue(resp.startswith(b"+OK"), resp)
        self.assertEqual(client.stat()[0], 3)
        client.dele(2)
        with self.assertRaises(poplib.error_proto) as cm:
            client.retr(2)
        self.assertIn(b"already deleted", cm.exception.args[0])
        resp = client.quit()
        self.assertIn(b"signing off", resp)
        self.assertEqual(self.inst.stored_messages(USER), [want[0], want[2]])
        client = self.login()
        self.assertEqual(client.stat(), (2, len(want[0]) + len(want[2])))
        self.assertEqual(retr_bytes(client, 1), want[0])
        self.assertEqual(retr_bytes(client, 2), want[2])
        client.quit()

    def test_dropped_connection_deletes_nothing(self):
        client = self.login()
        client.dele(1)
        client.dele(2)
        client.close()  # no QUIT: no UPDATE
        self.assertTrue(sup.wait_until(self._can_login), "lock not released")
        self.assertEqual(self.inst.stored_messages(USER), self.expected())

    def _can_login(self):
        try:
            client = self.login()
        except poplib.error_proto:
            return False
        client.quit()
        return True

    def test_mail_delivered_during_session_is_kept(self):
        want = self.expected()
        client = self.login()
        late = sup.sample_message(9, body_lines=2)
        self.inst.deliver(USER, late)
        # Not in this session's listing.
        self.assertEqual(client.stat()[0], 3)
        client.dele(1)
        client.dele(3)
        self.assertTrue(client.quit().startswith(b"+OK"))
        self.assertEqual(self.inst.stored_messages(USER),
                         [want[1], sup.crlf(late)])
        client = self.login()
        self.assertEqual(client.stat()[0], 2)
        self.assertEqual(retr_bytes(client, 2), sup.crlf(late))
        client.quit()

    def test_second_session_is_refused_in_use(self):
        first = self.login()
        second = self.connect()
        with self.assertRaises(poplib.error_proto) as cm:
            second.apop(USER, SECRET)
        self.assertTrue(cm.exception.args[0].startswith(b"-ERR [IN-USE]"),
                        cm.exception.args[0])
        # The first session goes on and its UPDATE works.
        first.dele(2)
        first.quit()
        want = self.expected()
        self.assertEqual(self.inst.stored_messages(USER), [want[0], want[2]])

    def test_capa(self):
        client = self.connect()
        caps = client.capa()
        for cap in ("TOP", "UIDL", "USER", "PIPELINING", "RESP-CODES",
                    "STLS"):
            self.assertIn(cap, caps)
        client.quit()

    def test_stls_then_login(self):
        client = self.connect()
        resp = client.stls(sup.verifying_context())
        self.assertTrue(resp.startswith(b"+OK"), resp)
        client.user(USER)
        client.pass_(SECRET)
        self.assertEqual(retr_bytes(client, 3), self.expected()[2])
        self.assertNotIn("STLS", client.capa())
        client.quit()

    def test_pop3s(self):
        client = poplib.POP3_SSL("127.0.0.1", self.popper.tls_port(),
                                 context=sup.verifying_context(),
                                 timeout=sup.REPLY_TIMEOUT)
        self.addCleanup(client.close)
        client.user(USER)
        client.pass_(SECRET)
        self.assertEqual(client.stat()[0], 3)
        self.assertEqual(retr_bytes(client, 2), self.expected()[1])
        self.assertNotIn("STLS", client.capa())
        client.dele(2)
        client.quit()
        want = self.expected()
        self.assertEqual(self.inst.stored_messages(USER), [want[0], want[2]])


class PlaintextRefusedCase:
    """plaintext_auth = no: USER/PASS only after STLS."""
    fmt = None

    @classmethod
    def setUpClass(cls):
        cls.inst = sup.Instance(cls.fmt, plaintext=False, tls=True)
        cls.addClassCleanup(cls.inst.cleanup)
        cls.inst.add_user(USER, SECRET)
        cls.popper = cls.inst.popper()
        cls.addClassCleanup(cls.popper.stop)
        cls.popper.start()

    def setUp(self):
        sup.wait_unlocked(self.popper.port, USER, SECRET)
        self.message = sup.sample_message(5)
        self.inst.put_messages(USER, [self.message])

    def connect(self):
        client = poplib.POP3("127.0.0.1", self.popper.port,
                             timeout=sup.REPLY_TIMEOUT)
        self.addCleanup(client.close)
        return client

    def test_pass_refused_before_stls(self):
        client = self.connect()
        self.assertNotIn("USER", client.capa())
        with self.assertRaises(poplib.error_proto) as cm:
            client.user(USER)
            client.pass_(SECRET)
        self.assertIn(b"-ERR [AUTH]", cm.exception.args[0])
        self.assertIn(b"Plaintext authentication disallowed",
                      cm.exception.args[0])
        # APOP needs no TLS.
        client2 = self.connect()
        self.assertTrue(client2.apop(USER, SECRET).startswith(b"+OK"))
        client2.quit()

    def test_pass_works_after_stls(self):
        client = self.connect()
        client.stls(sup.verifying_context())
        self.assertIn("USER", client.capa())
        client.user(USER)
        client.pass_(SECRET)
        self.assertEqual(retr_bytes(client, 1), sup.crlf(self.message))
        client.dele(1)
        client.quit()
        self.assertEqual(self.inst.stored_messages(USER), [])


class MboxPoplibTest(PoplibCase, unittest.TestCase):
    fmt = "mbox"

    def test_mbox_quoting_on_disk(self):
        # The mbox keeps mboxrd quoting after popper rewrote it.
        client = self.login()
        client.dele(2)
        client.quit()
        with open(self.inst.mbox_path(USER), "rb") as f:
            data = f.read()
        self.assertIn(b"\n>From the start of a line\n", data)
        self.assertIn(b"\n>>From quoted already\n", data)
        self.assertIn(b"\n>>>From twice\n", data)
        self.assertNotIn(b"\r", data)


class MaildirPoplibTest(PoplibCase, unittest.TestCase):
    fmt = "maildir"


class MboxPlaintextRefusedTest(PlaintextRefusedCase, unittest.TestCase):
    fmt = "mbox"


class MaildirPlaintextRefusedTest(PlaintextRefusedCase, unittest.TestCase):
    fmt = "maildir"


if __name__ == "__main__":
    sup.main()
