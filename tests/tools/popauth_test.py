#!/usr/bin/env python3
"""tests/tools/popauth_test.py — popauth as an administrator runs it.

Drives the real binary (--popauth PATH): -init and its file mode, -init
without and with -force, -user with the secret on stdin, -password-only,
-list, -delete, and the sysexits code and message of every failure
(missing, unreadable or foreign database, unknown user, bad user name,
usage errors, config errors). Everything happens in a temporary folder.
"""

import os
import pty
import shutil
import select
import signal
import stat
import subprocess
import sys
import tempfile
import termios
import time
import unittest

import cli_support

POPAUTH = None

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_NOUSER = 64, 65, 66, 67
EX_CANTCREAT, EX_NOPERM, EX_CONFIG = 73, 77, 78


def run(args, stdin='', umask=None, env=None):
    def preexec():
        if umask is not None:
            os.umask(umask)
    full_env = dict(os.environ)
    full_env.pop('POSTHORN_CONF', None)
    if env:
        full_env.update(env)
    return subprocess.run([POPAUTH] + args, input=stdin.encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30, preexec_fn=preexec, env=full_env)


class PopauthTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # One real -init; most tests start from a copy of it, which saves
        # the fsyncs of a creation per test.
        cls.template_dir = tempfile.TemporaryDirectory(prefix='popauth_tpl.')
        cls.template = os.path.join(cls.template_dir.name, 'pop.auth')
        result = run(['-db', cls.template, '-init'])
        assert result.returncode == 0, result.stderr.decode()

    @classmethod
    def tearDownClass(cls):
        cls.template_dir.cleanup()

    def fresh_db(self):
        """An empty database at self.db, as -init makes it."""
        for suffix in ('', '-lock'):
            if os.path.exists(self.template + suffix):
                shutil.copy2(self.template + suffix, self.db + suffix)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix='popauth_test.')
        self.db = os.path.join(self.tmp.name, 'pop.auth')

    def tearDown(self):
        self.tmp.cleanup()

    def popauth(self, *args, stdin='', code=0, **kwargs):
        result = run(['-db', self.db] + list(args), stdin=stdin, **kwargs)
        self.assertEqual(result.returncode, code,
                         'popauth %s: %s' % (' '.join(args),
                                             result.stderr.decode()))
        return result

    def listing(self):
        return self.popauth('-list').stdout.decode()

    def test_init_creates_mode_0600_even_with_umask_0(self):
        self.popauth('-init', umask=0)
        mode = stat.S_IMODE(os.stat(self.db).st_mode)
        self.assertEqual(mode, 0o600)
        lock = self.db + '-lock'
        if os.path.exists(lock):
            self.assertEqual(stat.S_IMODE(os.stat(lock).st_mode), 0o600)
        self.assertEqual(self.listing(), '')

    def test_init_twice_needs_force(self):
        self.popauth('-init')
        self.popauth('-user', 'alice', stdin='secret\n')
        result = self.popauth('-init', code=EX_CANTCREAT)
        self.assertIn(self.db, result.stderr.decode())
        self.assertIn('-force', result.stderr.decode())
        self.assertEqual(self.listing(), 'alice apop+pass\n')
        self.popauth('-init', '-force')
        self.assertEqual(self.listing(), '')
        self.assertEqual(stat.S_IMODE(os.stat(self.db).st_mode), 0o600)

    def test_user_list_and_delete(self):
        self.fresh_db()
        self.popauth('-user', 'bob', stdin='bobs secret\r\n')
        self.popauth('-user', 'alice', stdin='tanstaaf\n')
        self.popauth('-user', 'carol', '-password-only', stdin='pw-only')
        self.assertEqual(self.listing(),
                         'alice apop+pass\nbob apop+pass\ncarol pass-only\n')
        # Setting a secret again replaces the password-only record.
        self.popauth('-user', 'carol', stdin='now apop\n')
        self.popauth('-delete', 'bob')
        self.assertEqual(self.listing(),
                         'alice apop+pass\ncarol apop+pass\n')
        self.assertEqual(stat.S_IMODE(os.stat(self.db).st_mode), 0o600)

    def test_only_one_line_of_stdin_is_the_secret(self):
        self.fresh_db()
        self.popauth('-user', 'dave', stdin='first\nsecond\n')
        self.assertEqual(self.listing(), 'dave apop+pass\n')

    def test_empty_secret_refused(self):
        self.fresh_db()
        for stdin in ('', '\r\n'):
            result = self.popauth('-user', 'erin', stdin=stdin,
                                  code=EX_DATAERR)
            self.assertIn('empty', result.stderr.decode())
        self.assertEqual(self.listing(), '')

    def test_overlong_secret_refused(self):
        self.fresh_db()
        self.popauth('-user', 'erin', stdin='x' * 5000 + '\n',
                     code=EX_DATAERR)
        self.assertEqual(self.listing(), '')

    def test_delete_unknown_user(self):
        self.fresh_db()
        result = self.popauth('-delete', 'nobody', code=EX_NOUSER)
        self.assertIn('nobody', result.stderr.decode())

    def test_missing_database(self):
        for args in (['-list'], ['-user', 'alice']):
            result = self.popauth(*args, stdin='pw\n', code=EX_NOINPUT)
            self.assertEqual(
                result.stderr.decode(),
                'popauth: %s: no such database; create it with popauth '
                '-init\n' % self.db)
        self.assertFalse(os.path.exists(self.db))

    def test_file_that_is_not_a_database(self):
        with open(self.db, 'w') as f:
            f.write('alice:secret\n' * 100)
        for args in (['-list'], ['-delete', 'alice']):
            result = self.popauth(*args, stdin='pw\n', code=EX_DATAERR)
            self.assertIn(self.db, result.stderr.decode())
        with open(self.db) as f:
            self.assertEqual(f.read(), 'alice:secret\n' * 100)

    @unittest.skipIf(os.geteuid() == 0, 'root reads every file')
    def test_unreadable_database(self):
        self.fresh_db()
        os.chmod(self.db, 0)
        try:
            for args in (['-list'], ['-user', 'alice']):
                result = self.popauth(*args, stdin='pw\n', code=EX_NOPERM)
                self.assertIn(self.db, result.stderr.decode())
        finally:
            os.chmod(self.db, 0o600)

    def test_bad_user_names(self):
        self.fresh_db()
        for name in ('../x', 'a/b', '', 'x' * 300):
            result = self.popauth('-user', name, stdin='pw\n',
                                  code=EX_DATAERR)
            self.assertIn('bad user name', result.stderr.decode())
        self.popauth('-delete', '../x', code=EX_DATAERR)
        self.assertEqual(self.listing(), '')
        self.assertEqual(sorted(os.listdir(self.tmp.name)),
                         ['pop.auth', 'pop.auth-lock'])

    def test_usage_errors(self):
        for args in ([], ['-bogus'], ['-user'], ['-init', '-list'],
                     ['-list', '-force'], ['-init', '-password-only'],
                     ['-list', 'extra']):
            result = run(args)
            self.assertEqual(result.returncode, EX_USAGE, args)
            self.assertIn('usage: popauth', result.stderr.decode(), args)
            self.assertEqual(result.stdout, b'', args)

    def test_database_path_from_config(self):
        conf = os.path.join(self.tmp.name, 'posthorn.conf')
        with open(conf, 'w') as f:
            f.write('# relative to this folder\nauth_db = from-conf.auth\n')
        result = run(['-C', conf, '-init'])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        self.assertTrue(
            os.path.exists(os.path.join(self.tmp.name, 'from-conf.auth')))
        # $POSTHORN_CONF is used without -C.
        result = run(['-user', 'zed'], stdin='pw\n',
                     env={'POSTHORN_CONF': conf})
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        result = run(['-C', conf, '-list'])
        self.assertEqual(result.stdout.decode(), 'zed apop+pass\n')
        # -db wins over the config.
        self.fresh_db()
        result = run(['-C', conf, '-db', self.db, '-list'])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        self.assertEqual(result.stdout.decode(), '')

    # --- a terminal: prompts, no echo, the terminal restored --------------

    def start_on_terminal(self, *args):
        master, slave = pty.openpty()
        env = dict(os.environ)
        env.pop('POSTHORN_CONF', None)
        proc = subprocess.Popen([POPAUTH, '-db', self.db] + list(args),
                                stdin=slave, stdout=slave, stderr=slave,
                                env=env, start_new_session=True)
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        return proc, master, slave

    def read_until(self, master, marker, seen, timeout=20):
        deadline = time.monotonic() + timeout
        while marker not in seen:
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, 'no %r in %r' % (marker, seen))
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                seen += os.read(master, 1024)
        return seen

    def assert_echo_on(self, slave):
        self.assertTrue(termios.tcgetattr(slave)[3] & termios.ECHO)

    def test_terminal_asks_twice_without_echo(self):
        self.fresh_db()
        proc, master, slave = self.start_on_terminal('-user', 'tina')
        seen = self.read_until(master, b'Password:', b'')
        self.assertFalse(termios.tcgetattr(slave)[3] & termios.ECHO)
        os.write(master, b'hidden-secret\n')
        seen = self.read_until(master, b'Again:', seen)
        os.write(master, b'hidden-secret\n')
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertNotIn(b'hidden-secret', seen)
        self.assert_echo_on(slave)
        self.assertEqual(self.listing(), 'tina apop+pass\n')

    def test_terminal_entries_that_differ(self):
        self.fresh_db()
        proc, master, slave = self.start_on_terminal('-user', 'tina')
        seen = self.read_until(master, b'Password:', b'')
        os.write(master, b'one\n')
        seen = self.read_until(master, b'Again:', seen)
        os.write(master, b'two\n')
        self.assertEqual(proc.wait(timeout=30), EX_DATAERR)
        self.read_until(master, b'differ', seen)
        self.assert_echo_on(slave)
        self.assertEqual(self.listing(), '')

    def test_terminal_restored_after_interrupt(self):
        self.fresh_db()
        proc, master, slave = self.start_on_terminal('-user', 'tina')
        self.read_until(master, b'Password:', b'')
        self.assertFalse(termios.tcgetattr(slave)[3] & termios.ECHO)
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=30), -signal.SIGINT)
        self.assert_echo_on(slave)
        self.assertEqual(self.listing(), '')

    def test_config_errors(self):
        conf = os.path.join(self.tmp.name, 'posthorn.conf')
        with open(conf, 'w') as f:
            f.write('auth_db = x\nno_such_key = 1\n')
        result = run(['-C', conf, '-list'])
        self.assertEqual(result.returncode, EX_CONFIG)
        self.assertIn('%s:2: unknown key' % conf, result.stderr.decode())
        result = run(['-C', os.path.join(self.tmp.name, 'missing.conf'),
                      '-list'])
        self.assertEqual(result.returncode, EX_CONFIG)
        self.assertIn('missing.conf', result.stderr.decode())


if __name__ == '__main__':
    cli_support.main(sys.modules[__name__], POPAUTH='popauth')
