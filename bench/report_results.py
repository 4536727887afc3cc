#!/usr/bin/env python3
"""bench/report_results.py — the one result-file format of bench/.

Every benchmark script (bench/run through summarize.py, store_bench.sh,
smtp_load.sh, pop3_load.sh, mta_load.sh) writes its figures into one
tab-separated file in the results folder, and bench/report reads them all
back. This module is both sides: write() and read(), plus a small command
line so that shell scripts can write a file from rows on stdin.

FORMAT
    # posthorn bench results 1
    # script: smtp_load
    # date: 2026-11-26 12:40 UTC
    # load_before: 2.02 0.88 1.26
    # load_after: 2.50 1.10 1.30
    # <any other key>: <value>          (versions, counts, modes...)
    mode  size_kib  sessions  posthorn  smtp-sink  unit   better
    keep  4         10        5120      4410       msg/s  high
    (the fields are separated by one TAB each)

    The columns before "posthorn" name the cell; the columns between
    "posthorn" and "unit" are the peers measured in the same run; "better"
    says whether a high or a low figure is better ("high"/"low"). A figure
    that is missing or failed is "-".

COMMAND LINE
    report_results.py dir
        prints the results folder: $POSTHORN_BENCH_RESULTS, else
        var/bench/results at the top of the tree.
    report_results.py write FILE --script NAME --load-before L --load-after L
                      [--meta KEY=VALUE]... < ROWS
        ROWS is the header line and the rows, tab-separated. The file is
        written whole or not at all (temporary file + rename).

Only the Python standard library is used.
"""

import argparse
import datetime
import os
import sys

MAGIC = "# posthorn bench results 1"
REQUIRED = ("posthorn", "unit", "better")


class ResultsError(Exception):
    """A result file that cannot be read; the message names file and line."""


def results_dir():
    env = os.environ.get("POSTHORN_BENCH_RESULTS")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, "var", "bench", "results")


def load_average():
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def write(path, script, columns, rows, load_before, load_after, meta=None):
    """Writes one result file atomically. rows: sequences of cells."""
    for name in REQUIRED:
        if name not in columns:
            raise ValueError(f"column {name!r} missing")
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [MAGIC, f"# script: {script}",
             f"# date: {now.strftime('%Y-%m-%d %H:%M UTC')}",
             f"# load_before: {load_before}", f"# load_after: {load_after}",
             f"# cpus: {os.cpu_count()}"]
    for key, value in (meta or {}).items():
        lines.append(f"# {key}: {value}")
    lines.append("\t".join(columns))
    for row in rows:
        cells = ["-" if c is None or c == "" else str(c) for c in row]
        if len(cells) != len(columns):
            raise ValueError(f"row {cells} has {len(cells)} cells, "
                             f"{len(columns)} expected")
        lines.append("\t".join(cells))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


class Results:
    """One result file read back: meta (dict), columns, rows (dicts)."""

    def __init__(self, path, meta, columns, rows):
        self.path = path
        self.meta = meta
        self.columns = columns
        self.rows = rows
        i = columns.index("posthorn")
        self.keys = columns[:i]
        self.peers = columns[i + 1:columns.index("unit")]


def number(text):
    """A figure as float, or None for "-"."""
    return None if text in ("-", "", "fail") else float(text)


def read(path):
    """Reads a result file; raises ResultsError naming the file and line."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsError(f"{path}: cannot read: {e}") from e
    if not lines or lines[0].strip() != MAGIC:
        raise ResultsError(f"{path}:1: not a posthorn bench result file "
                           f"(first line should be {MAGIC!r})")
    meta, columns, rows = {}, None, []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        if line.startswith("#"):
            if columns is not None:
                raise ResultsError(f"{path}:{n}: comment after the header")
            key, sep, value = line[1:].partition(":")
            if not sep:
                raise ResultsError(f"{path}:{n}: meta line without ':'")
            meta[key.strip()] = value.strip()
            continue
        cells = line.split("\t")
        if columns is None:
            missing = [c for c in REQUIRED if c not in cells]
            if missing:
                raise ResultsError(f"{path}:{n}: header lacks column(s) "
                                   f"{', '.join(missing)}")
            if cells.index("posthorn") > cells.index("unit"):
                raise ResultsError(f"{path}:{n}: 'unit' before 'posthorn'")
            columns = cells
            continue
        if len(cells) != len(columns):
            raise ResultsError(f"{path}:{n}: {len(cells)} fields, "
                               f"{len(columns)} expected")
        row = dict(zip(columns, cells))
        first = columns.index("posthorn")
        for name in columns[first:columns.index("unit")]:
            try:
                row[name] = number(row[name])
            except ValueError as e:
                raise ResultsError(f"{path}:{n}: column {name!r}: "
                                   f"{row[name]!r} is not a number") from e
        if row["better"] not in ("high", "low"):
            raise ResultsError(f"{path}:{n}: better is {row['better']!r}, "
                               "expected high or low")
        rows.append(row)
    if columns is None:
        raise ResultsError(f"{path}: no header line")
    return Results(path, meta, columns, rows)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("dir")
    w = sub.add_parser("write")
    w.add_argument("file")
    w.add_argument("--script", required=True)
    w.add_argument("--load-before", default="?")
    w.add_argument("--load-after", default=None)
    w.add_argument("--meta", action="append", default=[])
    args = ap.parse_args(argv)
    if args.cmd == "dir":
        print(results_dir())
        return 0
    lines = [l for l in sys.stdin.read().split("\n") if l.strip()]
    if not lines:
        print("report_results.py: no header on stdin", file=sys.stderr)
        return 1
    columns = lines[0].split("\t")
    rows = [l.split("\t") for l in lines[1:]]
    meta = {}
    for item in args.meta:
        key, _, value = item.partition("=")
        meta[key] = value
    write(args.file, args.script, columns, rows, args.load_before,
          args.load_after or load_average(), meta)
    print(f"(results written to {args.file})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
