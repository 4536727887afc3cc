#!/usr/bin/env python3
"""Runs the real examples/inspect_message binary and checks its JSON.

The cross-check is Python's own email package: for every fixture, the list
of MIME leaves, their content types, charsets, filenames, decoded sizes and
SHA-256 digests must agree with what email.message_from_bytes() and
get_payload(decode=True) give, and so must the decoded subject, the date and
the addresses. Exit codes are checked against the documented sysexits.

Usage: inspect_message_test.py /path/to/inspect_message [unittest args]
   or: INSPECT_MESSAGE=/path/to/inspect_message inspect_message_test.py
Fixtures: POSTHORN_TESTDATA (default: tests/data next to this file).
"""

import email
import email.policy
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

BINARY = os.environ.get("INSPECT_MESSAGE", "")
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("POSTHORN_TESTDATA", os.path.join(HERE, "..", "data"))

KEYS = ["headers", "subject", "date", "message_id", "from", "to", "cc",
        "reply_to", "parts", "defects"]
PART_KEYS = ["path", "content_type", "charset", "filename", "encoding",
             "decoded_size", "sha256"]

# Where posthorn deliberately differs from Python's email package:
# - quoted-printable decodes to CRLF line ends (quoted_printable.h), Python
#   keeps the line ends of the input: compared after normalising to CRLF;
# - the last part of a multipart that is never closed keeps its final line
#   end (no delimiter follows to claim it), Python drops it.
SKIP_PAYLOAD_CHECK = {"never_closed.eml"}


def fixtures():
    out = []
    for sub in ("mime", "seed"):
        folder = os.path.join(DATA, sub)
        for name in sorted(os.listdir(folder)):
            if name.endswith(".eml"):
                out.append(os.path.join(folder, name))
    return out


def run(args, stdin=None):
    return subprocess.run([BINARY] + args, input=stdin, capture_output=True,
                          timeout=60)


def inspect(path):
    result = run([path])
    if result.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (
            path, result.returncode, result.stderr.decode(errors="replace")))
    text = result.stdout.decode("utf-8")  # strict: must be valid UTF-8
    return json.loads(text)


def python_leaves(msg):
    leaves = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get("Content-Transfer-Encoding", "").strip().lower() == \
                "quoted-printable":
            payload = payload.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        leaves.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "filename": part.get_filename(),
            "decoded_size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        })
    return leaves


class ShapeTest(unittest.TestCase):
    def test_every_fixture_gives_the_documented_document(self):
        for path in fixtures():
            with self.subTest(path=path):
                doc = inspect(path)
                self.assertEqual(list(doc.keys()), KEYS)
                self.assertTrue(doc["parts"])
                for part in doc["parts"]:
                    self.assertEqual(list(part.keys()), PART_KEYS)
                    self.assertRegex(part["sha256"], r"^[0-9a-f]{64}$")
                    self.assertRegex(part["path"], r"^[1-9][0-9]*(\.[1-9][0-9]*)*$")
                for header in doc["headers"]:
                    self.assertEqual(list(header.keys()),
                                     ["name", "value", "decoded"])
                for defect in doc["defects"]:
                    self.assertEqual(list(defect.keys()), ["kind", "offset"])
                    self.assertLessEqual(defect["offset"],
                                         os.path.getsize(path))

    def test_single_part_message_has_path_1(self):
        doc = inspect(os.path.join(DATA, "seed", "hola_root.eml"))
        self.assertEqual([p["path"] for p in doc["parts"]], ["1"])
        self.assertEqual(doc["subject"], "Hola root")
        self.assertEqual(doc["from"], [{"name": "",
                                        "address": "mbone@norba.indexado.com"}])

    def test_paths_of_nested_and_encapsulated_parts(self):
        doc = inspect(os.path.join(DATA, "mime", "rfc822_inside.eml"))
        self.assertEqual([p["path"] for p in doc["parts"]],
                         ["1", "2.1", "2.2", "3.1"])
        doc = inspect(os.path.join(DATA, "mime", "nested.eml"))
        self.assertEqual([p["path"] for p in doc["parts"]],
                         ["1.1", "1.2", "2"])

    def test_defects_are_reported(self):
        path = os.path.join(DATA, "mime", "never_closed.eml")
        doc = inspect(path)
        self.assertIn({"kind": "boundary_never_closed",
                       "offset": os.path.getsize(path)}, doc["defects"])
        doc = inspect(os.path.join(DATA, "mime", "closes_outer.eml"))
        self.assertIn("boundary_closes_outer",
                      [d["kind"] for d in doc["defects"]])
        doc = inspect(os.path.join(DATA, "mime", "missing_boundary.eml"))
        self.assertIn("missing_boundary", [d["kind"] for d in doc["defects"]])

    def test_stdin_gives_the_same_document(self):
        path = os.path.join(DATA, "mime", "mixed_attachments.eml")
        with open(path, "rb") as f:
            data = f.read()
        from_stdin = run([], stdin=data)
        self.assertEqual(from_stdin.returncode, 0)
        self.assertEqual(json.loads(from_stdin.stdout), inspect(path))
        dash = run(["-"], stdin=data)
        self.assertEqual(dash.stdout, from_stdin.stdout)


class PythonEmailCrossCheck(unittest.TestCase):
    def test_leaves_agree_with_python_email(self):
        for path in fixtures():
            if os.path.basename(path) in SKIP_PAYLOAD_CHECK:
                continue
            with self.subTest(path=path):
                with open(path, "rb") as f:
                    msg = email.message_from_bytes(f.read(),
                                                   policy=email.policy.default)
                ours = [{k: p[k] for k in ("content_type", "charset",
                                           "filename", "decoded_size",
                                           "sha256")}
                        for p in inspect(path)["parts"]]
                self.assertEqual(ours, python_leaves(msg))

    def test_never_closed_differs_only_by_the_final_line_end(self):
        path = os.path.join(DATA, "mime", "never_closed.eml")
        with open(path, "rb") as f:
            msg = email.message_from_bytes(f.read())
        theirs = [p.get_payload(decode=True) for p in msg.walk()
                  if not p.is_multipart()]
        ours = inspect(path)["parts"]
        self.assertEqual(len(ours), len(theirs))
        last = theirs[-1] + b"\r\n"
        self.assertEqual(ours[-1]["decoded_size"], len(last))
        self.assertEqual(ours[-1]["sha256"], hashlib.sha256(last).hexdigest())

    def test_headers_agree_with_python_email(self):
        for path in fixtures():
            with self.subTest(path=path):
                with open(path, "rb") as f:
                    msg = email.message_from_bytes(f.read(),
                                                   policy=email.policy.default)
                doc = inspect(path)
                self.assertEqual([h["name"] for h in doc["headers"]],
                                 list(msg.keys()))
                if msg["subject"] is not None:
                    self.assertEqual(doc["subject"], str(msg["subject"]))
                else:
                    self.assertIsNone(doc["subject"])
                if msg["date"] is not None and msg["date"].datetime:
                    self.assertEqual(doc["date"],
                                     int(msg["date"].datetime.timestamp()))
                if msg["message-id"] is not None:
                    self.assertEqual(doc["message_id"],
                                     str(msg["message-id"]).strip())
                for key, field in (("from", "from"), ("to", "to"),
                                   ("cc", "cc"), ("reply_to", "reply-to")):
                    expect = []
                    for header in msg.get_all(field) or []:
                        for a in header.addresses:
                            expect.append({"name": a.display_name,
                                           "address": a.addr_spec})
                    self.assertEqual(doc[key], expect, key)


class ExitCodeTest(unittest.TestCase):
    def test_help(self):
        result = run(["--help"])
        self.assertEqual(result.returncode, 0)
        self.assertIn(b"usage", result.stdout)

    def test_bad_arguments_are_64(self):
        for args in (["--frobnicate"], ["a.eml", "b.eml"]):
            with self.subTest(args=args):
                result = run(args)
                self.assertEqual(result.returncode, 64)
                self.assertEqual(result.stdout, b"")
                self.assertEqual(result.stderr.count(b"\n"), 1)

    def test_missing_file_is_66(self):
        result = run(["/nonexistent/posthorn.eml"])
        self.assertEqual(result.returncode, 66)
        self.assertIn(b"/nonexistent/posthorn.eml", result.stderr)
        self.assertEqual(result.stderr.count(b"\n"), 1)
        self.assertEqual(run([DATA]).returncode, 66)  # a directory

    def test_not_a_message_is_65(self):
        cases = {
            "empty": b"",
            "no header field": b"just some text\r\nand more\r\n",
            "header line over the limit":
                b"Subject: " + b"x" * (1 << 20) + b"\r\n\r\nbody\r\n",
            "too many fields": b"X-A: b\r\n" * 100_000 + b"\r\nbody\r\n",
        }
        for name, data in cases.items():
            with self.subTest(case=name):
                with tempfile.NamedTemporaryFile(suffix=".eml") as f:
                    f.write(data)
                    f.flush()
                    result = run([f.name])
                    self.assertEqual(result.returncode, 65)
                    self.assertIn(f.name.encode(), result.stderr)
                    self.assertEqual(result.stdout, b"")
                result = run([], stdin=data)
                self.assertEqual(result.returncode, 65)


class EscapingTest(unittest.TestCase):
    def test_control_bytes_and_invalid_utf8_are_escaped(self):
        data = (b"Subject: a\x01b\x7f \xff\xfe \"q\" \\ \xc3\xa9\r\n"
                b"X-Tab: x\ty\r\n\r\nbody\x00\r\n")
        result = run([], stdin=data)
        self.assertEqual(result.returncode, 0)
        text = result.stdout.decode("utf-8")  # strict
        self.assertNotIn("\x01", text)
        self.assertIn("\\u0001", text)
        doc = json.loads(text)
        value = doc["headers"][0]["value"]
        self.assertIn("a\x01b", value)
        self.assertIn('"q" \\', value)
        self.assertIn("\ufffd", value)
        self.assertEqual(doc["parts"][0]["decoded_size"], 7)
        self.assertEqual(doc["parts"][0]["sha256"],
                         hashlib.sha256(b"body\x00\r\n").hexdigest())


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        BINARY = sys.argv.pop(1)
    if not BINARY:
        sys.exit("usage: inspect_message_test.py /path/to/inspect_message")
    unittest.main()
