#!/usr/bin/env python3
"""Counts the results in meson's test logs (meson-logs/testlog.json) of the
given build folders and prints one line "N passed, N failed".

A test executable that meson ran with the gtest protocol counts once; the
line is what CI reads to tell a run that tested nothing from a real one.
Exit status 1 when any test failed or no test ran at all.
"""
import json
import os
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
SKIPPED = {"SKIP"}


def main(folders):
    passed = failed = skipped = 0
    for folder in folders:
        log = os.path.join(folder, "meson-logs", "testlog.json")
        if not os.path.exists(log):
            continue
        with open(log, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                result = json.loads(line).get("result", "ERROR")
                if result in PASSED:
                    passed += 1
                elif result in SKIPPED:
                    skipped += 1
                else:
                    failed += 1
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
