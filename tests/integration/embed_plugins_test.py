#!/usr/bin/env python3
"""Runs the "Extending posthorn" examples of docs/embedding.md
(examples/embed_plugins/):

  - memory_maildrop (a std::map maildrop behind pop3d::Pop3Service) is read
    with python's poplib: RETR, TOP, UIDL, DELE + QUIT applied to the
    custom store and gone in the next session, a dropped session deleting
    nothing, the one-session lock, a wrong password;
  - embed_pop3_fetch lists memory_maildrop's messages (USER/PASS or AUTH
    PLAIN, and APOP with --delete), and fails cleanly on a wrong password
    or a server without STLS;
  - custom_transport delivers through its JSON-lines agent: one recipient
    sent, one deferred then sent on the retry, one bounced with a DSN to
    the sender that the same agent delivers.

Usage: embed_plugins_test.py --pop3-fetch PATH --memory-maildrop PATH
                             --custom-transport PATH [unittest args]

All traffic is on 127.0.0.1, the server on port 0; every wait is bounded.
"""

import json
import os
import poplib
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

PATHS = {"--pop3-fetch": "", "--memory-maildrop": "",
         "--custom-transport": ""}
RUN_TIMEOUT = 60     # seconds for one example run
START_TIMEOUT = 30   # until "listening on"
STOP_TIMEOUT = 15    # after SIGTERM
POP_TIMEOUT = 15     # poplib socket timeout
USER, PASSWORD = "alice", "wonderland"

MESSAGES = [
    ("one.eml", b"From: bob@example.org\nTo: alice@example.org\n"
                b"Subject: First message\n\nHello Alice.\nSecond line.\n"),
    ("two.eml", b"From: carol@example.org\r\nTo: alice@example.org\r\n"
                b"Subject: =?utf-8?q?Caf=C3=A9_menu?=\r\n\r\nSoup.\r\n"),
    ("three.eml", b"From: dave@example.org\nTo: alice@example.org\n"
                  b"Subject: Third\n\n.leading dot\nbody\n"),
]
SUBJECTS = ["First message", "Caf\u00e9 menu", "Third"]


def take_paths():
    args, rest, i = sys.argv[1:], [], 0
    while i < len(args):
        if args[i] in PATHS and i + 1 < len(args):
            PATHS[args[i]] = os.path.abspath(args[i + 1])
            i += 2
        else:
            rest.append(args[i])
            i += 1
    sys.argv[1:] = rest


def crlf(data):
    """The message as POP3 serves it: CRLF line ends."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Maildrop:
    """memory_maildrop on 127.0.0.1, port 0, preloaded with MESSAGES."""

    def __init__(self, folder):
        files = []
        for name, data in MESSAGES:
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(data)
            files.append(path)
        self.proc = subprocess.Popen(
            [PATHS["--memory-maildrop"], "0"] + files,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.host, self.port = self._wait_listening()

    def _wait_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        match = re.match(rb"listening on (127\.0\.0\.1):(\d+)\n", line)
        if not match:
            self.stop()
            raise AssertionError("no 'listening on' line: %r" % line)
        return match.group(1).decode(), int(match.group(2))

    @property
    def endpoint(self):
        return "%s:%d" % (self.host, self.port)

    def pop(self):
        client = poplib.POP3(self.host, self.port, timeout=POP_TIMEOUT)
        client.user(USER)
        client.pass_(PASSWORD)
        return client

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        self.proc.stdout.close()
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        return self.proc.returncode, err


def uidls(client):
    return [line.split()[1] for line in client.uidl()[1]]


class MemoryMaildropTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="embed-plugins-")
        self.server = Maildrop(self.folder)

    def tearDown(self):
        code, err = self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.assertEqual(code, 0, err)

    def test_retr_gives_each_file_with_crlf(self):
        client = self.server.pop()
        count, octets = client.stat()
        self.assertEqual(count, len(MESSAGES))
        expected = [crlf(data) for _, data in MESSAGES]
        self.assertEqual(octets, sum(len(d) for d in expected))
        for number, data in enumerate(expected, 1):
            _, lines, _ = client.retr(number)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", data)
            self.assertEqual(client.list(number).split()[2],
                             str(len(data)).encode())
        client.quit()

    def test_top_gives_header_and_n_lines(self):
        client = self.server.pop()
        _, lines, _ = client.top(1, 1)
        self.assertEqual(lines, [b"From: bob@example.org",
                                 b"To: alice@example.org",
                                 b"Subject: First message", b"",
                                 b"Hello Alice."])
        client.quit()

    def test_dele_and_quit_is_applied_and_seen_by_next_session(self):
        client = self.server.pop()
        before = uidls(client)
        self.assertEqual(len(set(before)), 3)
        client.dele(2)
        client.quit()

        client = self.server.pop()
        self.assertEqual(client.stat()[0], 2)
        self.assertEqual(uidls(client), [before[0], before[2]])
        _, lines, _ = client.retr(2)
        self.assertIn(b"Subject: Third", lines)
        client.quit()

    def test_dropped_session_deletes_nothing(self):
        client = self.server.pop()
        client.dele(1)
        client.sock.close()  # no QUIT: no UPDATE
        deadline = time.monotonic() + 10
        while True:  # the lock goes when the server sees the close
            client = poplib.POP3(self.server.host, self.server.port,
                                 timeout=POP_TIMEOUT)
            client.user(USER)
            try:
                client.pass_(PASSWORD)
                break
            except poplib.error_proto as e:
                client.close()
                if b"IN-USE" not in e.args[0] or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.assertEqual(client.stat()[0], 3)
        client.quit()

    def test_second_session_is_refused_while_one_is_open(self):
        first = self.server.pop()
        second = poplib.POP3(self.server.host, self.server.port,
                             timeout=POP_TIMEOUT)
        second.user(USER)
        with self.assertRaises(poplib.error_proto) as refused:
            second.pass_(PASSWORD)
        self.assertIn(b"[IN-USE]", refused.exception.args[0])
        second.close()
        first.quit()

    def test_wrong_password_is_refused(self):
        client = poplib.POP3(self.server.host, self.server.port,
                             timeout=POP_TIMEOUT)
        client.user(USER)
        with self.assertRaises(poplib.error_proto) as refused:
            client.pass_("not-the-password")
        self.assertIn(b"[AUTH]", refused.exception.args[0])
        client.close()


class Pop3FetchTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="embed-plugins-")
        self.server = Maildrop(self.folder)

    def tearDown(self):
        code, err = self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.assertEqual(code, 0, err)

    def fetch(self, *flags, password=PASSWORD):
        env = dict(os.environ, POP3_PASSWORD=password)
        return subprocess.run(
            [PATHS["--pop3-fetch"]] + list(flags) +
            [self.server.endpoint, USER],
            capture_output=True, timeout=RUN_TIMEOUT, env=env)

    def expected_lines(self):
        return ["%d %d %s" % (n, len(crlf(data)), subject)
                for n, ((_, data), subject)
                in enumerate(zip(MESSAGES, SUBJECTS), 1)]

    def test_lists_every_message_and_keeps_them(self):
        result = self.fetch("--plaintext-auth")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.decode("utf-8").splitlines()
        self.assertEqual(lines, self.expected_lines() +
                         ["3 messages, 0 deleted"])
        client = self.server.pop()
        self.assertEqual(client.stat()[0], 3)
        client.quit()

    def test_apop_with_delete_empties_the_maildrop(self):
        result = self.fetch("--apop", "--delete")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.decode("utf-8").splitlines()
        self.assertEqual(lines, self.expected_lines() +
                         ["3 messages, 3 deleted"])
        client = self.server.pop()
        self.assertEqual(client.stat(), (0, 0))
        client.quit()

    def test_wrong_password_fails_and_deletes_nothing(self):
        result = self.fetch("--apop", "--delete", password="wrong")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout, b"")
        self.assertIn(b"login refused", result.stderr)
        client = self.server.pop()
        self.assertEqual(client.stat()[0], 3)
        client.quit()

    def test_stls_required_but_not_offered_fails(self):
        result = self.fetch("--stls")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(b"STLS", result.stderr)

    def test_plaintext_password_needs_the_flag(self):
        result = self.fetch()
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout, b"")


class CustomTransportTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="embed-plugins-")

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_sent_deferred_then_retried_and_bounced_with_dsn(self):
        result = subprocess.run([PATHS["--custom-transport"], self.folder],
                                capture_output=True, timeout=RUN_TIMEOUT)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout.decode()
        queued = re.match(r"queued ([0-9A-Z]+)\n", out)
        self.assertTrue(queued, out)
        qid = queued.group(1)

        def outcome(address):
            return re.findall(r"log: (\w+): to=<%s>, .*status=(\w+) \((\d{3})"
                              % re.escape(address), out)

        self.assertEqual(outcome("bob@example.net"), [(qid, "sent", "250")])
        self.assertEqual(outcome("fail@example.net"),
                         [(qid, "bounced", "550")])
        self.assertEqual(outcome("defer@example.net"),
                         [(qid, "deferred", "451"), (qid, "sent", "250")])
        dsn = outcome("app@example.org")
        self.assertEqual(len(dsn), 1, out)
        self.assertNotEqual(dsn[0][0], qid)
        self.assertEqual(dsn[0][1:], ("sent", "250"))
        self.assertIn("run 1: delivered=1 deferred=1 bounced=1", out)
        # Between the runs the deferred recipient stays queued.
        self.assertRegex(out, r"queue: %s to=<defer@example.net> attempts=1 "
                              r"\(451 " % qid)
        self.assertIn("retry: delivered=1 deferred=0 bounced=0", out)
        self.assertTrue(out.endswith("queue: empty\n"), out)
        self.assertEqual(os.listdir(os.path.join(self.folder, "queue", "msg")),
                         [])

        with open(os.path.join(self.folder, "deliveries.jsonl"), "rb") as f:
            records = [json.loads(line) for line in f]
        self.assertEqual([r["recipient"] for r in records],
                         ["bob@example.net", "app@example.org",
                          "defer@example.net"])
        bob, bounce, defer = records
        self.assertEqual(bob["queue_id"], qid)
        self.assertEqual(bob["sender"], "app@example.org")
        self.assertEqual(bob["headers"]["Subject"], "Report")
        self.assertGreater(bob["size"], 0)
        self.assertEqual(defer["size"], bob["size"])
        self.assertEqual(bounce["sender"], "")  # DSNs use the null sender
        self.assertEqual(bounce["headers"]["Subject"],
                         "Undelivered Mail Returned to Sender")


if __name__ == "__main__":
    take_paths()
    for flag, path in PATHS.items():
        if not os.access(path, os.X_OK):
            sys.exit("embed_plugins_test.py: %s PATH is required" % flag)
    unittest.main()
