/* SPDX-License-Identifier: MIT */
/*
 * The escalation's steps (escalate.c), the reminder's records (remind.c)
 * and the once-only records of the health alerts (health.c: intaked's
 * stale sources and rota gaps, the listener's refusals) against both
 * drivers, SQLite and a real PostgreSQL 15; on PostgreSQL two nodes
 * taking the same escalation step, or asking for the same refusal alert,
 * at once: the second waits for the first's commit and takes nothing (no
 * second page, no error).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "calendar.h"
#include "config.h"
#include "escalate.h"
#include "health.h"
#include "remind.h"
#include "report.h"
#include "store.h"
#include "util.h"

#include "testlib.h"
#include "pglib.h"
#include "storelib.h"

#define NOW	1796000000LL	/* response_due + 100 s */

/* Ticket 1, urgent, awaiting message 2, response_due passed 100 s ago. */
static void
seed(struct store *st)
{
	exec_sql(st, "INSERT INTO tickets (id, type, urgency, received_at, "
	    "response_due, breach_at, created_at, updated_at, awaiting_since, "
	    "awaiting_message) VALUES (1, 'crisis', 'urgent', 1795999000, "
	    "1795999900, 1796002600, 1795999000, 1795999000, 1795999600, 2)");
	exec_sql(st, "INSERT INTO messages (id, ticket_id, source, sha256, raw, "
	    "size, received_at, text, parse_status, created_at) VALUES (2, 1, "
	    "'box', 'b', 'y', 1, 1795999600, 'help', 'ok', 1795999600)");
	/* routine, and automated: never escalated */
	exec_sql(st, "INSERT INTO tickets (id, type, urgency, received_at, "
	    "response_due, created_at, updated_at, awaiting_since, "
	    "awaiting_message) VALUES (2, 'general', 'routine', 1795999000, "
	    "1795999100, 1795999000, 1795999000, 1795999000, 0)");
	exec_sql(st, "INSERT INTO tickets (id, type, urgency, automated, "
	    "received_at, response_due, created_at, updated_at, "
	    "awaiting_since, awaiting_message) VALUES (3, 'crisis', 'urgent', "
	    "1, 1795999000, 1795999100, 1795999000, 1795999000, 1795999000, 0)");
}

/* Two steps: at response_due (alerts.to's fallback), then every 30 min;
 * the webhook never answers (port 9: nothing is delivered here). */
static void
cfg_steps(struct config *cfg)
{
	config_defaults(cfg);
	free(cfg->database);
	cfg->database = xasprintf("%s/tags.db", test_litedir);
	cfg->alerts_webhook = xstrdup("http://127.0.0.1:9/hook");
	free(cfg->escalation);		/* the defaults' steps list no address */
	cfg->escalation = xcalloc(2, sizeof(*cfg->escalation));
	cfg->nescalation = 2;
	cfg->escalation[0].after = ESC_AFTER_RESPONSE_DUE;
	cfg->escalation[0].notify = ESC_NOTIFY_ONCALL;
	cfg->escalation[1].after = ESC_REPEAT;
	cfg->escalation[1].repeat_minutes = 30;
	cfg->escalation[1].notify = ESC_NOTIFY_ESCALATION;
}

START_TEST(test_escalate)
{
	struct target t;
	struct store *st;
	struct config cfg;
	json_t *p;
	char *text;
	struct query q = { "SELECT payload FROM outbox WHERE ticket_id = 1 "
	    "ORDER BY id", NULL };
	struct stmt *s;
	int rc;

	target_new(_i, "escalate", &t);
	st = target_open(&t);
	seed(st);
	cfg_steps(&cfg);
	ck_assert_int_eq(escalate_run(st, &cfg, NULL, NOW - 101), 0);
	ck_assert_int_eq(escalate_run(st, &cfg, NULL, NOW), 1);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM escalations WHERE "
	    "ticket_id = 1 AND message_id = 2 AND step = 0 AND seq = 0 AND "
	    "at = 1796000000"), 1);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM escalations"), 1);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM outbox WHERE "
	    "ticket_id = 1 AND kind = 'alert' AND channel = 'webhook'"), 1);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM events WHERE "
	    "ticket_id = 1 AND kind = 'escalate'"), 1);
	s = store_prepare(st, &q, &rc);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_step(s), STORE_ROW);
	text = xstrdup(store_col_text(s, 0, NULL));
	store_done(s);
	p = json_loads(text, 0, NULL);
	free(text);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(json_string_value(json_object_get(p, "step")),
	    "escalation 1 of 2: response_due");
	ck_assert_str_eq(json_string_value(json_object_get(p, "key")),
	    "intake-escalate-1-2-0-0");
	json_decref(p);
	/* taken once */
	ck_assert_int_eq(escalate_run(st, &cfg, NULL, NOW + 60), 0);
	/* the repeat, 30 min after response_due */
	ck_assert_int_eq(escalate_run(st, &cfg, NULL, 1795999900 + 1800), 1);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM escalations WHERE "
	    "step = 1 AND seq = 1"), 1);
	ck_assert_int_eq(escalate_run(st, &cfg, NULL, 1795999900 + 1810), 0);
	/* answered: no more */
	exec_sql(st, "UPDATE tickets SET awaiting_since = NULL WHERE id = 1");
	ck_assert_int_eq(escalate_run(st, &cfg, NULL, 1795999900 + 3600), 0);
	config_free(&cfg);
	store_close(st);
}
END_TEST

struct node {
	struct store	*st;
	struct config	*cfg;
	int		 rc;
};

static void *
node_run(void *arg)
{
	struct node *n = arg;

	n->rc = escalate_run(n->st, n->cfg, NULL, NOW);
	return NULL;
}

/*
 * A holds the step's escalations row uncommitted (its step under way);
 * B's scan finds the step untaken and B's insert waits on the key; A
 * commits; B then takes nothing: one step, one page, no error.
 */
START_TEST(test_escalate_two_nodes)
{
	struct target t;
	struct store *a;
	struct config cfg;
	struct node b;
	pthread_t th;
	PGconn *admin;
	PGresult *r;
	int i, waiting = 0;

	target_new(DRV_PG, "esc2", &t);
	a = target_open(&t);
	seed(a);
	cfg_steps(&cfg);
	b.st = target_open_rc(&t, 0, 60000, NULL, NULL);
	b.cfg = &cfg;
	admin = test_pg_connect(&test_pgsrv, "t_esc2");

	ck_assert_int_eq(store_begin(a), STORE_OK);
	exec_sql(a, "INSERT INTO escalations (ticket_id, message_id, step, "
	    "seq, at) VALUES (1, 2, 0, 0, 1796000000)");
	ck_assert_int_eq(pthread_create(&th, NULL, node_run, &b), 0);
	/* bounded poll: B waits on A's row lock */
	for (i = 0; i < 600 && !waiting; i++) {
		r = PQexec(admin, "SELECT count(*) FROM pg_stat_activity WHERE "
		    "datname = 't_esc2' AND wait_event_type = 'Lock'");
		waiting = PQresultStatus(r) == PGRES_TUPLES_OK &&
		    strcmp(PQgetvalue(r, 0, 0), "0") != 0;
		PQclear(r);
		if (!waiting)
			usleep(100000);
	}
	ck_assert_msg(waiting, "B never waited on A's step");
	ck_assert_int_eq(store_commit(a), STORE_OK);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_int_eq(int_of(a, "SELECT count(*) FROM escalations"), 1);
	ck_assert_int_eq(int_of(a, "SELECT count(*) FROM outbox"), 0);
	ck_assert_int_eq(int_of(a, "SELECT count(*) FROM events"), 0);
	PQfinish(admin);
	store_close(b.st);
	store_close(a);
	config_free(&cfg);
}
END_TEST

/* The reminders and the slot recorded; a second record of the slot (the
 * same report sent again) adds nothing and keeps one slot row; a
 * recorded slot is done. */
START_TEST(test_remind_record)
{
	struct target t;
	struct store *st;
	struct config cfg;
	struct calendar *cal;
	struct remind_report r, c;
	struct report_row row;
	const char *why;
	int due = REMIND_RESPONSE | REMIND_BREACH;
	time_t at;

	target_new(_i, "remind", &t);
	st = target_open(&t);
	seed(st);
	config_defaults(&cfg);
	test_office_zone("UTC");
	cal = test_calendar_new(&cfg);
	at = test_at("2026-12-01T08:40:00-05:00");
	memset(&r, 0, sizeof(r));
	memset(&row, 0, sizeof(row));
	row.id = 1;
	row.response_due = 1795999900;
	row.breach_at = 1796002600;
	r.now = at;
	snprintf(r.day, sizeof(r.day), "2026-12-01");
	snprintf(r.slot, sizeof(r.slot), "2026-12-01 08:30");
	r.rows.v = &row;
	r.rows.n = 1;
	r.due = &due;
	ck_assert_int_eq(remind_record(st, &r), STORE_OK);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM reminders WHERE "
	    "ticket_id = 1 AND day = '2026-12-01'"), 2);
	ck_assert_int_eq(int_of(st, "SELECT deadline FROM reminders WHERE "
	    "kind = 'breach_at'"), 1796002600);
	ck_assert_int_eq(int_of(st, "SELECT tickets FROM remind_runs WHERE "
	    "slot = '2026-12-01 08:30'"), 1);
	r.now = at + 60;
	ck_assert_int_eq(remind_record(st, &r), STORE_OK);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM reminders"), 2);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM remind_runs"), 1);
	ck_assert_int_eq(int_of(st, "SELECT sent_at FROM remind_runs"),
	    (long long)at + 60);
	/* the slot is done (before any ticket is read) */
	ck_assert_int_eq(remind_collect(st, cal, &cfg, at + 120, &c, &why),
	    REMIND_NOTHING);
	ck_assert_str_eq(why, "this slot's report was already sent");
	remind_report_free(&c);
	calendar_free(cal);
	config_free(&cfg);
	store_close(st);
}
END_TEST

/* Stale once per outage, refusals counted, the burst alert once per
 * window, a gap once per day. */
START_TEST(test_health)
{
	struct target t;
	struct store *st;

	target_new(_i, "health", &t);
	st = target_open(&t);
	/* no row yet: nothing to mark (the first poll makes it) */
	ck_assert_int_eq(health_mark_stale(st, "box", NOW), 0);
	exec_sql(st, "INSERT INTO source_state (source) VALUES ('box')");
	ck_assert_int_eq(health_mark_stale(st, "box", NOW), 1);
	ck_assert_int_eq(health_mark_stale(st, "box", NOW + 60), 0);
	ck_assert_int_eq(int_of(st, "SELECT stale_alerted_at FROM "
	    "source_state"), NOW);

	ck_assert_int_eq(health_count_refusal(st, "hook", NOW), STORE_OK);
	ck_assert_int_eq(health_count_refusal(st, "hook", NOW + 5), STORE_OK);
	ck_assert_int_eq(int_of(st, "SELECT refused FROM source_state WHERE "
	    "source = 'hook'"), 2);
	ck_assert_int_eq(int_of(st, "SELECT refused_at FROM source_state "
	    "WHERE source = 'hook'"), NOW + 5);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(health_refusal_alert_due(st, "hook", 300, NOW + 5), 1);
	ck_assert_int_eq(store_commit(st), STORE_OK);
	ck_assert_int_eq(int_of(st, "SELECT refused_alerted_at FROM "
	    "source_state WHERE source = 'hook'"), NOW + 5);
	ck_assert_int_eq(store_begin(st), STORE_OK);
	ck_assert_int_eq(health_refusal_alert_due(st, "hook", 300, NOW + 304),
	    0);
	/* a clock stepped back: the alert is not held off */
	ck_assert_int_eq(health_refusal_alert_due(st, "hook", 300, NOW), 1);
	ck_assert_int_eq(health_refusal_alert_due(st, "hook", 300, NOW + 300),
	    1);
	ck_assert_int_eq(store_commit(st), STORE_OK);

	ck_assert_int_eq(health_gap_once(st, NOW + 3600, NOW + 7200,
	    "2026-12-01", NOW), 1);
	ck_assert_int_eq(health_gap_once(st, NOW + 3600, NOW + 7200,
	    "2026-12-01", NOW + 60), 0);
	ck_assert_int_eq(health_gap_once(st, NOW + 3600, NOW + 7200,
	    "2026-12-02", NOW + 86400), 1);
	ck_assert_int_eq(int_of(st, "SELECT count(*) FROM oncall_gaps"), 2);
	store_close(st);
}
END_TEST

struct asker {
	struct store	*st;
	int		 rc;
};

static void *
ask_run(void *arg)
{
	struct asker *k = arg;

	if ((k->rc = store_begin(k->st)) != STORE_OK)
		return NULL;
	k->rc = health_refusal_alert_due(k->st, "hook", 300, NOW + 1);
	if (k->rc >= 0)
		(void)store_commit(k->st);
	else
		store_rollback(k->st);
	return NULL;
}

/* Two nodes' listeners see a burst at once: A's check holds the row; B's
 * waits, then sees A's alert and sends none. */
START_TEST(test_refusal_two_nodes)
{
	struct target t;
	struct store *a;
	struct asker b;
	pthread_t th;
	PGconn *admin;
	PGresult *r;
	int i, waiting = 0;

	target_new(DRV_PG, "refuse2", &t);
	a = target_open(&t);
	b.st = target_open_rc(&t, 0, 60000, NULL, NULL);
	admin = test_pg_connect(&test_pgsrv, "t_refuse2");
	ck_assert_int_eq(health_count_refusal(a, "hook", NOW), STORE_OK);
	ck_assert_int_eq(store_begin(a), STORE_OK);
	ck_assert_int_eq(health_refusal_alert_due(a, "hook", 300, NOW), 1);
	ck_assert_int_eq(pthread_create(&th, NULL, ask_run, &b), 0);
	for (i = 0; i < 600 && !waiting; i++) {
		r = PQexec(admin, "SELECT count(*) FROM pg_stat_activity WHERE "
		    "datname = 't_refuse2' AND wait_event_type = 'Lock'");
		waiting = PQresultStatus(r) == PGRES_TUPLES_OK &&
		    strcmp(PQgetvalue(r, 0, 0), "0") != 0;
		PQclear(r);
		if (!waiting)
			usleep(100000);
	}
	ck_assert_msg(waiting, "B never waited on A's check");
	ck_assert_int_eq(store_commit(a), STORE_OK);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_int_eq(int_of(a, "SELECT refused_alerted_at FROM "
	    "source_state"), NOW);
	PQfinish(admin);
	store_close(b.st);
	store_close(a);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("loop_drivers");
	TCase *tc = tcase_create("loop");
	SRunner *sr;
	int nf, skip;

	skip = targets_start();
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_escalate, 0, targets_n());
	tcase_add_loop_test(tc, test_remind_record, 0, targets_n());
	tcase_add_loop_test(tc, test_health, 0, targets_n());
	if (test_have_pg) {
		tcase_add_test(tc, test_escalate_two_nodes);
		tcase_add_test(tc, test_refusal_two_nodes);
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
