#!/usr/bin/env python3
"""Several posthorn nodes on one PostgreSQL database, end to end.

Real binaries on one private cluster (scripts/lib/pg_cluster.sh, a
temporary folder, a free 127.0.0.1 port), each test on a database of its
own; every node has its own posthorn.conf (`store = postgresql`, the same
postgresql_dsn, its own smtpd_listen port and queue_dir), local domain
localhost, local_recipients = auth_db (users made with popauth in the
database).

  1. Two `sendmail -bd` and two `popper -l` daemons: mail sent with
     smtplib to either MTA is read with poplib from either popper, with
     the same UIDLs and bytes; a POP session on one popper makes a login
     on the other get -ERR [IN-USE]; DELE + QUIT on one is seen by the
     other at once.
  2. A node killed during its queue run: N messages queued on node A with
     `sendmail -odq` (no daemon runs), A's daemon started and SIGSTOPped
     at its first delivery (its leases held, as by a hung node); node B's
     queue runs must leave A's leased messages alone while A lives; then
     SIGKILL of A: B delivers the rest. Every message ends up in the
     maildrop exactly once (Message-IDs read with poplib: none doubled,
     none missing) and the queue is empty.
  3. The database restarted under load: a client sends M messages to the
     two MTAs in turn (a fresh connection each, 4xx and lost connections
     retried), the cluster is stopped (fast) and started again on the same
     port when a third of them got their 250. Every acknowledged message
     ends up delivered; a message is doubled only if its client saw a 4xx
     or lost connection for it (an SMTP client's retry of a transaction
     whose outcome it did not see).

     A lease whose release failed during the outage must not keep its
     message: its node takes it again at its next queue run. A queue row
     whose lease stays unchanged for 15 s fails the test;
     PG_NODES_STRICT_LEASES=0 instead restarts both MTAs (which frees it)
     and says so on stdout, for looking at other failures.

Environment: PG_NODES_KILL_N (default 50), PG_NODES_RESTART_M (default 60),
PG_NODES_STRICT_LEASES (default on).
Set POSTHORN_PG_SKIP=1 to skip when PostgreSQL is not installed.

Usage: pg_nodes_test.py --sendmail PATH --popper PATH --popauth PATH
                        --pg-cluster PATH
"""

import os
import poplib
import shutil
import signal
import smtplib
import socket
import tempfile
import threading
import time
import unittest

import pg_support as pg

USER = "alice"
SECRET = "alice-Secret7"
KILL_N = int(os.environ.get("PG_NODES_KILL_N", "50"))
RESTART_M = int(os.environ.get("PG_NODES_RESTART_M", "60"))

# Bounds, in seconds (generous: a loaded two-core machine).
DELIVERY_TIMEOUT = 90.0
CLIENT_TIMEOUT = 300.0
# A queue row whose lease has not changed for this long is held by an
# attempt that is over (a delivery here takes well under a second).
STUCK_AFTER = 15.0
# A lease left over by the database restart fails test 3 (the store frees
# it for its own node); PG_NODES_STRICT_LEASES=0 clears it by restarting
# the MTAs instead.
STRICT_LEASES = os.environ.get("PG_NODES_STRICT_LEASES", "1") != "0"


def message(tag, seq, body_lines=20):
    body = b"".join(b"line %d of %s %d, some text to fill it up.\r\n" %
                    (i, tag.encode(), seq) for i in range(body_lines))
    return (b"From: load@client.test\r\nTo: alice@localhost\r\n"
            b"Subject: %s %d\r\n"
            b"Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n"
            b"Message-ID: <%s-%d@client.test>\r\n\r\n" %
            (tag.encode(), seq, tag.encode(), seq) + body)


def msgid(tag, seq):
    return "<%s-%d@client.test>" % (tag, seq)


def send(port, data, helo="client.test"):
    """One transaction over a fresh smtplib connection."""
    client = smtplib.SMTP("127.0.0.1", port, local_hostname=helo,
                          timeout=pg.REPLY_TIMEOUT)
    try:
        client.sendmail("load@client.test", ["alice@localhost"], data)
        client.quit()
    finally:
        client.close()


class PgNodesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pg_nodes.")
        # As root the server runs as postgres, which must reach its folder.
        os.chmod(cls.tmp, 0o711)
        cls.cluster = pg.Cluster(cls.tmp)
        try:
            cls.cluster.start()
        except BaseException:
            cls.cluster.remove()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.cluster.remove()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.started = time.monotonic()
        name = self.id().rsplit(".", 1)[-1].replace("test_", "")[:40]
        self.dsn = self.cluster.createdb(name)

    def tearDown(self):
        print("\n  %s: %.1fs" % (self.id().rsplit(".", 1)[-1],
                                 time.monotonic() - self.started))

    def node(self, name, **conf):
        n = pg.Node(self.tmp, name, self.dsn, conf)
        self.addCleanup(n.cleanup)
        return n

    def sql_count(self, sql):
        return self.cluster.count(self.dsn, sql)

    def wait_delivered(self, popper, n, timeout=DELIVERY_TIMEOUT):
        """Waits until the maildrop holds at least n messages (STAT through
        `popper`); returns the last count."""
        seen = [None]

        def check():
            seen[0] = pg.count(popper.port, USER, SECRET)
            return seen[0] is not None and seen[0] >= n
        pg.wait_until(check, timeout, step=0.3)
        return seen[0]

    def wait_queue_settled(self, timeout=DELIVERY_TIMEOUT):
        """Waits until the queue is empty ([]) or holds only leased rows
        whose leases have not changed for STUCK_AFTER seconds (their ids);
        fails on anything else still there after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while True:
            rows = self.cluster.psql(
                self.dsn, "SELECT id, lease_token FROM queue ORDER BY id")
            if not rows:
                return []
            now = time.monotonic()
            if rows != last:
                last, since = rows, now
            elif (all(token for _, token in rows) and
                  now - since >= STUCK_AFTER):
                return [i for i, _ in rows]
            if now > deadline:
                self.fail("queue not empty:\n" + self.queue_report([]))
            time.sleep(0.5)

    def queue_report(self, daemons):
        """What is left in the queue, and what the daemons logged about it
        and about the database (for a failure message)."""
        rows = self.cluster.psql(
            self.dsn, "SELECT id, lease_owner, lease_until, next_attempt "
            "FROM queue ORDER BY id")
        nodes = self.cluster.psql(self.dsn, "SELECT node_id, backend_pid "
                                  "FROM nodes ORDER BY node_id")
        ids = [r[0] for r in rows]
        out = ["queue rows (id, lease_owner, lease_until, next_attempt):"]
        out += ["  " + " | ".join(r) for r in rows]
        out += ["nodes:"] + ["  " + " | ".join(r) for r in nodes]
        for n, d in enumerate(daemons):
            out.append("daemon %d (pid %d):" % (n, d.pid()))
            out += ["  " + l for l in d.log_lines()
                    if any(i in l for i in ids) or
                    not any(w in l for w in ("connect from", "client=",
                                             "status=sent", "removed",
                                             "queue active"))]
        return "\n".join(out)

    # -----------------------------------------------------------------------

    def test_two_mtas_two_poppers(self):
        a, b = self.node("nodea"), self.node("nodeb")
        a.add_user(USER, SECRET)
        mta_a, mta_b = a.daemon("10s"), b.daemon("10s")
        self.assertNotEqual(mta_a.port, mta_b.port)
        pop1, pop2 = a.popper(), b.popper()

        send(mta_a.port, message("via-a", 1))
        send(mta_b.port, message("via-b", 1))
        self.assertEqual(self.wait_delivered(pop2, 2), 2)

        one = pg.messages(pop1.port, USER, SECRET)
        two = pg.messages(pop2.port, USER, SECRET)
        self.assertEqual(one, two)  # same UIDLs, same bytes, same order
        self.assertEqual(len({uid for uid, _ in one}), 2)
        by_id = dict((pg.message_id(data), data) for _, data in one)
        self.assertEqual(set(by_id), {msgid("via-a", 1), msgid("via-b", 1)})
        # Each was received by the node it was sent to.
        self.assertIn(b"nodea.test", by_id[msgid("via-a", 1)].split(
            b"\r\n\r\n")[0])
        self.assertIn(b"nodeb.test", by_id[msgid("via-b", 1)].split(
            b"\r\n\r\n")[0])

        # The maildrop lock holds across poppers, both ways; deletions
        # committed by one are seen by the other at once.
        first = pg.apop(pop1.port, USER, SECRET)
        try:
            with self.assertRaises(poplib.error_proto) as refused:
                pg.apop(pop2.port, USER, SECRET).close()
            self.assertIn(b"[IN-USE]", refused.exception.args[0])
            first.dele(1)
            first.quit()
        finally:
            first.close()
        left = pg.messages(pop2.port, USER, SECRET)
        self.assertEqual(left, one[1:])

        # New mail on node A is in popper 2 at once, kept UIDLs.
        send(mta_a.port, message("via-a", 2))
        self.assertEqual(self.wait_delivered(pop2, 2), 2)
        second = pg.apop(pop2.port, USER, SECRET)
        try:
            with self.assertRaises(poplib.error_proto) as refused:
                pg.apop(pop1.port, USER, SECRET).close()
            self.assertIn(b"[IN-USE]", refused.exception.args[0])
            _, listing, _ = second.uidl()
            uids = [e.split()[1].decode() for e in listing]
            self.assertEqual(uids[0], one[1][0])
            self.assertNotIn(one[0][0], uids)  # a UIDL is never reused
            second.dele(1)
            second.dele(2)
            second.quit()
        finally:
            second.close()
        self.assertEqual(pg.messages(pop1.port, USER, SECRET), [])
        for d in (mta_a, mta_b):
            d.stop()
        self.assertEqual(self.sql_count("SELECT count(*) FROM queue"), 0)

    # -----------------------------------------------------------------------

    def test_odq_mail_is_announced_to_the_daemons(self):
        # Node B's daemon runs its queue once an hour; mail queued with
        # -odq on node A (no daemon there) reaches it through NOTIFY.
        a, b = self.node("nodea"), self.node("nodeb")
        a.add_user(USER, SECRET)
        mta_b = b.daemon("1h")
        self.assertTrue(pg.wait_until(
            lambda: self.sql_count(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN posthorn_queue%'") >= 1,
            DELIVERY_TIMEOUT), "node B's daemon does not listen")
        started = time.monotonic()
        r = a.sendmail("-odq", "-f", "cron@client.test", "alice@localhost",
                       input=message("odq", 1))
        self.assertEqual(r.returncode, 0, r.stderr)
        pop_b = b.popper()
        self.assertEqual(self.wait_delivered(pop_b, 1, timeout=30.0), 1)
        # Far sooner than the hourly queue run (a generous bound for a
        # loaded machine).
        self.assertLess(time.monotonic() - started, 30.0)
        self.assertTrue(pg.wait_until(a.queue_empty, DELIVERY_TIMEOUT))
        found = pg.messages(pop_b.port, USER, SECRET)
        self.assertIn(msgid("odq", 1).encode(),
                      b"".join(data for _, data in found))
        self.assertTrue(mta_b.running())

    def test_node_killed_during_queue_run(self):
        a, b = self.node("nodea"), self.node("nodeb")
        a.add_user(USER, SECRET)

        # Queue N messages on node A from the command line; nobody runs
        # the queue yet. Bodies of ~64 KiB make a delivery take a while.
        def queue(seqs):
            for seq in seqs:
                r = a.sendmail("-odq", "-f", "load@client.test",
                               "alice@localhost",
                               input=message("kill", seq, body_lines=1200))
                if r.returncode != 0:
                    errors.append((seq, r.returncode, r.stderr))
        errors = []
        threads = [threading.Thread(target=queue, args=(range(i, KILL_N, 4),))
                   for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=pg.RUN_TIMEOUT * KILL_N)
        self.assertEqual(errors, [])
        self.assertEqual(self.sql_count("SELECT count(*) FROM queue"), KILL_N)

        # Node A's queue run (the first one, at start) is stopped at its
        # first delivery: its leases stay held by a live process.
        mta_a = a.daemon("1h", start=False)
        stopped = threading.Event()

        def stop_at_first_delivery(line):
            if "status=sent" in line and not stopped.is_set():
                os.kill(mta_a.pid(), signal.SIGSTOP)
                stopped.set()
        mta_a.on_line = stop_at_first_delivery
        mta_a.start()
        self.assertTrue(stopped.wait(DELIVERY_TIMEOUT),
                        "node A delivered nothing:\n" + mta_a.log_text())
        leased = set(r[0] for r in self.cluster.psql(
            self.dsn, "SELECT id FROM queue WHERE lease_owner IS NOT NULL"))
        remaining = self.sql_count("SELECT count(*) FROM queue")
        in_maildrop = self.sql_count("SELECT count(*) FROM maildrop")
        # Deliveries A committed whose queue rows it had not removed yet:
        # B's retry of them must be a no-op (maildrop.delivery_id).
        print("\n  node A stopped: %d in the maildrop, %d queued, %d leased, "
              "%d both delivered and queued" %
              (in_maildrop, remaining, len(leased),
               in_maildrop + remaining - KILL_N))
        self.assertGreater(remaining, 0, "node A's run ended before SIGSTOP")
        self.assertGreater(len(leased), 0, "node A held no lease")

        # Node B runs the queue every 2 s: it takes what A did not lease,
        # but not A's leases while A lives.
        # A row A had locked but not yet marked as leased when it stopped
        # is skipped too (SKIP LOCKED): wait until B's runs stop making
        # progress rather than for exactly the leased rows to be left.
        mta_b = b.daemon("2s")
        left = [None, time.monotonic()]

        def settled():
            n = self.sql_count("SELECT count(*) FROM queue")
            if n != left[0]:
                left[:] = [n, time.monotonic()]
            return n <= len(leased) or time.monotonic() - left[1] >= 8
        pg.wait_until(settled, DELIVERY_TIMEOUT, step=0.5)
        time.sleep(3)  # at least one more of B's queue runs
        print("  node B left %d queued while A was stopped" % left[0])
        taken = [l for l in mta_b.log_lines() if "status=sent" in l and
                 any(i in l for i in leased)]
        self.assertEqual(taken, [], "node B took leases of a live node")

        os.kill(mta_a.pid(), signal.SIGKILL)
        mta_a.kill()  # reaps it
        if not pg.wait_until(lambda: self.sql_count(
                "SELECT count(*) FROM queue") == 0, DELIVERY_TIMEOUT, 0.5):
            self.fail("queue not empty after node A died:\n" +
                      self.queue_report([mta_b]))
        self.assertTrue(b.queue_empty())
        redelivered = [i for i in leased if any(
            i in l and "status=sent" in l for l in mta_b.log_lines())]
        print("  node B delivered %d of A's %d leased messages" %
              (len(redelivered), len(leased)))

        pop1 = b.popper()
        got = pg.messages(pop1.port, USER, SECRET)
        ids = [pg.message_id(data) for _, data in got]
        self.assertEqual(len(ids), len(set(ids)), "a message was doubled")
        self.assertEqual(set(ids), set(msgid("kill", s)
                                       for s in range(KILL_N)))
        self.assertEqual(len({uid for uid, _ in got}), KILL_N)
        mta_b.stop()

    # -----------------------------------------------------------------------

    def test_database_restart_under_load(self):
        a, b = self.node("nodea"), self.node("nodeb")
        a.add_user(USER, SECRET)
        mtas = [a.daemon("2s"), b.daemon("2s")]
        acked = pg.Counter()
        retried = pg.Counter()   # seqs that saw a 4xx or a lost connection
        permanent = []           # (seq, error): must stay empty
        deadline = time.monotonic() + CLIENT_TIMEOUT

        def client():
            for seq in range(RESTART_M):
                data = message("restart", seq)
                port = mtas[seq % 2].port
                while time.monotonic() < deadline:
                    try:
                        send(port, data)
                        acked.add(seq)
                        break
                    except smtplib.SMTPResponseException as e:
                        if not 400 <= e.smtp_code < 500:
                            permanent.append((seq, e.smtp_code, e.smtp_error))
                            break
                        retried.add(seq)
                    except smtplib.SMTPRecipientsRefused as e:
                        codes = [c for c, _ in e.recipients.values()]
                        if any(not 400 <= c < 500 for c in codes):
                            permanent.append((seq, e.recipients))
                            break
                        retried.add(seq)
                    except (smtplib.SMTPServerDisconnected, socket.timeout,
                            ConnectionError) as e:
                        retried.add(seq)
                    time.sleep(0.3)
        sender = threading.Thread(target=client, daemon=True)
        sender.start()

        self.assertTrue(pg.wait_until(lambda: len(acked) >= RESTART_M // 3,
                                      CLIENT_TIMEOUT, step=0.05),
                        "the client got no 250s")
        at_stop = len(acked)
        down = time.monotonic()
        self.cluster.stop("fast")
        time.sleep(2)
        self.cluster.start()
        outage = time.monotonic() - down
        sender.join(timeout=max(1.0, deadline - time.monotonic() + 5))
        self.assertFalse(sender.is_alive(), "the client did not finish")
        self.assertEqual(permanent, [])
        self.assertEqual(len(acked), RESTART_M)
        print("\n  %d acked before the stop, outage %.1fs, %d retried" %
              (at_stop, outage, len(retried)))

        stuck = self.wait_queue_settled()
        if stuck:
            # Known limit (docs/postgresql.md): a lease whose release could
            # not reach the database stays until lease_duration (30 min)
            # while its node lives. The message is safe in the queue; a
            # restart of the node (a new node id, the old one dead) frees
            # it at once.
            report = self.queue_report(mtas)
            print("  %d message(s) held by a lease that outlived the "
                  "outage:\n%s" % (len(stuck), report))
            if STRICT_LEASES:
                self.fail("leases not released after the restart:\n" +
                          report)
            for d in mtas:
                d.stop()
            mtas = [a.daemon("2s"), b.daemon("2s")]
            if self.wait_queue_settled():
                self.fail("queue not empty after the MTAs restarted:\n" +
                          self.queue_report(mtas))
        pop1 = a.popper()
        got = pg.messages(pop1.port, USER, SECRET)
        ids = [pg.message_id(data) for _, data in got]
        want = dict((msgid("restart", s), s) for s in range(RESTART_M))
        missing = set(want) - set(ids)
        self.assertEqual(missing, set(), "acknowledged mail lost")
        doubled = set(i for i in ids if ids.count(i) > 1)
        self.assertEqual(set(want[i] for i in doubled) -
                         retried.snapshot(), set(),
                         "doubled without a retry by the client")
        self.assertEqual(len({uid for uid, _ in got}), len(got))
        for d in mtas:
            d.stop()


if __name__ == "__main__":
    pg.main()
