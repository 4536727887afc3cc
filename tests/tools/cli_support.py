"""tests/tools/cli_support.py — what the command-line tests share.

The tests drive the real binaries, whose paths meson passes as
--<program> PATH. This module holds the pieces the test files had each
written for themselves:
  clean_env()    the environment without POSTHORN_CONF (a test names its
                 config with -C, never the caller's)
  wait_for()     a poll with a time limit
  InstanceTest   a TestCase with a temporary folder (self.dir) for one
                 instance, and self.procs: processes a test started, killed
                 and their pipes closed when it ends
  main()         --<program> PATH into module variables, then unittest
"""

import argparse
import os
import sys
import tempfile
import time
import unittest


def clean_env():
    env = dict(os.environ)
    env.pop('POSTHORN_CONF', None)
    return env


def wait_for(predicate, seconds=15.0):
    """True once predicate() is; polls every 50 ms for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class InstanceTest(unittest.TestCase):
    """One instance per test in a temporary folder, removed afterwards."""

    PREFIX = 'cli_test.'

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix=self.PREFIX)
        self.dir = self.tmp.name
        self.procs = []

    def tearDown(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        self.tmp.cleanup()

    def write_file(self, name, text):
        """Writes self.dir/name; returns its path."""
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path


def main(module, **programs):
    """Sets module.VAR to the absolute path given as --program for each
    VAR='program', then runs the module's tests (other arguments go to
    unittest)."""
    parser = argparse.ArgumentParser()
    for program in programs.values():
        parser.add_argument('--' + program, required=True)
    args, rest = parser.parse_known_args()
    for variable, program in programs.items():
        setattr(module, variable, os.path.abspath(getattr(args, program)))
    unittest.main(module=module, argv=[sys.argv[0]] + rest, verbosity=2)
