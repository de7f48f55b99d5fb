/* SPDX-License-Identifier: MIT */
/*
 * The source engine (source.c) through the memory driver (source_mem.c):
 * a crash between commit and mark, a failing mark, a bad message in the
 * middle of a batch, a poison message, cursor regressions, the watchdog
 * ping between messages and the per-batch time budget.  Every case checks
 * exactly once: each message is stored once, whatever happened.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "ingest.h"
#include "source.h"
#include "../../daemon/source_mem_p.h"
#include "store.h"
#include "triage.h"

static char dir[] = "/tmp/intake-sourcetest-XXXXXX";
static struct config cfg;
static struct calendar *cal;
static struct lexicon *lex;
static struct store *st;
static struct ingest_ctx ictx;
static struct source_config scfg;
static char path[256];
static const volatile sig_atomic_t no_stop;
static int pings;

#define MSG(id, body) "From: someone@example.net\nSubject: " id "\n" \
	"Message-ID: <" id "@example.net>\n\n" body "\n"

static struct mem_message five[] = {
	{ .key = "k1", .data = MSG("m1", "Where is the nearest shelter?") },
	{ .key = "k2", .data = MSG("m2", "What is the legal definition of trafficking?") },
	{ .key = "k3", .data = MSG("m3", "Can you send me statistics for Ohio?") },
	{ .key = "k4", .data = MSG("m4", "Do you have training materials?") },
	{ .key = "k5", .data = MSG("m5", "Who can I call about a job offer?") },
};

static void
setup(void)
{
	char err[256], *serr = NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	config_defaults(&cfg);
	ck_assert_msg(calendar_set_zone(cfg.timezone, err, sizeof(err)) == 0,
	    "%s", err);
	cal = calendar_new(&cfg, err, sizeof(err));
	ck_assert_msg(cal != NULL, "%s", err);
	lex = lexicon_builtin();
	ck_assert_ptr_nonnull(lex);
	ck_assert_msg(store_open(path, NULL, 1000, &st, &serr) == STORE_OK,
	    "%s", serr);
	ingest_ctx_init(&ictx, &cfg, cal, lex, st);
	memset(&scfg, 0, sizeof(scfg));
	scfg.name = (char *)"mem";
	scfg.poll_interval = 60;
	pings = 0;
}

static void
teardown(void)
{
	char p[300];

	store_close(st);
	lexicon_free(lex);
	calendar_free(cal);
	config_free(&cfg);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

static long long
count(const char *sql)
{
	sqlite3_stmt *s;
	long long n = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL),
	    SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* Exactly once: every key of v stored once, and nothing else. */
static void
assert_once(const struct mem_message *v, size_t n)
{
	char sql[200];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM messages WHERE "
		    "source = 'mem' AND source_key = '%s'", v[i].key);
		ck_assert_msg(count(sql) == 1, "%s stored %lld times", v[i].key,
		    count(sql));
	}
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), (long long)n);
	ck_assert_int_eq(count("SELECT count(*) FROM tickets"), (long long)n);
}

static void
ping(void *arg)
{
	(void)arg;
	pings++;
}

static long long
fake_clock(void *arg)
{
	return *(long long *)arg;
}

static int
poll_once(struct source *src, int batch, struct source_stats *stats,
    char **err)
{
	struct source_run run;

	memset(&run, 0, sizeof(run));
	memset(stats, 0, sizeof(*stats));
	run.ictx = &ictx;
	run.stop = &no_stop;
	run.batch = batch;
	run.progress = ping;
	*err = NULL;
	return source_engine_poll(src, &run, stats, err);
}

/* Poll and expect success; the poll's note is freed. */
static void
poll_ok(struct source *src, int batch, struct source_stats *stats)
{
	char *err;
	int rc = poll_once(src, batch, stats, &err);

	ck_assert_msg(rc == SRC_OK, "poll: %d %s", rc, err ? err : "");
	free(err);
}

START_TEST(test_plain_poll)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5 };
	struct source_stats stats;
	struct source src;
	size_t i;

	memcpy(v, five, sizeof(v));
	source_mem_init(&src, &scfg, &ms);
	poll_ok(&src, 2, &stats);
	ck_assert_int_eq(stats.stored, 5);
	ck_assert_int_eq(stats.fetched, 5);
	ck_assert_int_eq(stats.batches, 3);	/* 2 + 2 + 1 */
	ck_assert_int_eq(stats.waiting, 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(v[i].marked, 1);
	/* the watchdog is fed between messages, not only between batches */
	ck_assert_int_ge(pings, 5);
	poll_ok(&src, 2, &stats);
	ck_assert_int_eq(stats.fetched, 0);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* The stage times (issue 19): each stage counted as often as it ran. */
START_TEST(test_stage_times)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5 };
	struct source_stats stats;
	struct ingest_times t;
	struct source src;
	int i;

	memcpy(v, five, sizeof(v));
	memset(&t, 0, sizeof(t));
	ictx.times = &t;
	source_mem_init(&src, &scfg, &ms);
	poll_ok(&src, 2, &stats);
	ck_assert_int_eq(t.n[STAGE_LIST], 1);
	ck_assert_int_eq(t.n[STAGE_FETCH], 5);
	ck_assert_int_eq(t.n[STAGE_PARSE], 5);
	ck_assert_int_eq(t.n[STAGE_TRIAGE], 5);
	ck_assert_int_eq(t.n[STAGE_STORE], 5);
	ck_assert_int_eq(t.n[STAGE_COMMIT], 3);	/* 2 + 2 + 1 */
	ck_assert_int_eq(t.n[STAGE_MARK], 3);
	for (i = 0; i < STAGE_NSTAGES; i++)
		ck_assert_int_ge(t.ns[i], 0);
	ck_assert_int_gt(t.ns[STAGE_PARSE], 0);
	ck_assert_str_eq(ingest_stage_name(STAGE_COMMIT), "commit");
	ictx.times = NULL;
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* Crisis first (issue 19): batch_done after each batch, told whether it
 * was committed, so what stored reported of a rolled-back batch is
 * dropped.  The third message's callback makes the connection read-only:
 * the fourth cannot be stored, and the second batch rolls back. */
struct batch_log {
	int	 stored;	/* told since the last batch_done */
	int	 calls;
	int	 committed[8];
	int	 told[8];
};

static void
log_stored(void *arg, const struct ingest_result *res)
{
	struct batch_log *b = arg;

	(void)res;
	if (++b->stored == 1 && b->calls == 1)
		ck_assert_int_eq(sqlite3_exec(store_db(st), "PRAGMA query_only "
		    "= 1", NULL, NULL, NULL), SQLITE_OK);
}

static void
log_batch(void *arg, int committed)
{
	struct batch_log *b = arg;

	ck_assert_int_lt(b->calls, 8);
	b->committed[b->calls] = committed;
	b->told[b->calls++] = b->stored;
	b->stored = 0;
}

START_TEST(test_batch_done)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5 };
	struct source_stats stats;
	struct source_run run;
	struct batch_log b;
	struct source src;
	char *err = NULL;

	memcpy(v, five, sizeof(v));
	memset(&b, 0, sizeof(b));
	source_mem_init(&src, &scfg, &ms);
	memset(&run, 0, sizeof(run));
	memset(&stats, 0, sizeof(stats));
	run.ictx = &ictx;
	run.stop = &no_stop;
	run.batch = 2;
	run.stored = log_stored;
	run.stored_arg = &b;
	run.batch_done = log_batch;
	run.batch_done_arg = &b;
	ck_assert_int_eq(source_engine_poll(&src, &run, &stats, &err),
	    SRC_STORE);
	free(err);
	err = NULL;
	ck_assert_int_eq(b.calls, 2);
	ck_assert_int_eq(b.committed[0], 1);	/* k1 k2 */
	ck_assert_int_eq(b.told[0], 2);
	ck_assert_int_eq(b.committed[1], 0);	/* k3 told, then rolled back */
	ck_assert_int_eq(b.told[1], 1);
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 2);
	ck_assert_int_eq(sqlite3_exec(store_db(st), "PRAGMA query_only = 0",
	    NULL, NULL, NULL), SQLITE_OK);
	memset(&stats, 0, sizeof(stats));
	ck_assert_int_eq(source_engine_poll(&src, &run, &stats, &err), SRC_OK);
	free(err);
	ck_assert_int_eq(b.calls, 4);
	ck_assert_int_eq(b.committed[2], 1);	/* k3 k4 */
	ck_assert_int_eq(b.told[2], 2);
	ck_assert_int_eq(b.committed[3], 1);	/* k5 */
	ck_assert_int_eq(b.told[3], 1);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* A crash after the commit, before the messages are marked: the next poll
 * finds them stored and only marks them. */
START_TEST(test_crash_between_commit_and_mark)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5 };
	struct source_stats stats;
	struct source src;
	int status;
	pid_t pid;
	size_t i;

	memcpy(v, five, sizeof(v));
	source_mem_init(&src, &scfg, &ms);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *err;

		signal(SIGABRT, SIG_DFL);
		ms.abort_in_mark = 1;
		(void)poll_once(&src, 100, &stats, &err);
		_exit(0);	/* not reached: mark() aborts */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "the child did not crash in mark (status %d)", status);
	/* committed before the crash; nothing marked in this process */
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 5);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(v[i].marked, 0);
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.fetched, 0);	/* known: only marked */
	ck_assert_int_eq(stats.stored, 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(v[i].marked, 1);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

START_TEST(test_mark_failure)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5, .fail_mark = 1 };
	struct source_stats stats;
	struct source src;
	size_t i;

	memcpy(v, five, sizeof(v));
	source_mem_init(&src, &scfg, &ms);
	poll_ok(&src, 3, &stats);	/* a marking failure fails no poll */
	ck_assert_int_eq(stats.stored, 5);
	poll_ok(&src, 3, &stats);
	ck_assert_int_eq(stats.fetched, 0);
	ms.fail_mark = 0;
	poll_ok(&src, 3, &stats);
	ck_assert_int_eq(stats.fetched, 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(v[i].marked, 1);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* A message the store refuses (a planted trigger), in the middle of a
 * batch: rolled back alone, the others stored in the same poll. */
START_TEST(test_bad_message_mid_batch)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5 };
	struct source_stats stats;
	struct source src;
	char *err;

	memcpy(v, five, sizeof(v));
	ck_assert_int_eq(sqlite3_exec(store_db(st), "CREATE TEMP TRIGGER refuse "
	    "BEFORE INSERT ON messages WHEN NEW.source_key = 'k3' BEGIN "
	    "SELECT RAISE(ABORT, 'planted refusal'); END", NULL, NULL, NULL),
	    SQLITE_OK);
	source_mem_init(&src, &scfg, &ms);
	ck_assert_int_eq(poll_once(&src, 100, &stats, &err), SRC_OK);
	ck_assert_int_eq(stats.stored, 4);
	ck_assert_int_eq(stats.failed, 1);
	ck_assert_int_eq(stats.batches, 1);
	ck_assert_ptr_nonnull(err);	/* the note for intake status */
	ck_assert_msg(strstr(err, "k3") && strstr(err, "planted refusal"),
	    "note: %s", err);
	free(err);
	ck_assert_int_eq(v[2].marked, 0);
	ck_assert_int_eq(v[3].marked, 1);
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE "
	    "source_key = 'k3'"), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM tickets"), 4);
	/* fixed: stored next poll, once */
	ck_assert_int_eq(sqlite3_exec(store_db(st), "DROP TRIGGER refuse", NULL,
	    NULL, NULL), SQLITE_OK);
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.stored, 1);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* A message that can never be read: counted per poll, and on the third a
 * ticket for a human; it never blocks the others, and is recorded once. */
START_TEST(test_poison_message)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5, .use_cursor = 1 };
	struct source_stats stats;
	struct source src;
	int i;

	memcpy(v, five, sizeof(v));
	v[1].data = NULL;	/* k2: every fetch fails */
	source_mem_init(&src, &scfg, &ms);
	for (i = 1; i < SOURCE_POISON_TRIES; i++) {
		poll_ok(&src, 100, &stats);
		ck_assert_int_eq(stats.failed, 1);
		ck_assert_int_eq(stats.poisoned, 0);
		ck_assert_int_eq(count("SELECT count(*) FROM messages"), 4);
		/* the cursor stays before it (uid 1 stored, 2 not) */
		ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 1);
	}
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.poisoned, 1);
	ck_assert_int_eq(stats.failed, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE source_key "
	    "= 'k2' AND parse_status = 'error' AND parse_error LIKE "
	    "'%could not be read%'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM tickets t JOIN messages m "
	    "ON m.ticket_id = t.id WHERE m.source_key = 'k2' AND "
	    "t.needs_human = 1"), 1);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 5);
	ck_assert_int_eq(v[1].marked, 0);	/* left for a human */
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.fetched + stats.failed + stats.poisoned, 0);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* A message the source fails on while failing itself (a connection that
 * drops in its bytes): counted against it, what came before it in the
 * batch committed and marked, the poll ends SRC_TEMP; after
 * SOURCE_POISON_TRIES such polls it is recorded and the rest follow. */
START_TEST(test_failed_temp)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5, .use_cursor = 1 };
	struct source_stats stats;
	struct source src;
	char *err;
	int i;

	memcpy(v, five, sizeof(v));
	v[2].fail_temp = 1;	/* k3 */
	source_mem_init(&src, &scfg, &ms);
	for (i = 1; i <= SOURCE_POISON_TRIES; i++) {
		ck_assert_int_eq(poll_once(&src, 100, &stats, &err), SRC_TEMP);
		ck_assert_msg(err && strstr(err, "k3: planted connection drop"),
		    "err: %s", err ? err : "(null)");
		free(err);
		/* k1 k2 committed and marked in the first; k4 k5 not read */
		ck_assert_int_eq(v[0].marked, 1);
		ck_assert_int_eq(v[1].marked, 1);
		ck_assert_int_eq(v[3].marked + v[4].marked, 0);
		ck_assert_int_eq(stats.batches, 1);
		ck_assert_int_eq(stats.failed, i < SOURCE_POISON_TRIES);
		ck_assert_int_eq(stats.poisoned, i == SOURCE_POISON_TRIES);
	}
	ck_assert_int_eq(count("SELECT count(*) FROM messages m JOIN tickets t "
	    "ON t.id = m.ticket_id WHERE m.source_key = 'k3' AND "
	    "t.needs_human = 1"), 1);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 3);
	ck_assert_int_eq(v[2].marked, 0);	/* left for a human */
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.stored, 2);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* A fetch of several that fails (a server dropping the connection on one
 * message of a batch, test_failed_temp's k3 in one UID FETCH): nothing is
 * counted, but the next polls take each of them alone, which finds k3;
 * it alone is counted, then recorded, and k4 k5 behind it get through. */
START_TEST(test_split_after_failed_prefetch)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5, .use_cursor = 1,
	    .use_prefetch = 1 };
	struct source_stats stats;
	struct source src;
	char *err;
	int i;

	memcpy(v, five, sizeof(v));
	v[2].fail_temp = 1;	/* k3 */
	source_mem_init(&src, &scfg, &ms);
	ck_assert_int_eq(poll_once(&src, 100, &stats, &err), SRC_TEMP);
	free(err);
	ck_assert_int_eq(ms.prefetch_max, 5);
	ck_assert_int_eq(stats.failed, 0);	/* the culprit is unknown */
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 0);
	for (i = 1; i <= SOURCE_POISON_TRIES; i++) {
		ms.prefetch_max = 0;
		ck_assert_int_eq(poll_once(&src, 100, &stats, &err), SRC_TEMP);
		ck_assert_msg(err && strstr(err, "k3: planted"), "err: %s",
		    err ? err : "(null)");
		free(err);
		ck_assert_int_eq(ms.prefetch_max, 1);	/* one at a time */
		/* k1 k2 in the first; the record counts as stored */
		ck_assert_int_eq(stats.stored, i == 1 ? 2 : i == SOURCE_POISON_TRIES);
		ck_assert_int_eq(stats.failed, i < SOURCE_POISON_TRIES);
		ck_assert_int_eq(stats.poisoned, i == SOURCE_POISON_TRIES);
		ck_assert_int_eq(v[3].marked + v[4].marked, 0);
	}
	ms.prefetch_max = ms.prefetches = 0;
	poll_ok(&src, 100, &stats);	/* k4 k5: still suspects, alone */
	ck_assert_int_eq(stats.stored, 2);
	ck_assert_int_eq(stats.batches, 2);
	ck_assert_int_eq(ms.prefetch_max, 1);
	ck_assert_int_eq(v[2].marked, 0);	/* recorded, left for a human */
	ck_assert_int_eq(v[0].marked + v[1].marked + v[3].marked + v[4].marked,
	    4);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 5);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* SRCDRV_FAILURES_SAVED: the counts and the suspects are in the database,
 * so a new process (a fresh struct source: `intaked --once` under cron)
 * goes on counting; without it each starts again at 1. */
static int
fresh_poll(struct mem_source *ms, struct source_stats *stats)
{
	struct source src;
	char *err;
	int rc;

	source_mem_init(&src, &scfg, ms);
	rc = poll_once(&src, 100, stats, &err);
	free(err);
	source_close(&src);
	return rc;
}

static char *
failures_text(void)
{
	sqlite3_stmt *s;
	char *t = NULL;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "SELECT failures "
	    "FROM source_state", -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		t = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return t;
}

START_TEST(test_failures_saved)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5, .use_cursor = 1 };
	struct source_stats stats;
	char *t;
	int i;

	memcpy(v, five, sizeof(v));
	v[1].data = NULL;	/* k2: every fetch fails */
	for (i = 0; i < SOURCE_POISON_TRIES + 1; i++) {	/* in memory only */
		ck_assert_int_eq(fresh_poll(&ms, &stats), SRC_OK);
		ck_assert_int_eq(stats.poisoned, 0);
	}
	ck_assert_ptr_null(failures_text());
	ms.save_failures = 1;
	for (i = 1; i < SOURCE_POISON_TRIES; i++) {
		ck_assert_int_eq(fresh_poll(&ms, &stats), SRC_OK);
		ck_assert_int_eq(stats.failed, 1);
		t = failures_text();
		ck_assert_str_eq(t, i == 1 ? "1 0 k2\n" : "2 0 k2\n");
		free(t);
	}
	ck_assert_int_eq(fresh_poll(&ms, &stats), SRC_OK);
	ck_assert_int_eq(stats.poisoned, 1);
	ck_assert_ptr_null(failures_text());	/* recorded: forgotten */
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 5);
	assert_once(v, 5);
	/* the suspects of a failed prefetch, too */
	ck_assert_int_eq(sqlite3_exec(store_db(st), "DELETE FROM tickets; "
	    "DELETE FROM messages; DELETE FROM source_state", NULL, NULL, NULL),
	    SQLITE_OK);
	memcpy(v, five, sizeof(v));
	v[2].fail_temp = 1;
	ms.use_prefetch = 1;
	ck_assert_int_eq(fresh_poll(&ms, &stats), SRC_TEMP);
	t = failures_text();
	ck_assert_str_eq(t, "0 1 k1\n0 1 k2\n0 1 k3\n0 1 k4\n0 1 k5\n");
	free(t);
	ms.prefetch_max = 0;
	ck_assert_int_eq(fresh_poll(&ms, &stats), SRC_TEMP);
	ck_assert_int_eq(ms.prefetch_max, 1);
	ck_assert_int_eq(stats.stored, 2);
	t = failures_text();	/* k1 k2 passed; k3 counted */
	ck_assert_str_eq(t, "1 1 k3\n0 1 k4\n0 1 k5\n");
	free(t);
}
END_TEST

/* A driver's record(): the ticket for a human keeps what the source can
 * still give (a header: sender, Message-ID) and the driver's text; a
 * record() that fails records nothing, ends the poll, and the next one
 * records it. */
START_TEST(test_record_hook)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5, .use_cursor = 1,
	    .use_record = 1, .fail_record = 1, .use_prefetch = 1 };
	struct source_stats stats;
	struct source src;
	char *err;
	int i;

	memcpy(v, five, sizeof(v));
	v[1].data = NULL;	/* k2 */
	source_mem_init(&src, &scfg, &ms);
	for (i = 1; i < SOURCE_POISON_TRIES; i++)
		poll_ok(&src, 100, &stats);
	ck_assert_int_eq(poll_once(&src, 100, &stats, &err), SRC_TEMP);
	ck_assert_str_eq(err, "k2: planted failure of the record");
	free(err);
	ck_assert_int_eq(stats.poisoned, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE source_key "
	    "= 'k2'"), 0);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 1);
	ms.fail_record = 0;
	ms.prefetched = ms.fetches = 0;
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.poisoned, 1);
	/* not fetched a fourth time, nor prefetched: only recorded (k3-k5
	 * are stored: known) */
	ck_assert_int_eq(ms.fetches, 0);
	ck_assert_int_eq(ms.prefetched, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM messages m JOIN tickets t "
	    "ON t.id = m.ticket_id WHERE m.source_key = 'k2' AND "
	    "t.needs_human = 1 AND m.parse_status = 'error' AND m.parse_error = "
	    "'the memory source could not deliver this message (k2; 3 failed "
	    "attempts)' AND m.from_addr = 'kept-k2@example.net' AND "
	    "m.message_id = 'header-k2@example.net' AND "
	    "m.received_at = 1795000000"), 1);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 5);
	ck_assert_int_eq(v[1].marked, 0);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* SRCDRV_MARK_ALERT: a refused mark is the poll's note every time and a
 * health alert the first time of a run, also across processes (saved with
 * the failures); once marking works the next refusal alerts again. */
START_TEST(test_mark_alert)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 3, .fail_mark = 1,
	    .mark_alert = 1, .save_failures = 1 };
	struct source_stats stats;
	struct source src;
	char *err;
	int i;

	memcpy(v, five, sizeof(v));
	cfg.alerts_webhook = strdup("http://127.0.0.1:9/alerts");
	for (i = 0; i < 2; i++) {	/* two processes */
		source_mem_init(&src, &scfg, &ms);
		ck_assert_int_eq(poll_once(&src, 100, &stats, &err), SRC_OK);
		ck_assert_msg(err && strstr(err, "planted mark failure"),
		    "note: %s", err ? err : "(null)");
		free(err);
		source_close(&src);
	}
	ck_assert_int_eq(count("SELECT count(*) FROM outbox WHERE kind = "
	    "'health' AND payload LIKE '%marking processed messages failed%'"),
	    1);
	ms.fail_mark = 0;
	source_mem_init(&src, &scfg, &ms);
	poll_ok(&src, 100, &stats);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(v[i].marked, 1);
	ms.fail_mark = 1;
	ms.n = 4;
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(count("SELECT count(*) FROM outbox WHERE kind = "
	    "'health'"), 2);
	source_close(&src);
	free(cfg.alerts_webhook);
	cfg.alerts_webhook = NULL;
}
END_TEST

/* MARK_BROKEN: the batch is stored, the poll ends SRC_TEMP, the next one
 * marks what was stored and goes on. */
START_TEST(test_mark_broken)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5, .break_mark = 1 };
	struct source_stats stats;
	struct source src;
	char *err;
	size_t i;

	memcpy(v, five, sizeof(v));
	source_mem_init(&src, &scfg, &ms);
	ck_assert_int_eq(poll_once(&src, 2, &stats, &err), SRC_TEMP);
	ck_assert_str_eq(err, "planted connection drop while marking");
	free(err);
	ck_assert_int_eq(stats.batches, 1);
	ck_assert_int_eq(stats.stored, 2);
	ck_assert_int_eq(ms.fetches, 2);	/* k3... not read */
	ms.break_mark = 0;
	poll_ok(&src, 2, &stats);
	ck_assert_int_eq(stats.stored, 3);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(v[i].marked, 1);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

static char *
cursor_text(void)
{
	sqlite3_stmt *s;
	char *t = NULL;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(st), "SELECT last_uid || "
	    "' ' || coalesce(cursor, '-') FROM source_state", -1, &s, NULL),
	    SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		t = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return t;
}

/* A numeric cursor lists after last_uid, so what a crash between commit
 * and mark left unmarked is never listed again: SRCDRV_MARKED keeps a
 * watermark ("marked=N"), the driver lists from it, and the next poll
 * marks them.  Without it they stay unmarked. */
static void
crash_in_mark(struct mem_source *ms, int batch)
{
	struct source_stats stats;
	struct source src;
	int status;
	pid_t pid;

	source_mem_init(&src, &scfg, ms);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *err;

		signal(SIGABRT, SIG_DFL);
		ms->abort_in_mark = 1;
		(void)poll_once(&src, batch, &stats, &err);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	source_close(&src);
}

START_TEST(test_marked_watermark)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5, .use_cursor = 1 };
	struct source_stats stats;
	struct source src;
	char *t;
	size_t i;
	int changes;

	memcpy(v, five, sizeof(v));
	crash_in_mark(&ms, 3);	/* k1 k2 k3 committed, not marked */
	source_mem_init(&src, &scfg, &ms);
	poll_ok(&src, 3, &stats);
	ck_assert_int_eq(v[0].marked + v[1].marked + v[2].marked, 0);
	source_close(&src);
	/* again, with the watermark */
	ck_assert_int_eq(sqlite3_exec(store_db(st), "DELETE FROM tickets; "
	    "DELETE FROM messages; DELETE FROM source_state", NULL, NULL, NULL),
	    SQLITE_OK);
	memcpy(v, five, sizeof(v));
	ms.use_marked = 1;
	crash_in_mark(&ms, 3);
	t = cursor_text();
	ck_assert_str_eq(t, "3 marked=0");
	free(t);
	source_mem_init(&src, &scfg, &ms);
	poll_ok(&src, 3, &stats);
	ck_assert_int_eq(stats.stored, 2);	/* k4 k5; k1-k3 only marked */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(v[i].marked, 1);
	t = cursor_text();
	ck_assert_str_eq(t, "5 marked=5");
	free(t);
	/* a refused mark holds the watermark; the next poll marks them */
	ms.n = 5;
	ms.fail_mark = 1;
	ck_assert_int_eq(sqlite3_exec(store_db(st), "DELETE FROM tickets; "
	    "DELETE FROM messages; DELETE FROM source_state", NULL, NULL, NULL),
	    SQLITE_OK);
	memset(v, 0, sizeof(v));
	memcpy(v, five, sizeof(v));
	poll_ok(&src, 2, &stats);
	t = cursor_text();
	ck_assert_str_eq(t, "5 marked=0");
	free(t);
	ms.fail_mark = 0;
	poll_ok(&src, 2, &stats);
	ck_assert_int_eq(stats.fetched, 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(v[i].marked, 1);
	t = cursor_text();
	ck_assert_str_eq(t, "5 marked=5");
	free(t);
	changes = sqlite3_total_changes(store_db(st));
	poll_ok(&src, 2, &stats);	/* nothing to do: nothing written */
	ck_assert_int_eq(sqlite3_total_changes(store_db(st)), changes);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* poll_end(): called once a poll's messages are marked, with its outcome;
 * 1 lists again in the same poll (IMAP: mail came while entering IDLE). */
START_TEST(test_poll_end)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 3, .use_cursor = 1,
	    .use_poll_end = 1, .end_arrivals = 2 };
	struct source_stats stats;
	struct source src;
	char *err;

	memcpy(v, five, sizeof(v));
	source_mem_init(&src, &scfg, &ms);
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.stored, 5);	/* 3, then 1 and 1 */
	ck_assert_int_eq(stats.batches, 3);
	ck_assert_int_eq(ms.end_calls, 3);
	ck_assert_int_eq(ms.end_rc, SRC_OK);
	ck_assert_int_eq(v[3].marked + v[4].marked, 2);
	ms.break_mark = 1;	/* a failing poll: told, never listed again */
	ms.end_arrivals = 1;
	ms.end_calls = 0;
	ck_assert_int_eq(sqlite3_exec(store_db(st), "UPDATE source_state SET "
	    "cursor = 'marked=4'", NULL, NULL, NULL), SQLITE_OK);
	ms.use_marked = 1;
	source_close(&src);
	source_mem_init(&src, &scfg, &ms);
	ck_assert_int_eq(poll_once(&src, 100, &stats, &err), SRC_TEMP);
	free(err);
	ck_assert_int_eq(ms.end_calls, 1);
	ck_assert_int_eq(ms.end_rc, SRC_TEMP);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* The cursor never moves back, and never past a message not stored. */
START_TEST(test_cursor_regressions)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 3, .use_cursor = 1 };
	struct source_stats stats;
	struct source src;

	memcpy(v, five, sizeof(v));
	source_mem_init(&src, &scfg, &ms);
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 3);
	/* two more arrive; the server's listing claims a cursor of 1 */
	ms.n = 5;
	ms.regress_to = 1;
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.stored, 2);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 5);
	/* forgotten marks and a cursor that regressed on its own: relisted,
	 * found stored, nothing twice */
	ms.regress_to = 0;
	ck_assert_int_eq(sqlite3_exec(store_db(st), "UPDATE source_state SET "
	    "last_uid = 0", NULL, NULL, NULL), SQLITE_OK);
	v[0].marked = v[3].marked = 0;
	poll_ok(&src, 100, &stats);
	ck_assert_int_eq(stats.fetched, 0);
	ck_assert_int_eq(v[0].marked, 1);
	ck_assert_int_eq(v[3].marked, 1);
	/* a failure in the middle holds the cursor before it */
	ck_assert_int_eq(sqlite3_exec(store_db(st), "DELETE FROM tickets; "
	    "DELETE FROM messages; UPDATE source_state SET last_uid = 0", NULL,
	    NULL, NULL), SQLITE_OK);
	memset(v, 0, sizeof(v));
	memcpy(v, five, sizeof(v));
	v[2].data = NULL;
	poll_ok(&src, 2, &stats);	/* batches {k1,k2} {k3,k4} {k5} */
	ck_assert_int_eq(stats.stored, 4);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 2);
	v[2].data = five[2].data;
	poll_ok(&src, 2, &stats);
	ck_assert_int_eq(stats.stored, 1);
	ck_assert_int_eq(count("SELECT last_uid FROM source_state"), 5);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

/* Entries that are not messages are never read, noted, and left alone. */
START_TEST(test_not_a_message)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 5 };
	struct source_stats stats;
	struct source src;
	char *err;

	memcpy(v, five, sizeof(v));
	v[3].not_message = 1;
	source_mem_init(&src, &scfg, &ms);
	ck_assert_int_eq(poll_once(&src, 100, &stats, &err), SRC_OK);
	ck_assert_int_eq(stats.not_messages, 1);
	ck_assert_int_eq(stats.stored, 4);
	ck_assert_int_eq(stats.waiting, 0);
	ck_assert_msg(err && strstr(err, "k4: not a message"), "note: %s", err);
	free(err);
	ck_assert_int_eq(v[3].marked, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 4);
	source_close(&src);
}
END_TEST

/* No batch may outlast the budget: with parses of up to 10 s and 5 s per
 * fetch, a 30 s budget closes the batch before the sixth message. */
START_TEST(test_batch_budget)
{
	struct mem_message v[5 + 3];
	struct mem_source ms = { .v = v, .n = 8, .clock_step_ms = 5000 };
	struct source_stats stats;
	struct source_run run;
	struct source src;
	long long clock = 1000000;
	char *err = NULL;
	size_t i;

	for (i = 0; i < 8; i++)
		v[i] = five[i % 5];
	v[5].key = "k6";
	v[6].key = "k7";
	v[7].key = "k8";
	/* same bytes: duplicates by content, but each key stored once */
	ms.clock = &clock;
	source_mem_init(&src, &scfg, &ms);
	memset(&run, 0, sizeof(run));
	memset(&stats, 0, sizeof(stats));
	ictx.limits.timeout_ms = 10000;
	run.ictx = &ictx;
	run.stop = &no_stop;
	run.batch = 100;
	run.budget_ms = 30000;
	run.clock_ms = fake_clock;
	run.clock_arg = &clock;
	ck_assert_int_eq(source_engine_poll(&src, &run, &stats, &err), SRC_OK);
	free(err);
	/* before each message after the first: elapsed + 10 s <= 30 s, so
	 * 5 messages (at 0, 5, 10, 15, 20 s), then a new batch */
	ck_assert_int_eq(stats.batches, 2);
	ck_assert_int_eq(stats.fetched, 8);
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 5);
	ck_assert_int_eq(stats.duplicates, 3);
	source_close(&src);
}
END_TEST

/* A driver's prefetch: called once per batch, before its transaction,
 * with only the batch's new messages; a failing one ends the poll with
 * nothing stored or marked. */
START_TEST(test_prefetch)
{
	struct mem_message v[5];
	struct mem_source ms = { .v = v, .n = 2, .fail_mark = 1 };
	struct source_stats stats;
	struct source src;
	char *err;
	size_t i;

	memcpy(v, five, sizeof(v));
	ms.use_prefetch = 1;
	source_mem_init(&src, &scfg, &ms);
	ms.fail_prefetch = 1;
	ck_assert_int_eq(poll_once(&src, 2, &stats, &err), SRC_TEMP);
	ck_assert_str_eq(err, "planted prefetch failure");
	free(err);
	ck_assert_int_eq(ms.fetches, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 0);
	ms.fail_prefetch = 0;
	/* k1, k2 stored, each alone (suspects of the failed prefetch);
	 * marking fails */
	poll_ok(&src, 2, &stats);
	ck_assert_int_eq(stats.stored, 2);
	ck_assert_int_eq(stats.batches, 2);
	ck_assert_int_eq(ms.prefetches, 3);
	ck_assert_int_eq(ms.from_prefetch, 2);
	ms.fail_mark = 0;
	ms.n = 5;
	ms.prefetches = ms.prefetched = ms.prefetch_max = 0;
	ms.from_prefetch = ms.fetches = 0;
	poll_ok(&src, 2, &stats);	/* k1, k2 known: only marked */
	ck_assert_int_eq(stats.stored, 3);
	ck_assert_int_eq(stats.batches, 2);	/* k3 k4, k5 */
	ck_assert_int_eq(ms.prefetches, 2);
	ck_assert_int_eq(ms.prefetched, 3);
	ck_assert_int_eq(ms.prefetch_max, 2);
	ck_assert_int_eq(ms.fetches, 3);
	ck_assert_int_eq(ms.from_prefetch, 3);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(v[i].marked, 1);
		ck_assert_int_eq(v[i].held, 0);
	}
	poll_ok(&src, 2, &stats);	/* nothing new: no prefetch */
	ck_assert_int_eq(ms.prefetches, 2);
	assert_once(v, 5);
	source_close(&src);
}
END_TEST

START_TEST(test_monotonic_clock)
{
	struct timespec mono;
	time_t a, b;

	/* the scheduler's clock is CLOCK_MONOTONIC, not the wall clock */
	a = source_clock();
	clock_gettime(CLOCK_MONOTONIC, &mono);
	b = source_clock();
	ck_assert(a <= mono.tv_sec && mono.tv_sec <= b);
	ck_assert(source_clock_ms() / 1000 >= b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_poll);
	tcase_add_test(tc, test_stage_times);
	tcase_add_test(tc, test_batch_done);
	tcase_add_test(tc, test_crash_between_commit_and_mark);
	tcase_add_test(tc, test_mark_failure);
	tcase_add_test(tc, test_bad_message_mid_batch);
	tcase_add_test(tc, test_poison_message);
	tcase_add_test(tc, test_failed_temp);
	tcase_add_test(tc, test_split_after_failed_prefetch);
	tcase_add_test(tc, test_failures_saved);
	tcase_add_test(tc, test_record_hook);
	tcase_add_test(tc, test_mark_alert);
	tcase_add_test(tc, test_mark_broken);
	tcase_add_test(tc, test_marked_watermark);
	tcase_add_test(tc, test_poll_end);
	tcase_add_test(tc, test_cursor_regressions);
	tcase_add_test(tc, test_not_a_message);
	tcase_add_test(tc, test_batch_budget);
	tcase_add_test(tc, test_prefetch);
	tcase_add_test(tc, test_monotonic_clock);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
