#!/usr/bin/env python3
"""Replays POP3 transcripts byte by byte against the real popper.

The transcripts (tests/data/pop3/integration/*.txt, format in the README
there) are the sessions of the original guide, of RFC 1939 and of RFC
1460. Each is replayed against a fresh instance whose maildrop holds the
transcript's messages, for each spool format, twice: every client flight
in one send(), and one byte per send() (with TCP_NODELAY, so the server
sees many small segments). Server bytes must match exactly; the only
placeholder is the fresh APOP timestamp of each greeting ({TS}), from
which APOP digests are computed. After the file, the maildrop on disk
must hold exactly the messages the transcript kept.

Usage: pop3_transcript_test.py --popper PATH --popauth PATH [unittest args]
"""

import glob
import os
import re
import socket
import unittest

import pop3_support as sup

_ESCAPE_RE = re.compile(r"\\(\{(\d+)\*((?:[^}\\]|\\.)*)\}|x[0-9A-Fa-f]{2}|.)")


def unescape(text):
    """The escapes of tests/data/pop3/README.md, to bytes."""
    out = bytearray()
    pos = 0
    for m in _ESCAPE_RE.finditer(text):
        out += text[pos:m.start()].encode("utf-8")
        pos = m.end()
        esc = m.group(1)
        if m.group(2) is not None:
            out += unescape(m.group(3)) * int(m.group(2))
        elif esc.startswith("x"):
            out.append(int(esc[1:], 16))
        else:
            table = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0",
                     "\\": b"\\"}
            if esc not in table:
                raise ValueError("bad escape \\%s in %r" % (esc, text))
            out += table[esc]
    out += text[pos:].encode("utf-8")
    return bytes(out)


class Transcript:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.conf = {}
        self.formats = ["mbox", "maildir"]
        self.users = []  # (name, secret)
        self.messages = []
        self.steps = []  # (tag, value)
        self.kept = None
        with open(path, "r", encoding="utf-8") as f:
            for number, raw in enumerate(f, 1):
                line = raw.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                tag, sep, value = line.partition(":")
                if not sep or len(tag) != 1:
                    raise ValueError("%s:%d: bad line %r" % (path, number,
                                                             line))
                if value.startswith(" "):
                    value = value[1:]
                if tag == "O":
                    key, _, v = value.partition("=")
                    self.conf[key.strip()] = v.strip()
                elif tag == "F":
                    self.formats = value.split()
                elif tag == "U":
                    name, secret = value.split(" ", 1)
                    self.users.append((name, secret))
                elif tag == "M":
                    self.messages.append(unescape(value))
                elif tag == "K":
                    self.kept = [] if value.strip() == "-" else \
                        [int(x) for x in value.split()]
                elif tag in "TCcSsX":
                    self.steps.append((tag, value, number))
                else:
                    raise ValueError("%s:%d: unknown tag %r" % (path, number,
                                                                tag))
        if not self.steps or self.steps[0][0] != "T":
            self.steps.insert(0, ("T", "connect main", 0))


class Connection:
    def __init__(self, port, bytewise):
        self.raw = sup.Pop3Raw("127.0.0.1", port)
        self.raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.bytewise = bytewise
        self.greeted = False
        self.timestamp = None

    def send(self, data):
        if not self.bytewise:
            self.raw.send(data)
            return
        for i in range(len(data)):
            self.raw.send(data[i:i + 1])


class Replay:
    """One run of a transcript against one popper."""

    def __init__(self, test, transcript, inst, port, bytewise):
        self.test = test
        self.t = transcript
        self.inst = inst
        self.port = port
        self.bytewise = bytewise
        self.connections = {}
        self.current = None
        self.uids = inst.expected_uids(transcript.users[0][0])

    def where(self, number):
        return "%s:%d (%s, %s)" % (self.t.path, number, self.inst.fmt,
                                   "bytewise" if self.bytewise else "whole")

    def expand_client(self, text):
        def digest(m):
            secret = dict(self.t.users)[m.group(1)]
            return sup.apop_digest(self.current.timestamp, secret)
        return re.sub(r"\{DIGEST (\S+)\}", digest, text)

    def expand_server(self, text):
        if self.current.timestamp is not None:
            text = text.replace("{TS}", self.current.timestamp.decode())
        return re.sub(r"\{UID (\d+)\}",
                      lambda m: self.uids[int(m.group(1)) - 1], text)

    def expect(self, want, number):
        conn = self.current
        if not conn.greeted:
            # The greeting: learn this connection's APOP timestamp first.
            conn.greeted = True
            greeting = conn.raw.line() + b"\r\n"
            m = sup._TS_RE.search(greeting)
            if m:
                conn.timestamp = m.group(0)
            want = unescape(self.expand_server(want.decode("latin-1")))
            got = greeting
            if len(want) > len(got):
                got += conn.raw.read_exact(len(want) - len(got))
        else:
            want = unescape(self.expand_server(want.decode("latin-1")))
            got = conn.raw.read_exact(len(want))
        self.test.assertEqual(got, want, self.where(number))

    def run(self):
        flight = b""
        expected = []  # raw (escaped) expected text, joined per run of S/s
        last_number = 0
        steps = self.t.steps + [("END", "", 0)]
        pending_expect = ""
        for tag, value, number in steps:
            if tag in "Ss":
                if flight:
                    self.current.send(flight)
                    flight = b""
                pending_expect += value + ("\\r\\n" if tag == "S" else "")
                last_number = number
                continue
            if pending_expect:
                self.expect(pending_expect.encode("latin-1"), last_number)
                pending_expect = ""
            if tag in "Cc":
                text = self.expand_client(value)
                flight += unescape(text) + (b"\r\n" if tag == "C" else b"")
            elif tag == "X":
                if flight:
                    self.current.send(flight)
                    flight = b""
                if value.strip() == "closed":
                    rest = self.current.raw.read_until_close()
                    self.test.assertEqual(rest, b"", self.where(number))
                    self.current.raw.close()
            elif tag == "T":
                if flight:
                    self.current.send(flight)
                    flight = b""
                verb, _, name = value.partition(" ")
                if verb == "connect":
                    self.current = Connection(self.port, self.bytewise)
                    self.connections[name] = self.current
                elif verb == "use":
                    self.current = self.connections[name]
                else:
                    raise ValueError("%s: bad T: %r" % (self.where(number),
                                                        value))
            elif tag == "END":
                if flight:
                    self.current.send(flight)
        for conn in self.connections.values():
            conn.raw.close()


class TranscriptTest(unittest.TestCase):
    def replay(self, path, fmt):
        """Both modes against one popper; the maildrop is made anew for
        each."""
        t = Transcript(path)
        inst = sup.Instance(fmt, plaintext=True, delay=0,
                            conf=dict(t.conf, pop3_address_max_failures="0"),
                            hostname=t.conf.get("hostname",
                                                "testhost.example"))
        self.addCleanup(inst.cleanup)
        for name, secret in t.users:
            inst.add_user(name, secret)
        owner, owner_secret = t.users[0]
        popper = inst.popper()
        self.addCleanup(popper.stop)
        popper.start()
        for bytewise in (False, True):
            with self.subTest(bytewise=bytewise):
                sup.wait_unlocked(popper.port, owner, owner_secret)
                inst.put_messages(owner, t.messages)
                Replay(self, t, inst, popper.port, bytewise).run()
                if t.kept is not None:
                    # The last QUIT's UPDATE was answered before the close.
                    want = [sup.crlf(t.messages[i - 1]) for i in t.kept]
                    self.assertEqual(inst.stored_messages(owner), want,
                                     "%s (%s): maildrop after the session"
                                     % (path, fmt))
        popper.stop()
        self.assertEqual(popper.returncode, 0, popper.stderr_text())


def _transcripts():
    return sorted(glob.glob(sup.testdata("*.txt")))


def _add_tests():
    for path in _transcripts():
        stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
        for fmt in ("mbox", "maildir"):
            def test(self, path=path, fmt=fmt):
                if fmt not in Transcript(path).formats:
                    self.skipTest("transcript not for %s" % fmt)
                self.replay(path, fmt)
            setattr(TranscriptTest, "test_%s_%s" % (stem, fmt), test)


_add_tests()


class FixturesPresentTest(unittest.TestCase):
    def test_fixtures_found(self):
        names = {os.path.basename(p) for p in _transcripts()}
        for want in ("guide_session.txt", "rfc1939_session.txt",
                     "rfc1939_commands.txt", "rfc1460_last.txt"):
            self.assertIn(want, names)


if __name__ == "__main__":
    sup.main()
