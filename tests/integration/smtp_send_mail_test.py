#!/usr/bin/env python3
"""The real send_mail against smtp_sink_server and against a tiny Python
SMTP receiver (smtp_support.PyReceiver, not posthorn) whose replies are
scripted, to check the exit codes: 0 accepted, 75 transient (4xx, no
connection), another non-zero code for a permanent failure (5xx), 64 for
a usage error.

Usage: smtp_send_mail_test.py --sink PATH --send-mail PATH [unittest args]
"""

import os
import shutil
import tempfile
import unittest

import smtp_support as sup

EX_USAGE = 64
EX_TEMPFAIL = 75

MESSAGE = (b"From: a@x.example\r\nTo: b@y.example\r\nSubject: send_mail\r\n"
           b"\r\nline one\r\n.leading dot\r\n.\r\n..\r\nlast\r\n")


class SendMailCase(unittest.TestCase):
    def setUp(self):
        self.binary = sup.need_binary(self, "send_mail")
        self.tmp = tempfile.mkdtemp(prefix="posthorn-send-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, data, name="msg.eml"):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def send(self, server, rcpts=("b@y.example",), data=MESSAGE, extra=(),
             stdin=None, mail_from="a@x.example"):
        args = [self.binary, "--server", server, "--from", mail_from]
        for r in rcpts:
            args += ["--to", r]
        args += list(extra)
        if stdin is None:
            args.append(self.write(data))
            result = sup.run(args)
        else:
            args.append("-")
            result = sup.run(args, input=stdin)
        sup.check_sanitizers(result.stderr, "send_mail")
        return result

    def assertPermanent(self, result):
        self.assertNotIn(result.returncode, (0, EX_TEMPFAIL, EX_USAGE),
                         result.stderr)
        self.assertGreater(result.returncode, 0, "killed by a signal")


class AgainstSinkCase(SendMailCase):
    sink_args = ()
    tls = False
    listen = ("127.0.0.1:0",)

    def setUp(self):
        super().setUp()
        sup.need_binary(self, "sink")
        self.server = sup.SinkServer(self.sink_args, tls=self.tls,
                                     listen=self.listen)
        self.addCleanup(self.server.stop)
        self.server.start()

    def assertStored(self, result, data=MESSAGE, rcpts=("b@y.example",)):
        self.assertEqual(result.returncode, 0,
                         (result.stdout, result.stderr,
                          self.server.diagnostics()))
        stored = self.server.wait_messages(1)
        self.assertEqual(len(stored), 1, stored)
        self.assertEqual(stored[0].data, sup.canonical(data))
        self.assertEqual(stored[0].mail_from, "a@x.example")
        self.assertEqual(stored[0].recipients, list(rcpts))


class SinkPlainTest(AgainstSinkCase):
    def test_file(self):
        self.assertStored(self.send(self.server.address))

    def test_several_recipients(self):
        rcpts = ("b@y.example", "c@y.example", "d@z.example")
        self.assertStored(self.send(self.server.address, rcpts=rcpts),
                          rcpts=rcpts)

    def test_stdin_lf_converted(self):
        data = MESSAGE.replace(b"\r\n", b"\n")
        self.assertStored(self.send(self.server.address, stdin=data))

    def test_no_final_newline(self):
        data = b"Subject: open\r\n\r\nno newline at the end"
        self.assertStored(self.send(self.server.address, data=data), data=data)

    def test_big_message(self):
        data = b"Subject: big\r\n\r\n" + (b"B" * 200 + b"\r\n") * 20000
        self.assertStored(self.send(self.server.address, data=data), data=data)

    def test_tls_required_but_not_offered(self):
        result = self.send(self.server.address,
                           extra=("--starttls", "--tls-required"))
        self.assertNotEqual(result.returncode, 0)
        self.assertNotEqual(result.returncode, EX_USAGE)
        self.assertEqual(self.server.names(), [])


class SinkMaxSizeTest(AgainstSinkCase):
    sink_args = ("--max-size", "100000")  # RFC 5321 minimum: 64 KiB

    def test_too_big_is_permanent(self):
        data = b"Subject: big\r\n\r\n" + (b"x" * 98 + b"\r\n") * 2000
        result = self.send(self.server.address, data=data)
        self.assertPermanent(result)
        self.assertEqual(self.server.names(), [])


class SinkTlsTest(AgainstSinkCase):
    tls = True

    def test_starttls_insecure(self):
        self.assertStored(self.send(self.server.address,
                                    extra=("--starttls", "--insecure")))

    def test_starttls_verified_with_cafile(self):
        cert, _ = sup.make_cert()
        self.assertStored(self.send(
            self.server.address,
            extra=("--starttls", "--tls-required", "--cafile", cert)))

    def test_unverifiable_certificate_not_used(self):
        result = self.send(self.server.address,
                           extra=("--starttls", "--tls-required"))
        self.assertNotEqual(result.returncode, 0)
        self.assertNotEqual(result.returncode, EX_USAGE)
        self.assertEqual(self.server.names(), [])


class SinkAuthTest(AgainstSinkCase):
    tls = True
    sink_args = ("--auth", "user:s3cret")

    def test_auth(self):
        self.assertStored(self.send(
            self.server.address,
            extra=("--starttls", "--insecure", "--auth", "user:s3cret")))

    def test_wrong_password_is_permanent(self):
        result = self.send(self.server.address,
                           extra=("--starttls", "--insecure", "--auth",
                                  "user:wrong"))
        self.assertPermanent(result)
        self.assertEqual(self.server.names(), [])


@unittest.skipUnless(sup.have_ipv6_loopback(), "no IPv6 loopback")
class SinkIpv6Test(AgainstSinkCase):
    listen = ("[::1]:0",)

    def test_ipv6(self):
        self.assertEqual(self.server.address.split("]")[0], "[::1")
        self.assertStored(self.send(self.server.address))


class PyReceiverTest(SendMailCase):
    def receiver(self, replies=None, **kwargs):
        r = sup.PyReceiver(replies, **kwargs).start()
        self.addCleanup(r.stop)
        return r

    def address(self, r):
        return "127.0.0.1:%d" % r.port

    def test_accepted(self):
        r = self.receiver()
        rcpts = ("b@y.example", "c@y.example")
        result = self.send(self.address(r), rcpts=rcpts,
                           extra=("--helo", "sender.example"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(r.transactions), 1)
        t = r.transactions[0]
        self.assertEqual(t["data"], MESSAGE)
        self.assertEqual(t["mail_from"], "a@x.example")
        self.assertEqual(t["recipients"], list(rcpts))
        self.assertEqual(r.commands[0].upper(), b"EHLO SENDER.EXAMPLE\r\n")
        self.assertEqual(r.commands[-1].upper(), b"QUIT\r\n")

    def test_without_pipelining(self):
        r = self.receiver(extensions=("8BITMIME",))
        result = self.send(self.address(r))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([t["data"] for t in r.transactions], [MESSAGE])

    def test_ehlo_refused_falls_back_to_helo(self):
        r = self.receiver({"ehlo": "502 5.5.2 EHLO not here"})
        result = self.send(self.address(r))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(any(c.upper().startswith(b"HELO ")
                            for c in r.commands), r.commands)
        self.assertEqual([t["data"] for t in r.transactions], [MESSAGE])

    def test_mail_451_is_transient(self):
        r = self.receiver({"mail": "451 4.3.0 try later"})
        result = self.send(self.address(r))
        self.assertEqual(result.returncode, EX_TEMPFAIL, result.stderr)
        self.assertEqual(r.transactions, [])

    def test_mail_550_is_permanent(self):
        r = self.receiver({"mail": "550 5.7.1 go away"})
        self.assertPermanent(self.send(self.address(r)))
        self.assertEqual(r.transactions, [])

    def test_rcpt_550_is_permanent(self):
        r = self.receiver({"rcpt": "550 5.1.1 no such user"})
        self.assertPermanent(self.send(self.address(r)))
        self.assertEqual(r.transactions, [])

    def test_rcpt_452_is_transient(self):
        r = self.receiver({"rcpt": "452 4.2.2 mailbox full"})
        self.assertEqual(self.send(self.address(r)).returncode, EX_TEMPFAIL)
        self.assertEqual(r.transactions, [])

    def test_data_end_554_is_permanent(self):
        r = self.receiver({"end": "554 5.6.0 content refused"})
        self.assertPermanent(self.send(self.address(r)))

    def test_data_end_451_is_transient(self):
        r = self.receiver({"end": "451 4.3.0 disk full"})
        self.assertEqual(self.send(self.address(r)).returncode, EX_TEMPFAIL)

    def test_greeting_421_is_transient(self):
        r = self.receiver({"greeting": "421 4.3.2 busy"})
        self.assertEqual(self.send(self.address(r)).returncode, EX_TEMPFAIL)

    def test_greeting_554_is_permanent(self):
        r = self.receiver({"greeting": "554 5.3.2 no service"})
        self.assertPermanent(self.send(self.address(r)))

    def test_one_recipient_refused(self):
        r = self.receiver({"rcpt:bad@y.example": "550 5.1.1 unknown"})
        result = self.send(self.address(r),
                           rcpts=("good@y.example", "bad@y.example"))
        self.assertNotEqual(result.returncode, EX_USAGE)
        for t in r.transactions:
            self.assertEqual(t["recipients"], ["good@y.example"])
            self.assertEqual(t["data"], MESSAGE)

    def test_tls_required_but_not_offered(self):
        r = self.receiver()
        result = self.send(self.address(r),
                           extra=("--starttls", "--tls-required"))
        self.assertNotIn(result.returncode, (0, EX_USAGE))
        self.assertEqual(r.transactions, [])

    def test_connection_refused_is_transient(self):
        r = sup.PyReceiver()
        port = r.port
        r.server.server_close()  # bound once, now closed: nobody listens
        result = self.send("127.0.0.1:%d" % port)
        self.assertEqual(result.returncode, EX_TEMPFAIL, result.stderr)


class UsageTest(SendMailCase):
    def test_help(self):
        result = sup.run([self.binary, "--help"])
        self.assertEqual(result.returncode, 0)
        self.assertIn(b"--server", result.stdout + result.stderr)

    def test_usage_errors(self):
        path = self.write(MESSAGE)
        for args in ([], ["--server", "127.0.0.1:1", path],
                     ["--server", "127.0.0.1:1", "--from", "a@x", path],
                     ["--bogus-option"],
                     ["--server", "no-port", "--from", "a@x", "--to", "b@y",
                      path]):
            with self.subTest(args=args):
                result = sup.run([self.binary] + args)
                self.assertEqual(result.returncode, EX_USAGE, result.stderr)

    def test_sink_help_and_usage(self):
        sink = sup.need_binary(self, "sink")
        result = sup.run([sink, "--help"])
        self.assertEqual(result.returncode, 0)
        self.assertIn(b"--listen", result.stdout + result.stderr)
        for args in ([], ["--bogus"], ["--listen", "127.0.0.1:0"],
                     ["--listen", "127.0.0.1:0", "--dir", self.tmp,
                      "--max-size", "lots"]):
            with self.subTest(args=args):
                result = sup.run([sink] + args, timeout=30)
                self.assertEqual(result.returncode, EX_USAGE, result.stderr)


if __name__ == "__main__":
    sup.main()
