#!/usr/bin/env python3
"""tests/store/postgresql/pg_popauth_test.py — popauth and popper with
`store = postgresql`, against a private cluster (scripts/lib/pg_cluster.sh,
started in a temporary folder on a free loopback port, removed at the end).

popauth -C conf -init / -user / -password-only / -list / -delete / -init
-force work on the database's users (sysexits as with the file), and popper
logs users in from them (USER/PASS over stdio); a missing postgresql_dsn is
a configuration error naming the line.

Usage: pg_popauth_test.py --popauth PATH --popper PATH --pg-cluster PATH
Set POSTHORN_PG_SKIP=1 to skip when PostgreSQL is not installed.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

POPAUTH = POPPER = PG_CLUSTER = None

EX_NOUSER, EX_CANTCREAT, EX_CONFIG = 67, 73, 78


class PgPopauthTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='pg_popauth.')
        # As root the server runs as postgres, which must reach its folder.
        os.chmod(cls.tmp, 0o711)
        cls.cluster = os.path.join(cls.tmp, 'pg')
        started = subprocess.run([PG_CLUSTER, 'start', cls.cluster, '0'],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, timeout=180)
        if started.returncode != 0:
            cls.tearDownClass()
            reason = started.stderr.decode(errors='replace')
            if os.environ.get('POSTHORN_PG_SKIP') == '1':
                raise unittest.SkipTest('no PostgreSQL: ' + reason)
            raise RuntimeError('cannot start PostgreSQL: ' + reason)
        cls.count = 0

    @classmethod
    def tearDownClass(cls):
        subprocess.run([PG_CLUSTER, 'remove', cls.cluster], timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        # A fresh database and instance folder per test.
        type(self).count += 1
        name = 'popauth_%d' % self.count
        made = subprocess.run([PG_CLUSTER, 'createdb', self.cluster, name],
                              stdout=subprocess.PIPE, timeout=60, check=True)
        self.dsn = made.stdout.decode().strip().splitlines()[-1]
        self.dir = os.path.join(self.tmp, name)
        os.mkdir(self.dir)
        self.conf = self.write_conf(
            'store = postgresql\n'
            'postgresql_dsn = %s\n'
            'hostname = pop.test\n'
            'plaintext_auth = yes\n'
            'pop3_failed_login_delay = 0\n'
            'run_as =\n' % self.dsn)

    def write_conf(self, text):
        path = os.path.join(self.dir, 'posthorn.conf')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def popauth(self, *args, stdin=''):
        env = dict(os.environ)
        env.pop('POSTHORN_CONF', None)
        return subprocess.run([POPAUTH, '-C', self.conf] + list(args),
                              input=stdin.encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60, env=env)

    def login(self, user, password):
        """True when popper (stdio) accepts USER/PASS."""
        session = 'USER %s\r\nPASS %s\r\nQUIT\r\n' % (user, password)
        result = subprocess.run([POPPER, '-C', self.conf],
                                input=session.encode(),
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=60)
        lines = result.stdout.decode(errors='replace').splitlines()
        self.assertGreaterEqual(len(lines), 3, result.stderr.decode())
        return lines[2].startswith('+OK')

    def test_users_live_in_the_database(self):
        self.assertEqual(self.popauth('-init').returncode, 0)
        self.assertEqual(self.popauth('-user', 'alice',
                                      stdin='s3cret\n').returncode, 0)
        self.assertEqual(self.popauth('-user', 'bob', '-password-only',
                                      stdin='hunter2\n').returncode, 0)
        listed = self.popauth('-list')
        self.assertEqual(listed.returncode, 0)
        self.assertEqual(listed.stdout.decode(),
                         'alice apop+pass\nbob pass-only\n')
        # Nothing was written beside the config (no LMDB file).
        self.assertEqual(os.listdir(self.dir), ['posthorn.conf'])

        self.assertTrue(self.login('alice', 's3cret'))
        self.assertTrue(self.login('bob', 'hunter2'))
        self.assertFalse(self.login('alice', 'wrong'))
        self.assertFalse(self.login('nobody', 's3cret'))

        again = self.popauth('-init')
        self.assertEqual(again.returncode, EX_CANTCREAT)
        self.assertIn('-init -force', again.stderr.decode())
        unknown = self.popauth('-delete', 'carol')
        self.assertEqual(unknown.returncode, EX_NOUSER)
        self.assertIn('no user "carol"', unknown.stderr.decode())
        self.assertEqual(self.popauth('-delete', 'bob').returncode, 0)
        self.assertFalse(self.login('bob', 'hunter2'))
        self.assertEqual(self.popauth('-list').stdout.decode(),
                         'alice apop+pass\n')

        self.assertEqual(self.popauth('-init', '-force').returncode, 0)
        self.assertEqual(self.popauth('-list').stdout.decode(), '')
        self.assertFalse(self.login('alice', 's3cret'))

    def test_user_without_init(self):
        # The tables are made by whichever program comes first.
        self.assertEqual(self.popauth('-user', 'alice',
                                      stdin='s3cret\n').returncode, 0)
        self.assertTrue(self.login('alice', 's3cret'))

    def test_missing_dsn_is_a_config_error(self):
        self.write_conf('hostname = pop.test\nstore = postgresql\n')
        result = self.popauth('-list')
        self.assertEqual(result.returncode, EX_CONFIG)
        self.assertIn('posthorn.conf:2: store = postgresql needs '
                      'postgresql_dsn', result.stderr.decode())


def main():
    global POPAUTH, POPPER, PG_CLUSTER
    parser = argparse.ArgumentParser()
    parser.add_argument('--popauth', required=True)
    parser.add_argument('--popper', required=True)
    parser.add_argument('--pg-cluster', required=True)
    args, rest = parser.parse_known_args()
    POPAUTH = os.path.abspath(args.popauth)
    POPPER = os.path.abspath(args.popper)
    PG_CLUSTER = os.path.abspath(args.pg_cluster)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == '__main__':
    main()
