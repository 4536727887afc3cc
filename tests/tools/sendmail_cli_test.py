#!/usr/bin/env python3
"""tests/tools/sendmail_cli_test.py — sendmail's command line and glue.

Drives the real binary (--sendmail PATH) against a self-contained
instance in a temporary folder: usage and bad flags (64), config errors
naming file:line (78), the names it runs under (mailq, newaliases,
praliases, hoststat, purgestat, mailstats as symlinks), submission with
-odq / -odi and the mailq layout (with a deferral reply from a closed
loopback port), unknown users (67) and bad addresses (65), -bv, -q,
-qR, -qI, -bs over pipes, and the daemon on 127.0.0.1:0: SMTP mail and
command-line mail delivered at once, SIGTERM exits 0. Loopback only;
every wait is bounded.
"""

import os
import re
import selectors
import signal
import smtplib
import socket
import subprocess
import sys
import time

import cli_support
from cli_support import clean_env, wait_for

SENDMAIL = None

EX_USAGE, EX_DATAERR, EX_NOUSER, EX_CONFIG = 64, 65, 67, 78

HEADER = ('-----Q-ID----------- --Size-- -----Q-Time----- '
          '------------Sender/Recipient-----------')
MESSAGE = b'Subject: hello\n\nHi Alice.\n'


def closed_port():
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class SendmailCliTest(cli_support.InstanceTest):

    PREFIX = 'sendmail_cli_test.'

    def setUp(self):
        super().setUp()
        self.spool = os.path.join(self.dir, 'spool')
        os.mkdir(self.spool, 0o700)
        for user in ('alice', 'bob'):
            open(os.path.join(self.spool, user), 'w').close()
        self.queue = os.path.join(self.dir, 'queue')
        self.dead_port = closed_port()
        with open(os.path.join(self.dir, 'transport'), 'w') as f:
            f.write(f'example.net [127.0.0.1]:{self.dead_port}\n')
        with open(os.path.join(self.dir, 'aliases'), 'w') as f:
            f.write('# test aliases\n'
                    'postmaster: alice\n'
                    'staff: alice, bob,\n'
                    '       carol@example.net\n'
                    'abuse: postmaster\n')
        self.conf = self.write_conf()

    def write_conf(self, extra='', name='posthorn.conf'):
        return self.write_file(name, '# sendmail_cli_test\n'
                               'hostname = test.example\n'
                               'local_domains = test.example, localhost\n'
                               'smtpd_listen = 127.0.0.1:0\n'
                               'queue_dir = queue\n'
                               'spool_dir = spool\n'
                               'alias_file = aliases\n'
                               'auth_db = pop.auth\n'
                               'help_file = helpfile\n'
                               'transport_map = transport\n'
                               'local_recipients = aliases, maildrop\n'
                               'smtp_connect_timeout = 5s\n'
                               'run_as =\n' + extra)

    def run_as(self, name, args, stdin=b'', timeout=60):
        """Runs the binary under argv[0] = name (a symlink for the others)."""
        exe = SENDMAIL
        if name != 'sendmail':
            exe = os.path.join(self.dir, name)
            if not os.path.exists(exe):
                os.symlink(SENDMAIL, exe)
        return subprocess.run([exe] + args, input=stdin, capture_output=True,
                              timeout=timeout, env=clean_env())

    def sm(self, *args, stdin=b'', conf=True):
        return self.run_as('sendmail',
                           (['-C', self.conf] if conf else []) + list(args),
                           stdin=stdin)

    def mbox(self, user):
        with open(os.path.join(self.spool, user), 'rb') as f:
            return f.read()

    def queued_ids(self):
        folder = os.path.join(self.queue, 'msg')
        if not os.path.isdir(folder):
            return []
        return sorted(n[:-4] for n in os.listdir(folder) if n.endswith('.env'))

    # --- usage ---------------------------------------------------------

    def test_help_prints_usage_on_stdout(self):
        for args in (['-h'], ['--help']):
            r = self.sm(*args, conf=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith(b'usage: sendmail'), r.stdout)
            self.assertEqual(r.stderr, b'')

    def test_bad_flags_are_usage_errors(self):
        cases = [
            (['-Z'], b'unknown flag "-Z"'),
            (['-bx'], b'unknown mode -bx'),
            (['-q5x'], b'-q5x: an interval'),
            (['-oZ'], b'unknown option -oZ'),
            (['-N', 'sometimes', 'alice'], b'-N sometimes'),
            (['-R', 'most', 'alice'], b'-R most: full or hdrs'),
            (['-f'], b'-f needs a value'),
            ([], b'no recipients'),
            (['-bv'], b'-bv needs addresses'),
            (['-bp', 'extra'], b'unexpected argument "extra"'),
            (['--frobnicate'], b'unknown flag "--frobnicate"'),
            (['-bd', '-qRexample.org'], b'-bd takes -q<interval>'),
        ]
        for args, message in cases:
            r = self.sm(*args)
            self.assertEqual(r.returncode, EX_USAGE, (args, r.stderr))
            self.assertIn(message, r.stderr, args)
            self.assertIn(b'usage: sendmail', r.stderr, args)
            self.assertEqual(r.stdout, b'', args)

    def test_hop_count_and_ignored_flags_are_accepted(self):
        r = self.sm('-odq', '-h', '17', '-oem', '-om', '-U', '-B', '8BITMIME',
                    '-oi', 'alice', stdin=MESSAGE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.queued_ids()), 1)

    def test_config_errors_name_file_and_line(self):
        bad = self.write_conf('hop_limit = 0\n', name='bad.conf')
        r = self.run_as('sendmail', ['-C', bad, '-bp'])
        self.assertEqual(r.returncode, EX_CONFIG)
        self.assertRegex(r.stderr.decode(),
                         r'^sendmail: .*/bad\.conf:14: hop_limit: 0 is out '
                         r'of range \(1 to 1000\)\n$')
        missing = self.run_as('sendmail',
                              ['-C', os.path.join(self.dir, 'nope'), '-bp'])
        self.assertEqual(missing.returncode, EX_CONFIG)
        # $POSTHORN_CONF is honoured when there is no -C.
        env = clean_env()
        env['POSTHORN_CONF'] = bad
        r = subprocess.run([SENDMAIL, '-bp'], capture_output=True, env=env,
                           timeout=60)
        self.assertEqual(r.returncode, EX_CONFIG)

    # --- the names ------------------------------------------------------

    def test_mailq_name_and_empty_queue(self):
        r = self.run_as('mailq', ['-C', self.conf])
        self.assertEqual((r.returncode, r.stdout), (0, b'Mail queue is empty\n'),
                         r.stderr)
        self.assertEqual(self.sm('-bp').stdout, b'Mail queue is empty\n')

    def test_newaliases_and_praliases(self):
        r = self.run_as('newaliases', ['-C', self.conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        aliases = os.path.join(self.dir, 'aliases')
        # names + right-hand sides: postmaster:alice (10+5),
        # staff:alice,bob,carol@example.net (5+27), abuse:postmaster (5+10)
        self.assertEqual(r.stdout.decode(),
                         f'{aliases}: 3 aliases, longest 27 bytes, '
                         '62 bytes total\n')
        self.assertTrue(os.path.exists(aliases + '.lmdb'))
        self.assertEqual(self.sm('-bi').stdout, r.stdout)

        p = self.run_as('praliases', ['-C', self.conf])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, b'abuse:postmaster\n'
                                   b'postmaster:alice\n'
                                   b'staff:alice,bob,carol@example.net\n')
        one = self.run_as('praliases', ['-C', self.conf, 'STAFF', 'nobody'])
        self.assertEqual(one.returncode, EX_NOUSER)
        self.assertEqual(one.stdout, b'staff:alice,bob,carol@example.net\n')
        self.assertIn(b'nobody: no such alias', one.stderr)

    def test_newaliases_syntax_error_keeps_file_and_line(self):
        with open(os.path.join(self.dir, 'aliases'), 'a') as f:
            f.write('broken line without colon\n')
        r = self.run_as('newaliases', ['-C', self.conf])
        self.assertEqual(r.returncode, EX_DATAERR)
        self.assertRegex(r.stderr.decode(), r'^newaliases: .*aliases:6: ')
        self.assertEqual(r.stdout, b'')

    def test_hoststat_purgestat_mailstats_names(self):
        h = self.run_as('hoststat', ['-C', self.conf])
        self.assertEqual(h.returncode, 0, h.stderr)
        self.assertIn(b'Hostname', h.stdout)
        self.assertEqual(self.sm('-bh').stdout, h.stdout)
        self.assertEqual(self.run_as('purgestat', ['-C', self.conf]).returncode,
                         0)
        self.assertEqual(self.sm('-bH').returncode, 0)
        m = self.run_as('mailstats', ['-C', self.conf])
        self.assertEqual(m.returncode, 0, m.stderr)
        self.assertIn(b'Statistics from', m.stdout)
        self.assertIn(b'Mailer', m.stdout)
        bad = self.run_as('mailstats', ['-C', self.conf, 'extra'])
        self.assertEqual(bad.returncode, EX_USAGE)
        self.assertIn(b'mailstats: unexpected argument', bad.stderr)

    # --- submission -------------------------------------------------------

    def test_queue_only_submission_and_mailq_layout(self):
        r = self.sm('-odq', '-f', 'bob@test.example', 'alice',
                    'Carol@Example.NET', stdin=MESSAGE)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b'', b''))
        ids = self.queued_ids()
        self.assertEqual(len(ids), 1)
        lines = self.sm('-bp').stdout.decode().splitlines()
        self.assertEqual(lines[0], f'{self.queue} (1 request)')
        self.assertEqual(lines[1], HEADER)
        self.assertRegex(lines[2],
                         '^' + ids[0] + r' +\d+ \w{3} \w{3} \d\d \d\d:\d\d '
                         r'<bob@test\.example>$')
        self.assertEqual(lines[2].index('<'), 47)
        self.assertEqual(lines[3:], [' ' * 47 + '<alice>',
                                     ' ' * 47 + '<Carol@Example.NET>'])

    def test_deferral_reply_is_listed(self):
        self.sm('-odq', 'carol@example.net', stdin=MESSAGE)
        r = self.sm('-q', '-v')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'status=deferred', r.stderr)
        lines = self.sm('-bp').stdout.decode().splitlines()
        self.assertEqual(len(lines), 5, lines)
        self.assertRegex(lines[3], r'^ {17}\(4\d\d 4\.\d\.\d .*\)$')
        self.assertIn(f'[127.0.0.1]:{self.dead_port}', lines[3])
        self.assertEqual(lines[4], ' ' * 47 + '<carol@example.net>')
        # mailq shows only pending recipients: nothing else was listed.
        self.assertEqual(len(self.queued_ids()), 1)

    def test_interactive_delivery_and_sender_defaults(self):
        r = self.sm('-odi', '-F', 'Robert Tables', '-f', 'bob@test.example',
                    'alice', stdin=MESSAGE + b'.\nafter the dot\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.queued_ids(), [])
        box = self.mbox('alice')
        self.assertIn(b'Subject: hello\n', box)
        self.assertIn(b'From: Robert Tables <bob@test.example>\n', box)
        self.assertIn(b'Message-ID: <', box)
        self.assertNotIn(b'after the dot', box)  # a lone "." ended it

    def test_mail_log_gets_the_delivery_lines(self):
        conf = self.write_conf('mail_log = mail.log\n', name='log.conf')
        r = self.run_as('sendmail', ['-C', conf, '-odi', 'alice'],
                        stdin=MESSAGE)
        self.assertEqual((r.returncode, r.stderr), (0, b''))
        with open(os.path.join(self.dir, 'mail.log')) as f:
            log = f.read()
        self.assertRegex(log, r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d sendmail\[\d+\]: '
                              r'\w+: to=<alice>, relay=local, .*status=sent')
        # A log file that cannot be opened does not stop a submission.
        os.remove(os.path.join(self.dir, 'mail.log'))
        os.symlink('/dev/null', os.path.join(self.dir, 'mail.log'))
        r = self.run_as('sendmail', ['-C', conf, '-odq', 'alice'],
                        stdin=MESSAGE)
        self.assertEqual(r.returncode, 0, r.stderr)
        # ...but it stops the daemon (exit 73).
        r = self.run_as('sendmail', ['-C', conf, '-bd'])
        self.assertEqual(r.returncode, 73, r.stderr)
        self.assertIn(b'mail_log', r.stderr)

    def test_dash_i_keeps_lone_dots(self):
        r = self.sm('-odi', '-i', 'alice', stdin=MESSAGE + b'.\nafter\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'\nafter\n', self.mbox('alice'))

    def test_extract_recipients_with_t(self):
        r = self.sm('-odi', '-t', stdin=b'To: Bob <bob@test.example>\n'
                    b'Bcc: alice\nSubject: t\n\nbody\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'Subject: t', self.mbox('bob'))
        self.assertIn(b'Subject: t', self.mbox('alice'))
        self.assertNotIn(b'Bcc:', self.mbox('bob'))
        none = self.sm('-odq', '-t', stdin=b'Subject: nobody\n\nx\n')
        self.assertEqual(none.returncode, EX_USAGE, none.stderr)

    def test_alias_expansion_delivers_to_members(self):
        self.assertEqual(self.sm('-bi').returncode, 0)
        r = self.sm('-odi', 'staff', stdin=MESSAGE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'Hi Alice.', self.mbox('alice'))
        self.assertIn(b'Hi Alice.', self.mbox('bob'))

    def test_unknown_user_and_bad_address(self):
        r = self.sm('-odq', 'alice', 'nosuchuser', stdin=MESSAGE)
        self.assertEqual(r.returncode, EX_NOUSER)
        self.assertEqual(r.stderr, b'sendmail: nosuchuser... User unknown\n')
        r = self.sm('-odq', 'nosuchuser@test.example', stdin=MESSAGE)
        self.assertEqual(r.returncode, EX_NOUSER, r.stderr)
        # Not one mailbox: a data error, whatever the local part would be.
        for address in ('a@b@c', 'a@b@test.example', 'a b@test.example',
                        '@test.example', 'a@', 'alice@'):
            bad = self.sm('-odq', 'alice', address, stdin=MESSAGE)
            self.assertEqual(bad.returncode, EX_DATAERR, bad.stderr)
            self.assertEqual(
                bad.stderr,
                f'sendmail: {address}: not a valid address\n'.encode())
        self.assertEqual(self.queued_ids(), [])  # nothing queued

    def test_message_over_the_size_limit(self):
        conf = self.write_conf('message_size_limit = 100\n', name='small.conf')
        r = self.run_as('sendmail', ['-C', conf, '-odq', 'alice'],
                        stdin=MESSAGE + b'x' * 200 + b'\n')
        self.assertEqual(r.returncode, EX_DATAERR, r.stderr)
        self.assertEqual(self.queued_ids(), [])

    def test_verify_mode(self):
        r = self.sm('-bv', 'alice', 'carol@example.net')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode().splitlines(), [
            'alice... deliverable: mailer local, user alice',
            'carol@example.net... deliverable: mailer esmtp, host '
            f'[127.0.0.1]:{self.dead_port}'])
        unknown = self.sm('-bv', 'nosuchuser')
        self.assertEqual(unknown.returncode, EX_NOUSER)
        self.assertIn(b'nosuchuser... User unknown', unknown.stdout)

    def test_background_delivery_is_the_default(self):
        r = self.sm('alice', stdin=b'Subject: odb\n\nx\n')
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b'', b''))
        # The detached child delivers and removes it from the queue.
        self.assertTrue(wait_for(lambda: b'Subject: odb' in self.mbox('alice')))
        self.assertTrue(wait_for(lambda: self.queued_ids() == []))

    def test_dsn_flags_are_recorded_in_the_envelope(self):
        r = self.sm('-odq', '-N', 'success,delay', '-R', 'hdrs', '-V',
                    'env-42', 'alice', stdin=MESSAGE)
        self.assertEqual(r.returncode, 0, r.stderr)
        (qid,) = self.queued_ids()
        with open(os.path.join(self.queue, 'msg', qid + '.env')) as f:
            envelope = f.read()
        self.assertIn('env-42', envelope)
        self.assertIn('hdrs', envelope)
        # NOTIFY of every recipient, in the file the queue wrote at once.
        self.assertRegex(envelope, r'(?m)^rcpt pending S-D ')
        r = self.sm('-odq', '-N', 'never', 'alice', 'bob', stdin=MESSAGE)
        self.assertEqual(r.returncode, 0, r.stderr)
        (qid,) = set(self.queued_ids()) - {qid}
        with open(os.path.join(self.queue, 'msg', qid + '.env')) as f:
            envelope = f.read()
        self.assertEqual(len(re.findall(r'(?m)^rcpt pending --- ', envelope)),
                         2, envelope)

    def test_interactive_delivery_delivers_its_bounce_too(self):
        # -t recipients are not checked up front: the local agent bounces
        # the unknown one, and the bounce to the local sender is
        # delivered by the same -odi run (nothing left in the queue).
        r = self.sm('-odi', '-t', '-f', 'bob@test.example',
                    stdin=b'To: alice, nosuchuser\nSubject: half\n\nx\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'Subject: half', self.mbox('alice'))
        box = self.mbox('bob')
        self.assertIn(b'MAILER-DAEMON', box)
        self.assertIn(b'nosuchuser', box)
        self.assertEqual(self.queued_ids(), [])

    # --- queue runs --------------------------------------------------------

    def test_periodic_runner_in_the_foreground(self):
        self.sm('-odq', 'alice', stdin=b'Subject: periodic\n\nx\n')
        proc = subprocess.Popen([SENDMAIL, '-C', self.conf, '-q1h'],
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=clean_env())
        self.procs.append(proc)
        # The first scan runs at start.
        self.assertTrue(wait_for(lambda: b'periodic' in self.mbox('alice')))
        self.assertTrue(wait_for(lambda: self.queued_ids() == []))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=60), 0)

    def test_queue_runs_once_by_domain_and_by_id(self):
        self.sm('-odq', 'alice', stdin=b'Subject: one\n\n1\n')
        self.sm('-odq', 'bob', stdin=b'Subject: two\n\n2\n')
        self.sm('-odq', 'carol@example.net', stdin=b'Subject: three\n\n3\n')
        ids = self.queued_ids()
        self.assertEqual(len(ids), 3)
        # -qI: that message only (the first: alice's).
        r = self.sm(f'-qI{ids[0]}')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'Subject: one', self.mbox('alice'))
        self.assertEqual(self.mbox('bob'), b'')
        # -qR for a domain with nothing local in it leaves bob's message.
        self.assertEqual(self.sm('-qRexample.net').returncode, 0)
        self.assertEqual(self.mbox('bob'), b'')
        self.assertEqual(len(self.queued_ids()), 2)
        # -q: every due message (carol's is deferred again, not due now).
        self.assertEqual(self.sm('-q').returncode, 0)
        self.assertIn(b'Subject: two', self.mbox('bob'))
        self.assertEqual(len(self.queued_ids()), 1)

    # --- SMTP ------------------------------------------------------------

    def test_smtp_on_stdio(self):
        proc = subprocess.Popen([SENDMAIL, '-C', self.conf, '-bs', '-odi'],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=clean_env())
        self.procs.append(proc)
        out = proc.stdout

        def reply():
            lines = []
            while True:
                line = out.readline()
                self.assertTrue(line, 'session closed early')
                lines.append(line)
                if line[3:4] != b'-':
                    return b''.join(lines)

        def send(line):
            proc.stdin.write(line + b'\r\n')
            proc.stdin.flush()
            return reply()

        self.assertTrue(reply().startswith(b'220 test.example'))
        self.assertTrue(send(b'EHLO client.test').startswith(b'250-'))
        self.assertTrue(send(b'MAIL FROM:<bob@test.example>').startswith(b'250'))
        self.assertTrue(send(b'RCPT TO:<alice@test.example>').startswith(b'250'))
        # A local submission may relay.
        self.assertTrue(send(b'RCPT TO:<carol@example.net>').startswith(b'250'))
        self.assertTrue(send(b'RCPT TO:<nobody@test.example>').startswith(b'550'))
        self.assertTrue(send(b'DATA').startswith(b'354'))
        self.assertIn(b'queued as', send(b'Subject: bs\r\n\r\nbody\r\n.'))
        self.assertTrue(send(b'QUIT').startswith(b'221'))
        self.assertEqual(proc.wait(timeout=60), 0)
        box = self.mbox('alice')
        self.assertIn(b'Subject: bs', box)
        self.assertIn(b'Date: ', box)  # added for a local submission

    def start_daemon(self, *extra):
        proc = subprocess.Popen([SENDMAIL, '-C', self.conf, '-bd'] + list(extra),
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=clean_env())
        self.procs.append(proc)
        sel = selectors.DefaultSelector()
        sel.register(proc.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        seen = b''
        line = b''
        m = None
        # Log lines (also on stderr) may come first.
        while m is None and time.monotonic() < deadline:
            if not sel.select(timeout=1):
                continue
            chunk = os.read(proc.stderr.fileno(), 1)
            if not chunk:
                break
            line += chunk
            if line.endswith(b'\n'):
                seen += line
                m = re.match(rb'sendmail: listening on 127\.0\.0\.1:(\d+)\n$',
                             line)
                line = b''
        sel.close()
        self.assertIsNotNone(m, seen)
        return proc, int(m.group(1))

    def test_daemon_delivers_smtp_and_command_line_mail_then_stops(self):
        proc, port = self.start_daemon('-q1h')
        with smtplib.SMTP('127.0.0.1', port, timeout=30) as client:
            code, text = client.ehlo('client.test')
            self.assertEqual(code, 250)
            self.assertIn(b'ETRN', text)
            client.sendmail('x@example.org', ['alice@test.example'],
                            b'Subject: over smtp\r\n\r\nbody\r\n')
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as refused:
                client.sendmail('x@example.org', ['nobody@test.example'],
                                b'Subject: x\r\n\r\nx\r\n')
            self.assertEqual(
                refused.exception.recipients['nobody@test.example'][0], 550)
            code, text = client.docmd('ETRN', 'example.net')
            self.assertEqual(code, 250, text)
        self.assertTrue(wait_for(lambda: b'over smtp' in self.mbox('alice')))
        # Command-line mail: the daemon sees it in the queue folder.
        r = self.sm('-odq', 'bob', stdin=b'Subject: from cli\n\nx\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(wait_for(lambda: b'from cli' in self.mbox('bob')))
        self.assertTrue(wait_for(lambda: self.queued_ids() == []))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=60), 0)
        log = proc.stderr.read().decode()
        self.assertRegex(log, r'sendmail\[\d+\]: \w+: to=<alice@test\.example>, '
                              r'relay=local, .*status=sent')
        self.assertIn('stopped', log)

    def test_daemon_follows_newaliases(self):
        self.assertEqual(self.sm('-bi').returncode, 0)
        proc, port = self.start_daemon()
        with open(os.path.join(self.dir, 'aliases'), 'a') as f:
            f.write('team: bob\n')
        self.assertEqual(self.sm('-bi').returncode, 0)

        def team_accepted():
            with smtplib.SMTP('127.0.0.1', port, timeout=30) as client:
                client.ehlo('client.test')
                client.mail('x@example.org')
                code, _ = client.rcpt('team@test.example')
                if code != 250:
                    return False
                client.data(b'Subject: to the team\r\n\r\nhi\r\n')
                return True

        self.assertTrue(wait_for(team_accepted, seconds=20))
        self.assertTrue(wait_for(lambda: b'to the team' in self.mbox('bob')))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=60), 0)
        self.assertIn(b'aliases reloaded', proc.stderr.read())

    def test_daemon_refuses_a_busy_port(self):
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            port = busy.getsockname()[1]
            conf = self.write_conf(name='busy.conf')
            with open(conf) as f:
                text = f.read().replace('smtpd_listen = 127.0.0.1:0',
                                        f'smtpd_listen = 127.0.0.1:{port}')
            with open(conf, 'w') as f:
                f.write(text)
            r = subprocess.run([SENDMAIL, '-C', conf, '-bd'],
                               capture_output=True, timeout=60, env=clean_env())
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn(b'sendmail: cannot start', r.stderr)


if __name__ == '__main__':
    cli_support.main(sys.modules[__name__], SENDMAIL='sendmail')
