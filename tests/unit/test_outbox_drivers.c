/* SPDX-License-Identifier: MIT */
/*
 * The outbox (outbox.c: the rows and the alert payload) and its delivery
 * (notify.c) against both drivers, SQLite and a real PostgreSQL 15, and on
 * PostgreSQL the claim of a row by two nodes (two connections): a row one
 * node's claim holds is skipped by the other, which gets it once the first
 * rolls back, and a committed claim keeps it from the other node until the
 * claim runs out (a claimer that died mid-send).  The webhook is a child
 * process on a loopback port that answers 200 and writes each body it got
 * to a file; it is stopped by its PID.
 */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "calendar.h"
#include "config.h"
#include "notify.h"
#include "../../daemon/notify_p.h"
#include "outbox.h"
#include "store.h"
#include "util.h"

#include "testlib.h"
#include "pglib.h"
#include "storelib.h"

#define NOW	1796000000LL	/* a fixed instant: the test's clock */

struct hook {
	pid_t	 pid;
	int	 port;
	char	 log[600];
};

/* Read one HTTP request from fd (headers, then Content-Length bytes)
 * and append its body and a newline to log. */
static void
hook_one(int fd, const char *log)
{
	char buf[65536], *hdr_end, *cl;
	size_t len = 0, want = 0;
	ssize_t n;
	FILE *f;

	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if ((hdr_end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		if ((cl = strcasestr(buf, "Content-Length:")) != NULL)
			want = strtoul(cl + 15, NULL, 10);
		if (len >= (size_t)(hdr_end + 4 - buf) + want)
			break;
	}
	buf[len] = '\0';
	if ((hdr_end = strstr(buf, "\r\n\r\n")) != NULL &&
	    (f = fopen(log, "a")) != NULL) {
		fprintf(f, "%s\n", hdr_end + 4);
		fclose(f);
	}
	dprintf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
}

static void
hook_start(struct hook *h, const char *name)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int s, c, one = 1;

	snprintf(h->log, sizeof(h->log), "%s/%s.hook", test_litedir, name);
	unlink(h->log);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 16), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	h->port = ntohs(a.sin_port);
	if ((h->pid = fork()) == 0) {
		for (;;) {
			if ((c = accept(s, NULL, NULL)) < 0)
				_exit(1);
			hook_one(c, h->log);
			close(c);
		}
	}
	ck_assert_int_gt(h->pid, 0);
	close(s);
}

static void
hook_stop(struct hook *h)
{
	/* SIGKILL: the child has check's SIGTERM handler, which would take
	 * the test's process group with it */
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
}

/* The bodies the hook got, one a line (NULL: none); caller frees. */
static char *
hook_bodies(const struct hook *h)
{
	char *text = NULL;
	size_t len;

	if (read_file(h->log, 1 << 20, &text, &len) != 0)
		return NULL;
	return text;
}

static int
hook_count(const struct hook *h)
{
	char *text = hook_bodies(h), *p;
	int n = 0;

	for (p = text; p && *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

/* Ticket 1, urgent crisis, minor; message 1 answered, 2 unanswered. */
static void
seed(struct store *st)
{
	exec_sql(st, "INSERT INTO tickets (id, type, urgency, minor, danger, "
	    "received_at, response_due, breach_at, created_at, updated_at) "
	    "VALUES (1, 'crisis', 'urgent', 1, 0, 1795999000, 1795999900, "
	    "1796002600, 1795999000, 1795999000)");
	exec_sql(st, "INSERT INTO messages (id, ticket_id, source, sha256, raw, "
	    "size, received_at, text, parse_status, created_at, responded_at) "
	    "VALUES (1, 1, 'box', 'a', 'x', 1, 1795999000, 'first', 'ok', "
	    "1795999000, 1795999500)");
	exec_sql(st, "INSERT INTO messages (id, ticket_id, source, sha256, raw, "
	    "size, received_at, text, parse_status, created_at) VALUES (2, 1, "
	    "'box', 'b', 'y', 1, 1795999600, 'help me please', 'ok', "
	    "1795999600)");
}

static void
cfg_hook(struct config *cfg, int port)
{
	config_defaults(cfg);
	/* the subject tags' key beside it (tag.h) */
	free(cfg->database);
	cfg->database = xasprintf("%s/tags.db", test_litedir);
	free(cfg->alerts_webhook);
	cfg->alerts_webhook = port ? xasprintf("http://127.0.0.1:%d/hook",
	    port) : NULL;
}

/* The payload of outbox row id, parsed. */
static json_t *
row_payload(struct store *st, long long id)
{
	static const struct query q = {
		"SELECT payload FROM outbox WHERE id = ?1", NULL };
	struct stmt *s;
	json_t *p;
	int rc;

	s = store_prepare(st, &q, &rc);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_bind_int64(s, 1, id), STORE_OK);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	p = json_loads(store_col_text(s, 0, NULL), 0, NULL);
	store_done(s);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* The payload and the rows queued, on both drivers. */
START_TEST(test_queue_payload)
{
	struct target t;
	struct store *st;
	struct config cfg;
	json_t *p;
	int rc;

	target_new(_i, "queue", &t);
	st = target_open(&t);
	seed(st);
	cfg_hook(&cfg, 9);
	cfg.alerts_include_excerpt = 1;
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(outbox_queue_alert(st, &cfg, NULL, 1, "new", NOW), 1);
	ck_assert_int_eq(outbox_queue_health(st, &cfg, "box", "source stale",
	    NULL, NOW), 1);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM outbox"), 2);
	ck_assert_int_eq(int_of(st, "SELECT ticket_id FROM outbox WHERE "
	    "kind = 'alert' AND channel = 'webhook'"), 1);
	ck_assert_int_eq(int_of(st, "SELECT ticket_id FROM outbox WHERE "
	    "kind = 'health'"), -1);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM outbox WHERE "
	    "created_at = 1796000000 AND next_attempt_at = 1796000000 AND "
	    "attempts = 0 AND delivered_at IS NULL"), 2);
	p = row_payload(st, int_of(st, "SELECT id FROM outbox WHERE "
	    "kind = 'alert'"));
	ck_assert_str_eq(json_string_value(json_object_get(p, "type")),
	    "crisis");
	ck_assert(json_is_true(json_object_get(p, "minor")));
	ck_assert(json_is_false(json_object_get(p, "danger")));
	/* the newest unanswered message, and the count */
	ck_assert_int_eq(json_integer_value(json_object_get(p, "message")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(p, "messages")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(p, "excerpt")),
	    "help me please");
	ck_assert_ptr_nonnull(json_string_value(json_object_get(p,
	    "breach_at")));
	json_decref(p);
	/* a ticket that is not there */
	ck_assert_ptr_null(outbox_alert_payload(st, &cfg, 99, "new", &rc));
	ck_assert_int_eq(rc, STORE_ERR);
	config_free(&cfg);
	store_close(st);
}
END_TEST

/* Delivery: success (delivered, an alert event), failure (rescheduled
 * with the error), the crisis-first call; on both drivers. */
START_TEST(test_deliver)
{
	struct target t;
	struct store *st;
	struct config cfg;
	struct hook h;
	long long tickets[1] = { 1 };
	char *bodies;

	target_new(_i, "deliver", &t);
	st = target_open(&t);
	seed(st);
	hook_start(&h, "deliver");
	cfg_hook(&cfg, h.port);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(outbox_queue_health(st, &cfg, "box", "source stale",
	    NULL, NOW), 1);
	ck_assert_int_eq(outbox_queue_alert(st, &cfg, NULL, 1, "new", NOW), 1);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	/* not due yet */
	ck_assert_int_eq(notify_deliver_due(st, &cfg, NOW - 1, 100), 0);
	ck_assert_int_eq(notify_deliver_due(st, &cfg, NOW, 100), 2);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM outbox WHERE "
	    "delivered_at IS NOT NULL AND attempts = 1 AND last_error IS "
	    "NULL"), 2);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM events WHERE "
	    "ticket_id = 1 AND kind = 'alert' AND actor = 'intaked'"), 1);
	/* the alert before the health row, though queued after it */
	bodies = hook_bodies(&h);
	ck_assert_ptr_nonnull(bodies);
	ck_assert_ptr_nonnull(strstr(bodies, "\"kind\":\"alert\""));
	ck_assert(strstr(bodies, "\"kind\":\"alert\"") <
	    strstr(bodies, "\"kind\":\"health\""));
	free(bodies);
	ck_assert_int_eq(notify_deliver_due(st, &cfg, NOW + 10, 100), 0);
	ck_assert_int_eq(hook_count(&h), 2);

	/* the hook gone: a failure, rescheduled */
	hook_stop(&h);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(outbox_queue_alert(st, &cfg, NULL, 1, "message",
	    NOW + 20), 1);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(notify_deliver_tickets(st, &cfg, NOW + 20, tickets,
	    1), 0);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM outbox WHERE "
	    "delivered_at IS NULL AND attempts = 1 AND last_error IS NOT NULL "
	    "AND next_attempt_at >= 1796000050 AND next_attempt_at <= "
	    "1796000053"), 1);
	/* back: the retry when due, by the crisis-first call */
	hook_start(&h, "deliver2");
	free(cfg.alerts_webhook);
	cfg.alerts_webhook = xasprintf("http://127.0.0.1:%d/hook", h.port);
	ck_assert_int_eq(notify_deliver_tickets(st, &cfg, NOW + 40, tickets,
	    1), 0);
	ck_assert_int_eq(notify_deliver_tickets(st, &cfg, NOW + 60, tickets,
	    1), 1);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM outbox WHERE "
	    "delivered_at IS NULL"), 0);
	ck_assert_int_eq(int_of(st, "SELECT max(attempts) FROM outbox"), 2);
	ck_assert_int_eq(hook_count(&h), 1);
	hook_stop(&h);
	config_free(&cfg);
	store_close(st);
}
END_TEST

/* SQLite: the claim touches nothing (one writer on one machine). */
START_TEST(test_claim_sqlite_noop)
{
	struct target t;
	struct store *st;
	struct config cfg;
	int attempts = -1;

	target_new(DRV_SQLITE, "claimlite", &t);
	st = target_open(&t);
	seed(st);
	cfg_hook(&cfg, 9);
	ck_assert_int_eq(outbox_queue(st, "alert", "webhook", 1, "{}", NOW),
	    STORE_OK);
	ck_assert_int_eq(notify_claim(st, 1, NOW, &attempts), 1);
	ck_assert_int_eq(attempts, -1);
	ck_assert_int_eq(int_of(st, "SELECT next_attempt_at FROM outbox"),
	    NOW);
	config_free(&cfg);
	store_close(st);
}
END_TEST

/*
 * Two nodes: A's claim (its transaction open) holds the row; B's claim
 * skips it at once instead of waiting; after A rolls back B gets it.  B's
 * committed claim keeps it from A until NOTIFY_CLAIM_SECS have passed.
 */
START_TEST(test_claim_skip_locked)
{
	struct target t;
	struct store *a, *b;
	int att = -1;

	target_new(DRV_PG, "claim", &t);
	a = target_open(&t);
	/* a lock wait would fail B's claim with STORE_TEMP after 1 ms, not
	 * skip the row: SKIP LOCKED is what returns 0 */
	b = target_open_rc(&t, 0, 0, NULL, NULL);
	seed(a);
	ck_assert_int_eq(outbox_queue(a, "alert", "webhook", 1, "{}", NOW),
	    STORE_OK);
	exec_sql(a, "UPDATE outbox SET attempts = 3");

	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(notify_claim(a, 1, NOW, &att), 1);
	ck_assert_int_eq(att, 3);
	ck_assert_int_eq(store_begin(b), STORE_OK);
	ck_assert_int_eq(notify_claim(b, 1, NOW, &att), 0);
	store_rollback(b);
	store_rollback(a);

	att = -1;
	ck_assert_int_eq(store_begin(b), STORE_OK);
	ck_assert_int_eq(notify_claim(b, 1, NOW, &att), 1);
	ck_assert_int_eq(att, 3);
	ck_assert_int_eq(store_commit(b), STORE_OK);
	ck_assert_int_eq(int_of(a, "SELECT next_attempt_at FROM outbox"),
	    NOW + NOTIFY_CLAIM_SECS);
	/* claimed: not A's, until B's claim runs out */
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(notify_claim(a, 1, NOW + 1, &att), 0);
	ck_assert_int_eq(notify_claim(a, 1, NOW + NOTIFY_CLAIM_SECS, &att), 1);
	ck_assert_int_eq(store_commit(a), STORE_OK);
	/* a row sent is nobody's */
	exec_sql(a, "UPDATE outbox SET delivered_at = 1796000001");
	ck_assert_int_eq(store_begin(b), STORE_OK);
	ck_assert_int_eq(notify_claim(b, 1, NOW + 1000, &att), 0);
	store_rollback(b);
	store_close(a);
	store_close(b);
}
END_TEST

/*
 * Delivery by two nodes: a row node A claimed (and is sending) is not
 * sent by B; B's round sends the rest; if A never records an outcome
 * (it died), B sends the row once the claim has run out.  And a row
 * A's open claim transaction holds is skipped by B's round.
 */
START_TEST(test_deliver_two_nodes)
{
	struct target t;
	struct store *a, *b;
	struct config cfg;
	struct hook h;
	int att;

	target_new(DRV_PG, "twonodes", &t);
	a = target_open(&t);
	b = target_open_rc(&t, 0, 0, NULL, NULL);
	seed(a);
	hook_start(&h, "twonodes");
	cfg_hook(&cfg, h.port);
	ck_assert_int_eq(outbox_queue(a, "alert", "webhook", 1,
	    "{\"n\":1}", NOW), STORE_OK);
	ck_assert_int_eq(outbox_queue(a, "alert", "webhook", 1,
	    "{\"n\":2}", NOW), STORE_OK);
	ck_assert_int_eq(outbox_queue(a, "alert", "webhook", 1,
	    "{\"n\":3}", NOW), STORE_OK);
	/* A has claimed row 1 (committed: it is sending it now) */
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(notify_claim(a, 1, NOW, &att), 1);
	ck_assert_int_eq(store_commit(a), STORE_OK);
	/* and holds row 2 in an open claim transaction */
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(notify_claim(a, 2, NOW, &att), 1);
	ck_assert_int_eq(notify_deliver_due(b, &cfg, NOW, 100), 1);
	ck_assert_int_eq(hook_count(&h), 1);
	ck_assert_int_eq(int_of(b, "SELECT delivered_at IS NOT NULL FROM "
	    "outbox WHERE id = 3"), 1);
	store_rollback(a);
	/* A's open claim gone: row 2 is B's; row 1 is A's until it runs out */
	ck_assert_int_eq(notify_deliver_due(b, &cfg, NOW + 1, 100), 1);
	ck_assert_int_eq(int_of(b, "SELECT delivered_at IS NOT NULL FROM "
	    "outbox WHERE id = 2"), 1);
	ck_assert_int_eq(notify_deliver_due(b, &cfg, NOW + NOTIFY_CLAIM_SECS,
	    100), 1);
	ck_assert_int_eq(int_of(b, "SELECT count(*) FROM outbox WHERE "
	    "delivered_at IS NULL"), 0);
	ck_assert_int_eq(hook_count(&h), 3);
	ck_assert_int_eq(notify_deliver_due(a, &cfg, NOW + 1000, 100), 0);
	ck_assert_int_eq(hook_count(&h), 3);
	hook_stop(&h);
	config_free(&cfg);
	store_close(a);
	store_close(b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("outbox_drivers");
	TCase *tc = tcase_create("outbox");
	SRunner *sr;
	int nf, skip;

	skip = targets_start();
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_queue_payload, 0, targets_n());
	tcase_add_loop_test(tc, test_deliver, 0, targets_n());
	tcase_add_test(tc, test_claim_sqlite_noop);
	if (test_have_pg) {
		tcase_add_test(tc, test_claim_skip_locked);
		tcase_add_test(tc, test_deliver_two_nodes);
	}
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	targets_stop();
	if (nf != 0)
		return 1;
	return skip == 77 ? 77 : 0;
}
