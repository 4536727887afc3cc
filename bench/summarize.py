#!/usr/bin/env python3
"""Turns Google Benchmark JSON output of bench/ into the comparison table.

SYNOPSIS
    summarize.py RESULT.json... [--markdown FILE]

DESCRIPTION
    Reads the --benchmark_out=... JSON files of bench_posthorn, bench_gmime
    and bench_mimetic (benchmark names "<workload>/<side>"), takes the median
    of the repetitions (or the single run), and prints for each workload
    (headers, structure, decode) the MB/s (10^6 bytes per second) of posthorn,
    GMime and mimetic with the ratios posthorn/GMime, posthorn/mimetic and
    memchr/posthorn, then checks the performance targets:

        headers    >= 10x GMime and >= 2x mimetic
        structure  >= mimetic and memchr/posthorn <= 3
        decode     >= 2x mimetic

    and prints each as MET, NOT MET or n/a (a side missing). With --markdown
    it also writes the same as a markdown section; with --tsv it writes the
    figures in the result-file format of bench/report_results.py (read by
    bench/report), with the load averages given by --load-before/--after.
    Exit status 0 whatever the targets say: this is a report, not a test.

    Only the Python standard library is used.
"""

import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_results  # noqa: E402  (the shared result-file format)

WORKLOADS = ("headers", "structure", "decode")
SIDES = ("posthorn", "gmime", "mimetic")
# The memchr baseline each workload is compared with.
BASELINE = {"headers": "memchr/headers", "structure": "memchr/all",
            "decode": "memchr/all"}


def load(paths):
    """Returns ({run_name: bytes_per_second}, context of the first file)."""
    medians, singles, context = {}, {}, None
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if context is None:
            context = data.get("context", {})
        for b in data.get("benchmarks", []):
            rate = b.get("bytes_per_second")
            if rate is None or b.get("error_occurred"):
                continue
            name = b.get("run_name", b["name"])
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    medians[name] = rate
            else:
                singles.setdefault(name, []).append(rate)
    rates = {}
    for name, values in singles.items():
        values.sort()
        rates[name] = values[len(values) // 2]
    rates.update(medians)
    return rates, context or {}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def verdict(*checks):
    """MET when every check holds, n/a when one cannot be computed."""
    if any(c is None for c in checks):
        return "n/a"
    return "MET" if all(checks) else "NOT MET"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def build_rows(rates):
    rows = []
    for w in WORKLOADS:
        mbs = {s: (rates[f"{w}/{s}"] / 1e6 if f"{w}/{s}" in rates else None)
               for s in SIDES}
        base = rates.get(BASELINE[w])
        base = base / 1e6 if base is not None else None
        p = mbs["posthorn"]
        r_g = ratio(p, mbs["gmime"])
        r_m = ratio(p, mbs["mimetic"])
        r_base = ratio(base, p)
        if w == "headers":
            target = "≥10× GMime, ≥2× mimetic"
            ok = verdict(None if r_g is None else r_g >= 10,
                         None if r_m is None else r_m >= 2)
        elif w == "structure":
            target = "≥1× mimetic, memchr÷posthorn ≤3"
            ok = verdict(None if r_m is None else r_m >= 1,
                         None if r_base is None else r_base <= 3)
        else:
            target = "≥2× mimetic"
            ok = verdict(None if r_m is None else r_m >= 2)
        rows.append({"workload": w, "posthorn": p, "gmime": mbs["gmime"],
                     "mimetic": mbs["mimetic"], "memchr": base,
                     "p_g": r_g, "p_m": r_m, "base_p": r_base,
                     "target": target, "verdict": ok})
    return rows


def fmt(value, digits=1, suffix=""):
    return "—" if value is None else f"{value:,.{digits}f}{suffix}"


HEADER = ("workload", "posthorn MB/s", "GMime MB/s", "mimetic MB/s",
          "memchr MB/s", "posthorn÷GMime", "posthorn÷mimetic",
          "memchr÷posthorn", "target", "verdict")


def cells(row):
    return (row["workload"], fmt(row["posthorn"]), fmt(row["gmime"]),
            fmt(row["mimetic"]), fmt(row["memchr"]),
            fmt(row["p_g"], 2, "×"), fmt(row["p_m"], 2, "×"),
            fmt(row["base_p"], 2, "×"), row["target"], row["verdict"])


def text_table(rows):
    # The target text is printed below the table, to keep it narrow.
    keep = [i for i in range(len(HEADER)) if HEADER[i] != "target"]
    table = [[HEADER[i] for i in keep]]
    table += [[cells(r)[i] for i in keep] for r in rows]
    widths = [max(len(str(line[i])) for line in table)
              for i in range(len(keep))]
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(str(c).rjust(widths[i]) if 0 < i < 8
                             else str(c).ljust(widths[i])
                             for i, c in enumerate(line)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(rows, context):
    lines = ["| " + " | ".join(HEADER) + " |",
             "|" + "---|" * len(HEADER)]
    for r in rows:
        lines.append("| " + " | ".join(cells(r)) + " |")
    lines.append("")
    lines.append(f"Machine: {cpu_model()}, {os.cpu_count()} CPUs "
                 f"({context.get('num_cpus', '?')} seen by the benchmark, "
                 f"{context.get('mhz_per_cpu', '?')} MHz); "
                 f"run {context.get('date', '?')}. "
                 "MB = 10^6 bytes; medians of the repetitions.")
    return "\n".join(lines) + "\n"


def write_tsv(args, rows, context):
    meta = {"benchmark_date": context.get("date", "?"),
            "mhz_per_cpu": context.get("mhz_per_cpu", "?")}
    for item in args.meta:
        key, _, value = item.partition("=")
        meta[key] = value
    columns = ("measure", "target", "posthorn", "gmime", "mimetic", "memchr",
               "unit", "better")
    cells = [(r["workload"], r["target"],
              *(None if r[s] is None else f"{r[s]:.2f}"
                for s in ("posthorn", "gmime", "mimetic", "memchr")),
              "MB/s", "high") for r in rows]
    report_results.write(args.tsv, "parsers", columns, cells,
                         args.load_before, report_results.load_average(), meta)
    print(f"(results written to {args.tsv})")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", help="benchmark JSON files")
    parser.add_argument("--markdown", help="also write a markdown section")
    parser.add_argument("--tsv", help="also write the result file for "
                        "bench/report")
    parser.add_argument("--load-before", default="?")
    parser.add_argument("--meta", action="append", default=[],
                        help="KEY=VALUE for the result file")
    args = parser.parse_args(argv)
    rates, context = load(args.results)
    if not rates:
        print("summarize.py: no benchmark results found", file=sys.stderr)
        return 1
    rows = build_rows(rates)
    print(text_table(rows))
    print()
    for r in rows:
        print(f"{r['workload']:<10} {r['target']:<34} {r['verdict']}")
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(markdown(rows, context))
    if args.tsv:
        write_tsv(args, rows, context)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
