#!/usr/bin/env python3
"""tests/bench/report_test.py — bench/report on fixed result files.

Runs bench/report --no-charts (no gnuplot needed) on the fixtures in
tests/data/bench-results/ (copied into a temporary folder, so cases can
remove or spoil a file) and checks:
  - the result tables hold the fixture's figures and the ratios computed
    from them, and the summary table the headline ratios with the verdict
    against the target;
  - a benchmark whose file is missing gets the "how to produce" text and
    no table;
  - a malformed file (wrong field count, a figure that is not a number, a
    file without the format line) makes bench/report fail with a message
    naming the file and the line, and leaves no page behind.

SYNOPSIS
    report_test.py --report PATH/bench/report --fixtures DIR
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None
REPORT_TIMEOUT = 60  # seconds


def ratio(a, b):
    return f"{a / b:.2f}×"


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="posthorn-report-test-")
        self.results = os.path.join(self.tmp, "results")
        shutil.copytree(ARGS.fixtures, self.results)
        self.out = os.path.join(self.tmp, "performance.md")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_report(self):
        env = dict(os.environ)
        env.pop("POSTHORN_BENCH_RESULTS", None)
        return subprocess.run(
            [sys.executable, ARGS.report, "--no-charts", "--results",
             self.results, "--out", self.out],
            capture_output=True, text=True, timeout=REPORT_TIMEOUT, env=env)

    def page(self):
        proc = self.run_report()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(self.out, encoding="utf-8") as f:
            return f.read()

    def assertHas(self, needle, hay):
        # A short message: the page is long.
        if needle not in hay:
            self.fail(f"{needle!r} not found (in {len(hay)} characters "
                      f"starting {hay[:80]!r})")

    def section(self, text, title):
        start = text.index(f"## {title}")
        end = text.find("\n## ", start + 1)
        return text[start:end if end >= 0 else len(text)]

    def spoil(self, name, line_no, new_line):
        path = os.path.join(self.results, name)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        lines[line_no - 1] = new_line
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))

    # --- figures and ratios ---------------------------------------------------
    def test_parser_table_has_figures_and_ratios(self):
        text = self.section(self.page(), "Message parsing")
        text = text[text.index("### Results"):]
        # headers: posthorn 661.89, GMime 79.45, mimetic 272.15, memchr
        # 4007.58 MB/s in the fixture.
        row = next(l for l in text.split("\n") if l.startswith("| headers"))
        for cell in ("662", "79.5", "272", "4,008", ratio(661.89, 79.45),
                     ratio(661.89, 272.15), ratio(4007.58, 661.89),
                     "NOT MET"):
            self.assertHas(cell, row)
        row = next(l for l in text.split("\n") if l.startswith("| decode"))
        self.assertHas(ratio(1210.41, 450.87), row)
        self.assertHas("| MET |", row)

    def test_smtp_table_has_every_cell(self):
        text = self.section(self.page(), "SMTP load")
        self.assertHas("| keep | 4 | 10 | 2,756 | 1,868 | msg/s | "
                      f"{ratio(2756, 1868)} |", text)
        self.assertHas("| close | 100 | 50 | 727 | 392 | msg/s | "
                      f"{ratio(727, 392)} |", text)
        # A size (lower is better): the ratio is peer over posthorn.
        self.assertHas(f"| 10,125 | 133,140 | bytes/conn | "
                      f"{ratio(133140, 10125)} |", text)
        self.assertHas("load average 8.48 5.30 3.12 before", text)

    def test_times_are_inverted_so_above_one_is_faster(self):
        text = self.section(self.page(), "Store")
        # mbox deliver: posthorn 16.147 ms, raw 4.948 ms: posthorn slower.
        self.assertHas(f"| 16.1 | 4.95 | ms | {ratio(4.948, 16.147)} |", text)
        self.assertHas(f"| 634 | 130 | msg/s | {ratio(633.7, 130.4)} |", text)

    def test_pop3_targets_are_checked(self):
        text = self.section(self.page(), "POP3")
        # An absolute target on posthorn's own time: 2,007 ms is not < 1000.
        self.assertHas("| login+STAT 1 GiB, no index | 2,007 | 12,985 | ms | "
                       f"{ratio(12984.871, 2007.152)} | < 1000 ms | **no** |",
                       text)
        # A target on the ratio of times: 925 ms against 853 is not <= 1x.
        self.assertHas(f"| 925 | 853 | ms | {ratio(853.187, 925.390)} | "
                       "<= 1x | **no** |", text)
        self.assertHas(f"| 1,400 | 239 | /s | {ratio(1399.9, 239.1)} | "
                       ">= 1000/s | yes |", text)
        # A row with no posthorn figure keeps the peer's.
        self.assertHas("| Dovecot default login settings | — | 10.2 | /s | "
                       "— |", text)

    def test_postgresql_section_compares_with_the_local_store(self):
        text = self.section(self.page(), "PostgreSQL store")
        # Two nodes 1,138.5 msg/s against one node 1,394.6: below the
        # 1.6x target.
        self.assertHas("| accepted/s 4 KiB, 10 sessions per node: two nodes "
                       "vs one node (PostgreSQL) | 1,139 | 1,395 | msg/s | "
                       f"{ratio(1138.520, 1394.570)} | >= 1.6x | **no** |",
                       text)
        self.assertHas("| accepted/s 4 KiB, 10 sessions: PostgreSQL one node "
                       "vs local file store | 1,395 | 681 | msg/s | "
                       f"{ratio(1394.570, 681.477)} | >= 0.5x | yes |", text)
        # CPU per message: lower is better, so the ratio is inverted.
        self.assertHas(f"| 3.62 | 3.14 | CPU-ms | {ratio(3.140, 3.617)} |",
                       text)
        self.assertHas("### Method", text)
        summary = self.section(self.page(), "Where posthorn stands")
        line = next(l for l in summary.split("\n")
                    if "two nodes vs one, accepted/s" in l)
        self.assertHas(f"**{ratio(1138.520, 1394.570)}**", line)
        self.assertTrue(line.rstrip().endswith("| **no** |"), line)
        machine = self.section(self.page(), "The machine")
        self.assertHas("| PostgreSQL | 15.18 |", machine)

    def test_summary_has_headline_ratios_and_verdicts(self):
        text = self.section(self.page(), "Where posthorn stands")
        line = next(l for l in text.split("\n")
                    if "headers vs GMime" in l)
        self.assertHas(f"**{ratio(661.89, 79.45)}**", line)
        self.assertHas("**no**", line)  # 8.33 < the 10x target
        line = next(l for l in text.split("\n")
                    if "queue enqueue 4 KiB, 10 threads" in l)
        self.assertHas(f"**{ratio(633.7, 130.4)}**", line)
        self.assertTrue(line.rstrip().endswith("| yes |"), line)
        self.assertHas("Targets not met: Message parsing, headers vs GMime;",
                       text)
        line = next(l for l in text.split("\n")
                    if "delivered/s, 4 KiB, 10 sessions" in l)
        self.assertHas(f"**{ratio(83.9, 119.3)}**", line)

    def test_machine_and_load_averages(self):
        text = self.section(self.page(), "The machine")
        self.assertHas("| CPU |", text)
        self.assertHas("| kernel |", text)
        self.assertHas("| Postfix | 3.7.11 |", text)  # from the result meta
        self.assertHas("| GMime | 3.2.13 |", text)
        self.assertHas("| `bench/mta_load.sh --quick` | 2026-11-26 12:29 UTC "
                      "| 9.60 6.88 3.95 | 7.88 6.87 4.12 | 55 s |", text)

    def test_method_prose_is_kept(self):
        text = self.page()
        self.assertHas("**The memchr baseline.**", text)
        self.assertHas("### Method", self.section(text, "MTA"))
        self.assertHas("Where the time goes", text)

    # --- missing and malformed files -----------------------------------------
    def test_missing_file_says_how_to_produce_it(self):
        os.remove(os.path.join(self.results, "smtp_load.tsv"))
        text = self.page()
        smtp = self.section(text, "SMTP load")
        self.assertHas("No results yet: `smtp_load.tsv`", smtp)
        self.assertHas("bench/smtp_load.sh\nbench/report", smtp)
        self.assertNotIn("msg/s", smtp)
        self.assertHas("*not run:* `bench/smtp_load.sh`", text)
        # The others are still there.
        self.assertHas("| headers |", text)
        self.assertHas("| 634 | 130 |", text)

    def test_wrong_field_count_names_file_and_line(self):
        self.spoil("smtp_load.tsv", 14, "throughput\tkeep\t4\t10\t2756")
        proc = self.run_report()
        self.assertEqual(proc.returncode, 1)
        self.assertHas("smtp_load.tsv:14:", proc.stderr)
        self.assertHas("5 fields, 8 expected", proc.stderr)
        self.assertFalse(os.path.exists(self.out))

    def test_figure_not_a_number_names_file_and_line(self):
        self.spoil("mta_load.tsv", 12,
                   "accepted\t4\t1\t300\tfast\t129.7\tmsg/s\thigh")
        proc = self.run_report()
        self.assertEqual(proc.returncode, 1)
        self.assertHas("mta_load.tsv:12:", proc.stderr)
        self.assertHas("'fast' is not a number", proc.stderr)

    def test_not_a_result_file(self):
        self.spoil("store.tsv", 1, "measure\tposthorn")
        proc = self.run_report()
        self.assertEqual(proc.returncode, 1)
        self.assertHas("store.tsv:1:", proc.stderr)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", required=True)
    ap.add_argument("--fixtures", required=True)
    ARGS, rest = ap.parse_known_args()
    for path in (ARGS.report, os.path.join(ARGS.fixtures, "parsers.tsv")):
        if not os.path.exists(path):
            print(f"report_test.py: {path} is missing", file=sys.stderr)
            return 1
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
