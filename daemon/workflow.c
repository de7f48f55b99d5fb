/* SPDX-License-Identifier: MIT */
/*
 * workflow.c: staff actions on one ticket.  Shape of every action: BEGIN
 * IMMEDIATE (so the read and the write see the same row), read the ticket,
 * decide, UPDATE, append the event, COMMIT; any error rolls back.  On the
 * store's statement API (both drivers): PostgreSQL's BEGIN reads a row
 * without locking it, so the read takes FOR UPDATE there.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmt.h"
#include "outbox.h"
#include "sla.h"
#include "util.h"
#include "workflow.h"

/* The columns an action needs to decide. */
struct ticket_state {
	enum call_type	 type;
	enum urgency	 urgency;
	int		 minor, danger, automated;
	int		 open;
	time_t		 received_at, response_due, breach_at, acknowledged_at;
	time_t		 awaiting_since;	/* earliest unanswered, or 0 */
	char		*acknowledged_by;
	char		*assignee;
	char		*disposition;
};

static void
state_free(struct ticket_state *t)
{
	free(t->acknowledged_by);
	free(t->assignee);
	free(t->disposition);
	memset(t, 0, sizeof(*t));
}

static char *
dup_col(struct stmt *s, int i)
{
	const char *t = store_col_text(s, i, NULL);

	return t ? xstrdup(t) : NULL;
}

static const struct query q_load = {
	"SELECT type, urgency, minor, danger, automated, status, received_at, "
	"response_due, breach_at, acknowledged_at, acknowledged_by, assignee, "
	"disposition, awaiting_since FROM tickets WHERE id = ?1",
	/* SQLite's BEGIN IMMEDIATE already holds the write lock */
	"SELECT type, urgency, minor, danger, automated, status, received_at, "
	"response_due, breach_at, acknowledged_at, acknowledged_by, assignee, "
	"disposition, awaiting_since FROM tickets WHERE id = $1 FOR UPDATE"
};

/* STORE_OK with *found, or a STORE_* error. */
static int
load_state(struct store *st, long long id, struct ticket_state *t, int *found)
{
	struct stmt *s;
	const char *status;
	int rc;

	memset(t, 0, sizeof(*t));
	*found = 0;
	if ((s = store_prepare(st, &q_load, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, id)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW) {
		*found = 1;
		if (call_type_parse(store_col_text(s, 0, NULL), &t->type) == -1)
			t->type = CT_UNCLASSIFIED;
		if (urgency_parse(store_col_text(s, 1, NULL), &t->urgency) == -1)
			t->urgency = URG_NONE;
		t->minor = (int)store_col_int64(s, 2);
		t->danger = (int)store_col_int64(s, 3);
		t->automated = (int)store_col_int64(s, 4);
		status = store_col_text(s, 5, NULL);
		t->open = status && strcmp(status, "open") == 0;
		t->received_at = (time_t)store_col_int64(s, 6);
		t->response_due = (time_t)store_col_int64(s, 7);
		t->breach_at = (time_t)store_col_int64(s, 8);
		t->acknowledged_at = (time_t)store_col_int64(s, 9);
		t->acknowledged_by = dup_col(s, 10);
		t->assignee = dup_col(s, 11);
		t->disposition = dup_col(s, 12);
		t->awaiting_since = (time_t)store_col_int64(s, 13);
	}
	store_done(s);
	return rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
}

/* Append the event (detail is consumed). */
static int
event(struct store *st, long long id, time_t now, const char *actor,
    const char *kind, json_t *detail)
{
	char *text;
	int rc;

	text = detail ? json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
	json_decref(detail);
	rc = store_event(st, id, (long long)now, actor, kind, text ? text : "{}");
	free(text);
	return rc;
}

/* BEGIN and load; on WF_NOTFOUND or error the transaction is gone. */
static int
begin_load(struct store *st, long long id, struct ticket_state *t)
{
	int rc, found;

	memset(t, 0, sizeof(*t));
	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	if ((rc = load_state(st, id, t, &found)) != STORE_OK) {
		store_rollback(st);
		return rc;
	}
	if (!found) {
		store_rollback(st);
		return WF_NOTFOUND;
	}
	return WF_OK;
}

/* Commit when rc is STORE_OK, else roll back; frees the state. */
static int
finish(struct store *st, struct ticket_state *t, int rc)
{
	if (rc == STORE_OK)
		rc = store_commit(st);
	else
		store_rollback(st);
	state_free(t);
	return rc;
}

/*
 * A person answered: every contact message stored up to now is answered
 * (one that arrives a second later is not), and the ticket waits for
 * nobody.  Returns the number of messages answered, or a STORE_* code.
 */
static int
answer_messages(struct store *st, long long id, time_t now)
{
	static const struct query q_answer = {
		"UPDATE messages SET responded_at = ? WHERE ticket_id = ? AND "
		"responded_at IS NULL AND direction = 'in'", NULL };
	static const struct query q_waits_none = {
		"UPDATE tickets SET awaiting_since = NULL, awaiting_message = "
		"NULL WHERE id = ?", NULL };
	long long n;
	int rc;

	if ((n = store_exec(st, &q_answer, "ii", (long long)now, id)) < 0)
		return (int)n;
	if ((rc = store_rc_of(store_exec(st, &q_waits_none, "i", id))) != STORE_OK)
		return rc;
	return (int)n;
}

static const struct query q_touch = {
	"UPDATE tickets SET updated_at = ? WHERE id = ?", NULL };

/* The acknowledgement on a loaded ticket, inside the caller's
 * transaction: STORE_OK, WF_NOCHANGE or a STORE_* code. */
static int
ack_loaded(struct store *st, long long id, struct ticket_state *t,
    const char *actor, time_t now, int *sla_met, time_t *prev_at,
    char **prev_by)
{
	static const struct query q_ack_first = {
		"UPDATE tickets SET acknowledged_at = ?, acknowledged_by = ?, "
		"sla_met = ?, updated_at = ? WHERE id = ?", NULL };
	int rc, first, answered;

	*sla_met = -1;
	*prev_at = 0;
	*prev_by = NULL;
	/* Acknowledged, and the contact has not written since. */
	if (t->acknowledged_at && !t->awaiting_since) {
		*prev_at = t->acknowledged_at;
		*prev_by = t->acknowledged_by;
		t->acknowledged_by = NULL;
		return WF_NOCHANGE;
	}
	first = !t->acknowledged_at;
	if (t->breach_at)
		*sla_met = now <= t->breach_at;
	/* The ticket keeps its first acknowledgement (and sla_met, the
	 * first response's); a later one answers the messages since. */
	if (first)
		rc = store_rc_of(store_exec(st, &q_ack_first, "itmii",
		    (long long)now, actor, (long long)*sla_met, (long long)now,
		    id));
	else
		rc = store_rc_of(store_exec(st, &q_touch, "ii", (long long)now, id));
	answered = 0;
	if (rc == STORE_OK && (answered = answer_messages(st, id, now)) < 0)
		rc = answered;
	if (rc == STORE_OK)
		rc = event(st, id, now, actor, "ack", json_pack(
		    "{s:o,s:o,s:o,s:b,s:i}",
		    "response_due", fmt_json_time(t->response_due),
		    "breach_at", fmt_json_time(t->breach_at),
		    "sla_met", *sla_met < 0 ? json_null() :
		    json_boolean(*sla_met), "first", first, "answered", answered));
	return rc;
}

int
workflow_ack(struct store *st, long long id, const char *actor, time_t now,
    int *sla_met, time_t *prev_at, char **prev_by)
{
	struct ticket_state t;
	int rc;

	*sla_met = -1;
	*prev_at = 0;
	*prev_by = NULL;
	if ((rc = begin_load(st, id, &t)) != WF_OK)
		return rc;
	rc = ack_loaded(st, id, &t, actor, now, sla_met, prev_at, prev_by);
	if (rc == WF_NOCHANGE) {
		finish(st, &t, STORE_ERR);	/* nothing to write */
		return WF_NOCHANGE;
	}
	return finish(st, &t, rc);
}

int
workflow_ack_in(struct store *st, long long id, const char *actor, time_t now)
{
	struct ticket_state t;
	time_t prev_at;
	char *prev_by = NULL;
	int rc, found, sla_met;

	memset(&t, 0, sizeof(t));
	if ((rc = load_state(st, id, &t, &found)) != STORE_OK)
		return rc;
	if (!found) {
		state_free(&t);
		return WF_NOTFOUND;
	}
	rc = ack_loaded(st, id, &t, actor, now, &sla_met, &prev_at, &prev_by);
	free(prev_by);
	state_free(&t);
	return rc;
}

static const struct query q_assign = {
	"UPDATE tickets SET assignee = ?, updated_at = ? WHERE id = ?", NULL };
static const struct query q_close = {
	"UPDATE tickets SET status = 'closed', disposition = ?, closed_at = ?, "
	"updated_at = ? WHERE id = ?", NULL };
static const struct query q_reopen = {
	"UPDATE tickets SET status = 'open', disposition = NULL, closed_at = "
	"NULL, updated_at = ? WHERE id = ?", NULL };
static const struct query q_reclassify = {
	"UPDATE tickets SET type = ?, urgency = ?, minor = ?, danger = ?, "
	"automated = ?, in_business_hours = ?, response_due = ?, breach_at = ?, "
	"sla_met = ?, updated_at = ? WHERE id = ?", NULL };
static const struct query q_unautomate = {
	"UPDATE tickets SET status = 'open', disposition = NULL, closed_at = "
	"NULL, awaiting_since = received_at, awaiting_message = (SELECT min(id) "
	"FROM messages WHERE ticket_id = ?) WHERE id = ?", NULL };

int
workflow_assign(struct store *st, long long id, const char *assignee,
    const char *actor, time_t now)
{
	struct ticket_state t;
	int rc;

	if ((rc = begin_load(st, id, &t)) != WF_OK)
		return rc;
	if ((t.assignee == NULL && assignee == NULL) ||
	    (t.assignee && assignee && strcmp(t.assignee, assignee) == 0)) {
		finish(st, &t, STORE_ERR);
		return WF_NOCHANGE;
	}
	rc = store_rc_of(store_exec(st, &q_assign, "tii", assignee, (long long)now,
	    id));
	if (rc == STORE_OK)
		rc = event(st, id, now, actor, "assign", json_pack("{s:o,s:o}",
		    "from", fmt_json_str(t.assignee),
		    "to", fmt_json_str(assignee)));
	return finish(st, &t, rc);
}

int
workflow_note(struct store *st, long long id, const char *text,
    const char *actor, time_t now)
{
	struct ticket_state t;
	char *clean, *cut;
	int rc;

	if ((rc = begin_load(st, id, &t)) != WF_OK)
		return rc;
	clean = utf8_sanitize(text, strlen(text));
	cut = utf8_truncate(clean, WORKFLOW_NOTE_MAX);
	rc = event(st, id, now, actor, "note", json_pack("{s:o}", "text",
	    fmt_json_str(cut)));
	if (rc == STORE_OK)
		rc = store_rc_of(store_exec(st, &q_touch, "ii", (long long)now,
		    id));
	free(clean);
	free(cut);
	return finish(st, &t, rc);
}

int
workflow_disposition_valid(const char *s)
{
	static const char *const ok[] = { "referred", "resolved", "duplicate",
	    "no-action", "automated" };
	size_t i;

	for (i = 0; s && i < NELEM(ok); i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	return 0;
}

int
workflow_close(struct store *st, long long id, const char *disposition,
    const char *actor, time_t now)
{
	struct ticket_state t;
	int rc;

	if (!workflow_disposition_valid(disposition))
		return STORE_ERR;
	if ((rc = begin_load(st, id, &t)) != WF_OK)
		return rc;
	if (!t.open) {
		finish(st, &t, STORE_ERR);
		return WF_NOCHANGE;
	}
	rc = store_rc_of(store_exec(st, &q_close, "tiii", disposition,
	    (long long)now, (long long)now, id));
	/* Closing is a person's answer too: a reply after it is new. */
	if (rc == STORE_OK && (rc = answer_messages(st, id, now)) > 0)
		rc = STORE_OK;
	if (rc == STORE_OK)
		rc = event(st, id, now, actor, "close", json_pack("{s:s}",
		    "disposition", disposition));
	return finish(st, &t, rc);
}

int
workflow_reopen(struct store *st, long long id, const char *actor, time_t now)
{
	struct ticket_state t;
	int rc;

	if ((rc = begin_load(st, id, &t)) != WF_OK)
		return rc;
	if (t.open) {
		finish(st, &t, STORE_ERR);
		return WF_NOCHANGE;
	}
	rc = store_rc_of(store_exec(st, &q_reopen, "ii", (long long)now, id));
	if (rc == STORE_OK)
		rc = event(st, id, now, actor, "reopen", json_object());
	return finish(st, &t, rc);
}

static json_t *
class_json(enum call_type type, enum urgency u, int minor, int danger,
    time_t due, time_t breach)
{
	return json_pack("{s:s,s:s,s:b,s:b,s:o,s:o}", "type",
	    call_type_name(type), "urgency", urgency_name(u), "minor", minor,
	    "danger", danger, "response_due", fmt_json_time(due),
	    "breach_at", fmt_json_time(breach));
}

/* "staff (carol) reclassified: tip, urgent, minor (was tta, routine)" */
static char *
reclassified_line(const char *actor, enum call_type type, enum urgency u,
    int minor, int danger, const struct ticket_state *t)
{
	char *clean, *who, *line;

	clean = utf8_sanitize(actor ? actor : "?", strlen(actor ? actor : "?"));
	who = utf8_truncate(clean, WORKFLOW_ACTOR_MAX);
	line = xasprintf("%s (%s) reclassified: %s, %s%s%s (was %s, %s)",
	    WORKFLOW_RATIONALE_STAFF, who, call_type_name(type),
	    urgency_name(u), minor ? ", minor" : "", danger ? ", danger" : "",
	    call_type_name(t->type), urgency_name(t->urgency));
	free(clean);
	free(who);
	return line;
}

/*
 * The rationale ("why:" in every list) follows a reclassification: the
 * staff line first, so a cut list still names the new type and who set
 * it; triage's own reasons stay after it, an earlier staff line goes.
 */
static int
update_rationale(struct store *st, long long id, const char *line)
{
	static const char prefix[] = WORKFLOW_RATIONALE_STAFF " (";
	static const struct query q_rationale = {
		"SELECT rationale FROM tickets WHERE id = ?", NULL };
	static const struct query q_set_rationale = {
		"UPDATE tickets SET rationale = ? WHERE id = ?", NULL };
	struct stmt *s;
	json_error_t err;
	json_t *old = NULL, *neu, *v;
	const char *str;
	char *text;
	size_t i;
	int rc;

	if ((s = store_prepare(st, &q_rationale, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, id)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW && (str = store_col_text(s, 0, NULL)) != NULL)
		old = json_loads(str, 0, &err);
	store_done(s);
	if (rc != STORE_ROW && rc != STORE_DONE)
		return rc;
	neu = json_array();
	json_array_append_new(neu, fmt_json_str(line));
	json_array_foreach(old, i, v) {
		str = json_string_value(v);
		if (str && strncmp(str, prefix, sizeof(prefix) - 1) == 0 &&
		    strstr(str, ") reclassified: ") != NULL)
			continue;
		json_array_append(neu, v);
	}
	json_decref(old);
	text = json_dumps(neu, JSON_COMPACT);
	json_decref(neu);
	if (text == NULL)
		return STORE_ERR;
	rc = store_rc_of(store_exec(st, &q_set_rationale, "ti", text, id));
	free(text);
	return rc;
}

int
workflow_reclassify(struct store *st, const struct config *cfg,
    const struct calendar *cal, const struct rota *rota, long long id,
    const struct workflow_class *c,
    const char *actor, time_t now, int *alerted)
{
	struct ticket_state t;
	struct deadlines dl;
	enum urgency asked;
	int rc, minor, danger, automated, sla_met, reopen;

	*alerted = 0;
	if ((rc = begin_load(st, id, &t)) != WF_OK)
		return rc;
	asked = c->urgency >= 0 ? (enum urgency)c->urgency : t.urgency;
	minor = c->minor >= 0 ? c->minor : t.minor;
	danger = c->danger >= 0 ? c->danger : t.danger;
	automated = c->type == CT_AUTOMATED;
	if (sla_compute(cal, cfg, c->type, asked, t.awaiting_since ?
	    t.awaiting_since : t.received_at, &dl) == -1) {
		/* No business day in reach: keep the type, lose no ticket;
		 * a ticket without deadlines is listed as "No deadline". */
		memset(&dl, 0, sizeof(dl));
		dl.urgency = urgency_effective(c->type, asked);
	}
	if (c->type == t.type && dl.urgency == t.urgency && minor == t.minor &&
	    danger == t.danger && dl.response_due == t.response_due &&
	    dl.breach_at == t.breach_at) {
		finish(st, &t, STORE_ERR);
		return WF_NOCHANGE;
	}
	sla_met = -1;
	if (t.acknowledged_at && dl.breach_at)
		sla_met = t.acknowledged_at <= dl.breach_at;
	rc = store_rc_of(store_exec(st, &q_reclassify, "ttiiiizzmii", call_type_name(c->type), urgency_name(dl.urgency),
	    (long long)minor, (long long)danger, (long long)automated,
	    (long long)dl.in_business_hours, (long long)dl.response_due,
	    (long long)dl.breach_at, (long long)sla_met, (long long)now, id));
	/* Mail closed as automated that staff say a human wrote is a contact
	 * nobody has answered: it goes back on the lists. */
	reopen = t.automated && !automated && !t.open &&
	    t.disposition && strcmp(t.disposition, "automated") == 0;
	if (rc == STORE_OK && reopen)
		rc = store_rc_of(store_exec(st, &q_unautomate, "ii", id, id));
	if (rc == STORE_OK) {
		char *line = reclassified_line(actor, c->type, dl.urgency, minor,
		    danger, &t);

		rc = update_rationale(st, id, line);
		free(line);
	}
	if (rc == STORE_OK)
		rc = event(st, id, now, actor, "reclassify", json_pack(
		    "{s:o,s:o,s:b}", "from", class_json(t.type, t.urgency, t.minor, t.danger,
		    t.response_due, t.breach_at),
		    "to", class_json(c->type, dl.urgency, minor, danger,
		    dl.response_due, dl.breach_at), "reopened", reopen));
	/* Closed or not: a crisis found in the archive still pages. */
	if (rc == STORE_OK && dl.urgency == URG_URGENT &&
	    t.urgency != URG_URGENT) {
		rc = outbox_queue_alert(st, cfg, rota, id, "reclassified", now);
		if (rc >= 0) {
			*alerted = rc > 0;
			rc = STORE_OK;
		}
	}
	return finish(st, &t, rc);
}
