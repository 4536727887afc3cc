#!/usr/bin/env python3
"""tests/tools/popper_cli_test.py — popper's command line and glue.

Drives the real binary (--popper PATH, --popauth PATH for the database):
refused and bad flags (exit 64), config errors naming file:line (78), a
trace file that is a symlink or has two links (73, target untouched), a
missing or foreign auth database (66, 65), one inetd-style session over
pipes (greeting, CAPA, QUIT; a login with -s writing the Stats line to the
trace file), and the daemon on 127.0.0.1:0 (-l and -D) that prints its
listening line and stops on SIGTERM with exit 0. Loopback only; every
wait is bounded.
"""

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time

import cli_support
from cli_support import clean_env

POPPER = None
POPAUTH = None

EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66
EX_CANTCREAT, EX_CONFIG = 73, 78

KERBEROS_MESSAGE = ('popper: -k (Kerberos) is not supported; use STLS or '
                    'pop3s with passwords or APOP\n')

MESSAGE = (b'From: Bob <bob@example.org>\n'
           b'To: alice@test.example\n'
           b'Subject: hello\n'
           b'\n'
           b'Hi Alice.\n')


class PopperCliTest(cli_support.InstanceTest):

    PREFIX = 'popper_cli_test.'

    def setUp(self):
        super().setUp()
        self.spool = os.path.join(self.dir, 'spool')
        os.mkdir(self.spool, 0o700)
        self.db = os.path.join(self.dir, 'pop.auth')
        self.conf = self.write_conf()

    def write_conf(self, extra='', name='posthorn.conf'):
        return self.write_file(name, '# popper_cli_test\n'
                               'hostname = test.example\n'
                               'spool_dir = spool\n'
                               'auth_db = pop.auth\n'
                               'run_as =\n'
                               'plaintext_auth = yes\n'
                               'pop3_failed_login_delay = 0\n' + extra)

    def make_db(self, users=()):
        subprocess.run([POPAUTH, '-db', self.db, '-init'], check=True,
                       timeout=30)
        for user, secret in users:
            subprocess.run([POPAUTH, '-db', self.db, '-user', user],
                           input=secret.encode() + b'\n', check=True,
                           timeout=30)

    def popper(self, *args, stdin=b'', timeout=30):
        return subprocess.run([POPPER] + list(args), input=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, env=clean_env())

    # --- refused and bad command lines ---------------------------------

    def test_kerberos_is_refused(self):
        for args in (['-k'], ['-s', '-k'], ['-sk']):
            result = self.popper(*args)
            self.assertEqual(result.returncode, EX_USAGE, args)
            self.assertEqual(result.stderr.decode(), KERBEROS_MESSAGE)
            self.assertEqual(result.stdout, b'')

    def test_bad_flags_and_values(self):
        for args in (['-x'], ['--bogus'], ['-T'], ['-T', 'abc'],
                     ['-T', '0'], ['-T', '-5'], ['-l', '127.0.0.1'],
                     ['-l', '::1:110'], ['-l', '127.0.0.1:70000'],
                     ['--tls-cert', 'c.pem'], ['operand'], ['-C']):
            result = self.popper('-C', self.conf, *args)
            self.assertEqual(result.returncode, EX_USAGE, args)
            self.assertIn('usage: popper', result.stderr.decode(), args)
            self.assertEqual(result.stdout, b'', args)

    def test_config_error_names_file_and_line(self):
        conf = self.write_conf('pop3_timeout = 10 minutes\n', 'bad.conf')
        result = self.popper('-C', conf)
        self.assertEqual(result.returncode, EX_CONFIG)
        self.assertIn('%s:8: pop3_timeout: bad duration' % conf,
                      result.stderr.decode())
        conf = self.write_conf('no_such_key = 1\n', 'bad2.conf')
        result = self.popper('-C', conf)
        self.assertEqual(result.returncode, EX_CONFIG)
        self.assertIn('%s:8: unknown key "no_such_key"' % conf,
                      result.stderr.decode())
        # $POSTHORN_CONF is read without -C.
        env = clean_env()
        env['POSTHORN_CONF'] = conf
        result = subprocess.run([POPPER], input=b'', env=env, timeout=30,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.assertEqual(result.returncode, EX_CONFIG)
        self.assertIn('%s:8:' % conf, result.stderr.decode())
        # A missing -C file is a config error too.
        result = self.popper('-C', os.path.join(self.dir, 'none.conf'))
        self.assertEqual(result.returncode, EX_CONFIG)

    def test_trace_file_symlink_refused(self):
        self.make_db()
        target = os.path.join(self.dir, 'precious')
        with open(target, 'w') as f:
            f.write('root:x:0:0\n')
        link = os.path.join(self.dir, 'trace.log')
        os.symlink(target, link)
        result = self.popper('-C', self.conf, '-t', link,
                             stdin=b'QUIT\r\n')
        self.assertEqual(result.returncode, EX_CANTCREAT)
        self.assertIn(link, result.stderr.decode())
        self.assertIn('symbolic link', result.stderr.decode())
        self.assertEqual(result.stdout, b'')
        with open(target) as f:
            self.assertEqual(f.read(), 'root:x:0:0\n')

    def test_trace_file_with_two_links_refused(self):
        self.make_db()
        target = os.path.join(self.dir, 'precious')
        with open(target, 'w') as f:
            f.write('root:x:0:0\n')
        trace = os.path.join(self.dir, 'trace.log')
        os.link(target, trace)
        result = self.popper('-C', self.conf, '-t', trace,
                             stdin=b'QUIT\r\n')
        self.assertEqual(result.returncode, EX_CANTCREAT)
        self.assertIn(trace, result.stderr.decode())
        self.assertIn('2 links', result.stderr.decode())
        with open(target) as f:
            self.assertEqual(f.read(), 'root:x:0:0\n')

    def test_missing_auth_db(self):
        result = self.popper('-C', self.conf, stdin=b'QUIT\r\n')
        self.assertEqual(result.returncode, EX_NOINPUT)
        self.assertIn('%s: no such database' % self.db,
                      result.stderr.decode())
        self.assertEqual(result.stdout, b'')

    def test_auth_db_that_is_not_one(self):
        with open(self.db, 'w') as f:
            f.write('alice:secret\n' * 50)
        result = self.popper('-C', self.conf, stdin=b'QUIT\r\n')
        self.assertEqual(result.returncode, EX_DATAERR)
        self.assertIn(self.db, result.stderr.decode())

    # --- inetd: one session on stdin/stdout ----------------------------

    def test_inetd_session_capa_quit(self):
        self.make_db()
        result = self.popper('-C', self.conf, '-s',
                             stdin=b'CAPA\r\nQUIT\r\n')
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        out = result.stdout.decode('latin-1')
        lines = out.split('\r\n')
        self.assertEqual(lines[-1], '', out)  # ends with CRLF
        self.assertRegex(lines[0], r'^\+OK .*<[^<>@]+@test\.example>$')
        self.assertRegex(lines[1], r'^\+OK')
        capa_end = lines.index('.')
        capabilities = lines[2:capa_end]
        for name in ('TOP', 'UIDL', 'USER', 'RESP-CODES', 'PIPELINING'):
            self.assertIn(name, [c.split(' ')[0] for c in capabilities],
                          capabilities)
        self.assertNotIn('STLS', capabilities)  # no TLS over a pipe
        self.assertRegex(lines[capa_end + 1], r'^\+OK')
        self.assertEqual(len(lines), capa_end + 3, out)

    def test_inetd_login_writes_stats_to_trace(self):
        self.make_db([('alice', 'tanstaaf')])
        mbox = os.path.join(self.spool, 'alice')
        with open(mbox, 'wb') as f:
            f.write(b'From bob@example.org Thu Jan  1 00:00:00 2024\n' +
                    MESSAGE + b'\n')
        os.chmod(mbox, 0o600)
        trace = os.path.join(self.dir, 'trace.log')
        result = self.popper(
            '-C', self.conf, '-s', '-t', trace,
            stdin=b'USER alice\r\nPASS tanstaaf\r\nSTAT\r\nQUIT\r\n')
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        size = len(MESSAGE.replace(b'\n', b'\r\n'))
        lines = result.stdout.decode('latin-1').split('\r\n')
        self.assertEqual(lines[3], '+OK 1 %d' % size, lines)
        self.assertTrue(lines[4].startswith('+OK'), lines)
        with open(trace) as f:
            text = f.read()
        self.assertRegex(
            text, r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d popper\[\d+\]: '
                  r'Stats: alice 0 0 1 %d\n' % size)
        self.assertEqual(os.stat(trace).st_mode & 0o777, 0o600)
        self.assertNotIn('tanstaaf', text)
        # The session kept the message.
        with open(mbox, 'rb') as f:
            self.assertIn(b'Hi Alice.', f.read())

    def test_debug_protocol_log_masks_the_password(self):
        self.make_db([('alice', 'tanstaaf')])
        trace = os.path.join(self.dir, 'debug.log')
        result = self.popper(
            '-C', self.conf, '-d', '-t', trace,
            stdin=b'USER alice\r\nPASS tanstaaf\r\nQUIT\r\n')
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        with open(trace) as f:
            text = f.read()
        self.assertIn('USER alice', text)
        self.assertIn('PASS', text)
        self.assertNotIn('tanstaaf', text)

    # --- the daemon ----------------------------------------------------

    def start_daemon(self, *args):
        proc = subprocess.Popen([POPPER] + list(args),
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=clean_env())
        self.procs.append(proc)
        return proc

    def read_listening(self, proc, count=1, timeout=20):
        """The first `count` "popper: listening on" endpoints."""
        selector = selectors.DefaultSelector()
        selector.register(proc.stderr, selectors.EVENT_READ)
        buffer = b''
        deadline = time.monotonic() + timeout
        endpoints = []
        while len(endpoints) < count:
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, 'no listening line: %r' % buffer)
            if not selector.select(left):
                continue
            chunk = os.read(proc.stderr.fileno(), 4096)
            self.assertTrue(chunk, 'popper ended: %r (exit %s)' %
                            (buffer, proc.poll()))
            buffer += chunk
            endpoints = re.findall(rb'popper: listening on (\S+)\n', buffer)
        selector.close()
        return [e.decode() for e in endpoints]

    def greeting(self, host, port):
        with socket.create_connection((host, port), timeout=10) as s:
            data = b''
            while not data.endswith(b'\r\n'):
                chunk = s.recv(512)
                if not chunk:
                    break
                data += chunk
            s.sendall(b'QUIT\r\n')
            return data

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        self.assertEqual(code, 0, proc.stderr.read().decode())
        self.assertEqual(proc.stdout.read(), b'')

    def test_daemon_on_port_0_and_sigterm(self):
        self.make_db()
        proc = self.start_daemon('-C', self.conf, '-l', '127.0.0.1:0')
        [endpoint] = self.read_listening(proc)
        host, port = endpoint.rsplit(':', 1)
        self.assertEqual(host, '127.0.0.1')
        self.assertNotEqual(int(port), 0)
        self.assertTrue(self.greeting(host, int(port)).startswith(b'+OK'))
        self.stop(proc)

    def test_daemon_from_config_with_dash_D(self):
        self.make_db()
        conf = self.write_conf('pop3_listen = 127.0.0.1:0\n', 'd.conf')
        proc = self.start_daemon('-C', conf, '-D')
        [endpoint] = self.read_listening(proc)
        host, port = endpoint.rsplit(':', 1)
        self.assertTrue(self.greeting(host, int(port)).startswith(b'+OK'))
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_daemon_needs_the_auth_db_before_listening(self):
        proc = self.start_daemon('-C', self.conf, '-l', '127.0.0.1:0')
        self.assertEqual(proc.wait(timeout=30), EX_NOINPUT)
        self.assertNotIn(b'listening', proc.stderr.read())


if __name__ == '__main__':
    cli_support.main(sys.modules[__name__], POPPER='popper',
                     POPAUTH='popauth')
