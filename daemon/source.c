/* SPDX-License-Identifier: MIT */
/*
 * source.c: the source engine (source.h).  Everything the exactly-once
 * promise rests on is here, once: the cursor, batching, begin -> ingest ->
 * save cursor -> commit -> mark, the statistics, stop and progress, the
 * translation of store results into SRC_* codes, per-message errors and
 * poison counting.  A driver only lists, fetches and marks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "outbox.h"
#include "source.h"
#include "util.h"

/* A message that failed, and how many polls in a row it did. */
struct source_poison {
	char	*key;
	int	 tries;
	int	 listed;	/* listed in this poll */
	int	 suspect;	/* in a fetch of several that failed: fetched
				   alone until passed */
};

/* What became of one listed message. */
enum outcome {
	DONE_STORED,		/* stored or already there: mark it */
	DONE_RECORDED,		/* recorded for a human: not marked */
	DONE_PASSED,		/* gone, or not a message: nothing to mark */
	NOT_DONE,		/* failed: the cursor stops before it */
};

/* One poll's working state. */
struct poll_state {
	struct source		*src;
	struct source_run	*run;
	struct source_stats	*stats;
	struct source_cursor	 cur;	/* as committed */
	char			*note;	/* first per-message trouble, for status */
	char			**err;
	int			 ending;	/* FETCH_FAILED_TEMP: the poll ends
						   after this batch (*err set) */
	int			 marked_dirty;	/* cur.marked moved, not saved */
	struct source_item	*pf_failed;	/* its prefetch alone failed */
	char			*pf_why;	/* ... why (owned) */
};

static int	engine_wait_fd(struct source *, int *);
static void	engine_close(struct source *);

static const struct source_ops engine_ops = {
	.poll = source_engine_poll,
	.wait_fd = engine_wait_fd,
	.close = engine_close,
};

int
source_init(struct source *src, const struct source_config *cfg, char **err)
{
	memset(src, 0, sizeof(*src));
	src->cfg = cfg;
	switch (cfg->type) {
	case SOURCE_MAILDIR:
		return source_maildir_init(src, err);
	case SOURCE_IMAP:
		return source_imap_init(src, err);
	case SOURCE_HTTP:
		return source_http_init(src, err);
	default:
		*err = xasprintf("source '%s': this type cannot be polled",
		    cfg->name);
		return -1;
	}
}

void
source_close(struct source *src)
{
	if (src->ops && src->ops->close)
		src->ops->close(src);
	src->ops = NULL;
}

void
source_set_driver(struct source *src, const struct source_driver *drv,
    void *priv)
{
	src->drv = drv;
	src->priv = priv;
	src->ops = &engine_ops;
}

time_t
source_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

long long
source_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
now_ms(const struct source_run *run)
{
	return run->clock_ms ? run->clock_ms(run->clock_arg) : source_clock_ms();
}

static void
progress(const struct source_run *run)
{
	if (run->progress)
		run->progress(run->progress_arg);
}

/* Where the poll's stage times go (ingest.h), or NULL. */
static struct ingest_times *
times(const struct source_run *run)
{
	return run->ictx ? run->ictx->times : NULL;
}

static void
batch_done(const struct source_run *run, int committed)
{
	long long t0 = ingest_times_now();

	if (run->batch_done == NULL)
		return;
	run->batch_done(run->batch_done_arg, committed);
	if (committed)
		ingest_times_add(times(run), STAGE_ALERT, t0);
}

/* ---- listings ------------------------------------------------------------ */

struct source_item *
source_listing_add(struct source_listing *l, const char *key, void *drv)
{
	struct source_item *it;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	it = &l->v[l->n++];
	memset(it, 0, sizeof(*it));
	it->key = key ? xstrdup(key) : NULL;
	it->drv = drv;
	return it;
}

void
source_listing_free(const struct source_driver *d, struct source_listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		if (d->item_free && l->v[i].drv)
			d->item_free(l->v[i].drv);
		source_cursor_free(&l->v[i].after);
	}
	free(l->v);
	source_cursor_free(&l->end);
	memset(l, 0, sizeof(*l));
}

/* ---- poison counting ----------------------------------------------------- */

static struct source_poison *
poison_find(struct source *src, const char *key)
{
	size_t i;

	for (i = 0; i < src->npoison; i++)
		if (strcmp(src->poison[i].key, key) == 0)
			return &src->poison[i];
	return NULL;
}

static struct source_poison *
poison_get(struct source *src, const char *key)
{
	struct source_poison *p = poison_find(src, key);

	if (p == NULL) {
		src->poison = xreallocarray(src->poison, src->npoison + 1,
		    sizeof(*src->poison));
		p = &src->poison[src->npoison++];
		memset(p, 0, sizeof(*p));
		p->key = xstrdup(key);
		src->poison_dirty = 1;
	}
	p->listed = 1;
	return p;
}

/* One more failure of key in a row; how many now. */
static int
poison_count(struct source *src, const char *key)
{
	src->poison_dirty = 1;
	return ++poison_get(src, key)->tries;
}

/*
 * A fetch of several messages at once failed (source.h, prefetch): the
 * culprit is unknown, so nothing is counted; each becomes a suspect,
 * fetched in a batch of its own until it is passed, which finds it.
 */
static void
poison_suspects(struct source *src, struct source_item *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i]->key)
			poison_get(src, v[i]->key)->suspect = 1;
	src->poison_dirty = 1;
}

/* Must this new message be fetched in a batch of its own? */
static int
alone(struct source *src, const struct source_item *it)
{
	struct source_poison *p;

	return !it->known && it->key && (p = poison_find(src, it->key)) &&
	    p->suspect;
}

static void
poison_drop(struct source *src, size_t i)
{
	free(src->poison[i].key);
	memmove(&src->poison[i], &src->poison[i + 1],
	    (--src->npoison - i) * sizeof(*src->poison));	/* in order */
	src->poison_dirty = 1;
}

static void
poison_forget(struct source *src, const char *key)
{
	struct source_poison *p = poison_find(src, key);

	if (p)
		poison_drop(src, (size_t)(p - src->poison));
}

/* A failure counts "in a row" only while the message is still listed. */
static void
poison_sweep(struct source *src)
{
	size_t i = 0;

	while (i < src->npoison) {
		if (!src->poison[i].listed)
			poison_drop(src, i);
		else
			src->poison[i++].listed = 0;
	}
}

static void
poison_listed(struct source *src, const struct source_listing *l)
{
	struct source_poison *p;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].key && (p = poison_find(src, l->v[i].key)) != NULL)
			p->listed = 1;
}

static void
poison_free(struct source *src)
{
	while (src->npoison)
		poison_drop(src, 0);
	free(src->poison);
	src->poison = NULL;
	src->poison_dirty = 0;
}

/*
 * SRCDRV_FAILURES_SAVED: the record in source_state.failures, one line a
 * message, "TRIES SUSPECT KEY" (sql/015_source_failures.sql), and a line
 * "mark_failing" while a refused mark is alerted.  A key with a newline is
 * kept in memory only.
 */
static char *
poison_encode(const struct source *src)
{
	char *text = xstrdup(src->mark_failing ? "mark_failing\n" : ""), *t;
	size_t i;

	for (i = 0; i < src->npoison; i++) {
		if (strchr(src->poison[i].key, '\n'))
			continue;
		t = xasprintf("%s%d %d %s\n", text, src->poison[i].tries,
		    src->poison[i].suspect, src->poison[i].key);
		free(text);
		text = t;
	}
	return text;
}

/* One "TRIES SUSPECT KEY" line; a malformed one is skipped. */
static void
poison_decode_line(struct source *src, const char *line, size_t len)
{
	unsigned long long tries, suspect;
	struct source_poison *p;
	char *l = xstrndup(line, len), *sp1, *sp2;

	if (strcmp(l, "mark_failing") == 0)
		src->mark_failing = 1;
	else if ((sp1 = strchr(l, ' ')) != NULL &&
	    (sp2 = strchr(sp1 + 1, ' ')) != NULL && sp2[1] != '\0') {
		*sp1 = *sp2 = '\0';
		if (parse_uint(l, 0, SOURCE_POISON_TRIES, &tries) == 0 &&
		    parse_uint(sp1 + 1, 0, 1, &suspect) == 0) {
			p = poison_get(src, sp2 + 1);
			p->tries = (int)tries;
			p->suspect = (int)suspect;
			p->listed = 0;
		}
	}
	free(l);
}

static int
poison_load(struct poll_state *ps)
{
	char *text, *p, *nl;
	int rc;

	if (!(ps->src->drv->flags & SRCDRV_FAILURES_SAVED))
		return STORE_OK;
	rc = srcstate_get_failures(ps->run->ictx->store, ps->src->cfg->name,
	    &text);
	if (rc != STORE_OK)
		return rc;
	poison_free(ps->src);	/* the database's record is the one */
	ps->src->mark_failing = 0;
	for (p = text; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		poison_decode_line(ps->src, p, nl ? (size_t)(nl - p) :
		    strlen(p));
	}
	free(text);
	ps->src->poison_dirty = 0;
	return STORE_OK;
}

/* Inside the caller's transaction; poison_dirty is cleared by the caller
 * once that is committed. */
static int
poison_store(struct poll_state *ps)
{
	char *text;
	int rc;

	if (!(ps->src->drv->flags & SRCDRV_FAILURES_SAVED) ||
	    !ps->src->poison_dirty)
		return STORE_OK;
	text = poison_encode(ps->src);
	rc = srcstate_set_failures(ps->run->ictx->store, ps->src->cfg->name,
	    text);
	free(text);
	return rc;
}

/* At the end of a poll, what its batches did not commit (a failure that
 * ended the poll, a rolled-back batch), in a short transaction of its
 * own; a database error here is only logged (the poll's is reported). */
static void
poison_save(struct poll_state *ps)
{
	struct store *st = ps->run->ictx->store;
	int rc;

	if (!(ps->src->drv->flags & SRCDRV_FAILURES_SAVED) ||
	    !ps->src->poison_dirty)
		return;
	if ((rc = store_begin(st)) == STORE_OK) {
		if ((rc = poison_store(ps)) == STORE_OK)
			rc = store_commit(st);
		else
			store_rollback(st);
	}
	if (rc == STORE_OK)
		ps->src->poison_dirty = 0;
	else
		log_err("source %s: cannot record the failed messages: %s",
		    ps->src->cfg->name, store_errmsg(st));
}

/* ---- the store ----------------------------------------------------------- */

/* The one translation of a store result into a poll's outcome. */
static int
db_error(struct poll_state *ps, int store_rc)
{
	free(*ps->err);
	*ps->err = xasprintf("database: %s", store_errmsg(ps->run->ictx->store));
	return store_rc == STORE_TEMP ? SRC_STORE : SRC_FATAL;
}

static const struct query q_known = {
	"SELECT 1 FROM messages WHERE source = ?1 AND source_key = ?2", NULL
};

static int
is_known(struct store *st, const char *source, const char *key)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_known, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, key, (size_t)-1)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	if (rc == STORE_ROW)
		return 1;
	return rc == STORE_DONE ? 0 : rc;
}

/* One ingest in its own savepoint: a message the store refuses is rolled
 * back alone.  STORE_OK, STORE_TEMP (the batch must go) or STORE_ERR (this
 * message only; *why set). */
static int
ingest_one(struct poll_state *ps, struct source_msg *m,
    struct ingest_result *res, char **why)
{
	struct ingest_ctx *ictx = ps->run->ictx;
	int rc;

	if ((rc = store_savepoint(ictx->store, "source_msg")) != STORE_OK)
		return rc;
	rc = m->prepared ? ingest_prepared(ictx, &m->raw, &m->msg, res) :
	    ingest_raw(ictx, &m->raw, res);
	if (rc == STORE_OK) {
		if (store_savepoint_release(ictx->store, "source_msg") != STORE_OK)
			return STORE_TEMP;
		return STORE_OK;
	}
	if (rc == STORE_TEMP)
		return STORE_TEMP;
	*why = xasprintf("cannot be stored: %s", store_errmsg(ictx->store));
	/* on PostgreSQL the failed statement spoiled the transaction up to
	 * here: the rollback to the savepoint is what lets the batch go on */
	if (store_savepoint_rollback(ictx->store, "source_msg") != STORE_OK ||
	    store_savepoint_release(ictx->store, "source_msg") != STORE_OK)
		return STORE_TEMP;
	return STORE_ERR;
}

static void
count_result(struct poll_state *ps, const struct ingest_result *res)
{
	if (res->duplicate)
		ps->stats->duplicates++;
	else
		ps->stats->stored++;
	if (!res->duplicate && res->parse_status == MSG_PARSE_ERROR)
		ps->stats->parse_errors++;
	if (ps->run->stored)
		ps->run->stored(ps->run->stored_arg, res);
}

static void
note(struct poll_state *ps, char *text)
{
	if (ps->note == NULL)
		ps->note = text;
	else
		free(text);
}

static void
msg_free(struct source_msg *m)
{
	free(m->buf);
	free(m->reason);
	free(m->label);
	free(m->kept);
}

/* What the record of a message that failed tries times keeps: the driver's
 * (record()), else nothing.  SRC_OK, or SRC_TEMP when the driver cannot
 * now (*ps->err set, the poll ends after this batch). */
static int
record_fill(struct poll_state *ps, struct source_item *it, int tries,
    const char *why, struct source_msg *m)
{
	const struct source_driver *d = ps->src->drv;
	char *err = NULL;

	memset(m, 0, sizeof(*m));
	if (d->record && d->record(ps->src, ps->run, it, tries, why, m,
	    &err) != FETCH_OK) {
		msg_free(m);
		free(*ps->err);
		*ps->err = err ? err : xstrdup("the source failed");
		ps->ending = 1;
		return SRC_TEMP;
	}
	free(err);
	if (m->raw.data == NULL) {
		m->raw.data = "";
		m->raw.len = 0;
	}
	m->raw.source = ps->src->cfg->name;
	m->raw.source_key = it->key;
	if (m->raw.received_at == 0)
		m->raw.received_at = time(NULL);
	if (m->reason == NULL)
		m->reason = xasprintf("this message could not be read or stored "
		    "in %d attempts (%s): it is still at the source %s; read it "
		    "there", tries, why, ps->src->cfg->name);
	m->raw.fetch_error = m->reason;
	return SRC_OK;
}

/* Counted SOURCE_POISON_TRIES times, its record still to be made (a
 * record() that could not): it is not fetched again. */
static int
to_record(struct poll_state *ps, const struct source_item *it)
{
	struct source_poison *p;

	return ps->src->drv->record && it->key && !it->known &&
	    (p = poison_find(ps->src, it->key)) != NULL &&
	    p->tries >= SOURCE_POISON_TRIES;
}

/* Record it for a human after tries failures (why: the last, taken). */
static int
poisoned(struct poll_state *ps, struct source_item *it, int tries, char *why,
    enum outcome *outcome)
{
	const char *name = ps->src->cfg->name;
	struct ingest_result res;
	struct source_msg m;
	char *rwhy = NULL;
	int rc;

	*outcome = NOT_DONE;
	if (record_fill(ps, it, tries, why, &m) != SRC_OK) {
		log_warning("source %s: message %s cannot be recorded for a "
		    "human now: %s", name, it->key, *ps->err);
		ps->stats->failed++;
		free(why);
		return SRC_OK;
	}
	rc = ingest_one(ps, &m, &res, &rwhy);
	free(rwhy);
	if (rc != STORE_OK) {
		msg_free(&m);
		free(why);
		return db_error(ps, rc == STORE_TEMP ? STORE_TEMP : STORE_ERR);
	}
	if (ps->src->drv->record)
		log_err("source %s: %s could not be fetched in %d attempts: "
		    "ticket %lld records it (%s) for a human; left unmarked at "
		    "the source", name, m.label ? m.label : it->key, tries,
		    res.ticket, m.kept ? m.kept : "nothing of it could be read");
	else
		log_err("source %s: message %s could not be read or stored in "
		    "%d attempts (%s): ticket %lld records it for a human", name,
		    it->key, tries, why, res.ticket);
	msg_free(&m);
	free(why);
	poison_forget(ps->src, it->key);
	ps->stats->poisoned++;
	count_result(ps, &res);
	*outcome = DONE_RECORDED;
	return SRC_OK;
}

/*
 * A message that could not be read or stored (why: the reason, taken).
 * Under SOURCE_POISON_TRIES failures in a row it is only counted and tried
 * again next poll; then what can be had (record(), else nothing) becomes
 * a ticket for a human, so it never blocks the messages behind it.
 * *outcome set, or an SRC_* error.
 */
static int
message_failed(struct poll_state *ps, struct source_item *it, char *why,
    enum outcome *outcome)
{
	const char *name = ps->src->cfg->name;
	int tries;

	*outcome = NOT_DONE;
	if (it->key == NULL) {	/* nothing to count it against (stdin) */
		log_warning("source %s: message %s", name, why);
		ps->stats->failed++;
		note(ps, xasprintf("message %s", why));
		free(why);
		return SRC_OK;
	}
	tries = poison_count(ps->src, it->key);
	/* every attempt is logged, the last too (then it is recorded) */
	log_warning("source %s: message %s %s (%d of %d attempts before it is "
	    "recorded for a human)", name, it->key, why, tries,
	    SOURCE_POISON_TRIES);
	if (tries < SOURCE_POISON_TRIES) {
		ps->stats->failed++;
		note(ps, xasprintf("message %s %s", it->key, why));
		free(why);
		return SRC_OK;
	}
	return poisoned(ps, it, tries, why, outcome);
}

/* Fetch and ingest one listed message.  SRC_OK with *outcome, or the
 * batch's end (SRC_TEMP, SRC_STORE, SRC_FATAL). */
static int
one_message(struct poll_state *ps, struct source_item *it,
    enum outcome *outcome)
{
	const struct source_driver *d = ps->src->drv;
	struct ingest_result res;
	struct source_msg m;
	char *why = NULL;
	long long t0;
	int rc;

	memset(&m, 0, sizeof(m));
	*outcome = DONE_PASSED;
	/* Failed SOURCE_POISON_TRIES times already, and its record could
	 * not be made then (record()): not fetched again, recorded. */
	if (to_record(ps, it))
		return poisoned(ps, it, SOURCE_POISON_TRIES,
		    xstrdup("failed before"), outcome);
	t0 = ingest_times_now();
	if (it == ps->pf_failed) {	/* its prefetch alone failed */
		rc = FETCH_FAILED_TEMP;
		why = ps->pf_why;
		ps->pf_why = NULL;
		ps->pf_failed = NULL;
	} else
		rc = d->fetch(ps->src, ps->run, it, &m, &why);
	ingest_times_add(times(ps->run), STAGE_FETCH, t0);
	switch (rc) {
	case FETCH_OK:
		break;
	case FETCH_GONE:
		free(m.buf);
		free(why);
		return SRC_OK;
	case FETCH_NOT_MESSAGE:
		log_warning("source %s: %s", ps->src->cfg->name,
		    why ? why : "not a message");
		ps->stats->not_messages++;
		note(ps, why ? why : xstrdup("not a message"));
		free(m.buf);
		return SRC_OK;
	case FETCH_FAILED:
		free(m.buf);
		return message_failed(ps, it, why ? why : xstrdup("cannot be "
		    "read"), outcome);
	case FETCH_FAILED_TEMP:
		/* Counted against it, and the source is in trouble: the
		 * batch so far is committed, then the poll ends. */
		free(m.buf);
		if (why == NULL)
			why = xstrdup("the source failed on it");
		free(*ps->err);
		*ps->err = xstrdup(why);
		ps->ending = 1;
		return message_failed(ps, it, why, outcome);
	default:
		free(m.buf);
		free(*ps->err);
		*ps->err = why ? why : xstrdup("the source failed");
		return SRC_TEMP;
	}
	m.raw.source = ps->src->cfg->name;
	m.raw.source_key = it->key;
	ps->stats->fetched++;
	rc = ingest_one(ps, &m, &res, &why);
	free(m.buf);
	if (rc == STORE_TEMP) {
		free(why);
		return db_error(ps, STORE_TEMP);
	}
	if (rc == STORE_ERR)
		return message_failed(ps, it, why, outcome);
	if (it->key)
		poison_forget(ps->src, it->key);
	count_result(ps, &res);
	*outcome = DONE_STORED;
	return SRC_OK;
}

/* ---- batches ------------------------------------------------------------- */

/* The cursor to save: c, but a numeric cursor never moves back. */
static void
cursor_next(struct poll_state *ps, const struct source_cursor *c,
    struct source_cursor *out)
{
	out->uidvalidity = c->uidvalidity;
	out->last_uid = c->last_uid;
	out->cursor = c->cursor ? xstrdup(c->cursor) : NULL;
	if (c->uidvalidity == ps->cur.uidvalidity &&
	    c->last_uid < ps->cur.last_uid) {
		log_warning("source %s: the listing would move the cursor back "
		    "from %lld to %lld: kept", ps->src->cfg->name,
		    ps->cur.last_uid, c->last_uid);
		out->last_uid = ps->cur.last_uid;
	}
	if (ps->src->drv->flags & SRCDRV_MARKED) {
		/* as marked now: the batch itself is marked after its
		 * commit (marked_moved) */
		out->marked = c->uidvalidity == ps->cur.uidvalidity ?
		    ps->cur.marked : 0;
		if (out->marked > out->last_uid)
			out->marked = out->last_uid;
		free(out->cursor);
		out->cursor = xasprintf("marked=%lld", out->marked);
	}
}

/* SRCDRV_MARKED: the watermark from the saved text "marked=N" (other
 * words ignored); none: all marked. */
static void
marked_load(struct poll_state *ps)
{
	struct source_cursor *c = &ps->cur;
	unsigned long long v;
	const char *p;
	char *w;
	size_t len;

	c->marked = c->last_uid;
	for (p = c->cursor; p && *p; p += len, p += strspn(p, " ")) {
		len = strcspn(p, " ");
		w = xstrndup(p, len);
		if (strncmp(w, "marked=", 7) == 0 &&
		    parse_uint(w + 7, 0, (unsigned long long)c->last_uid, &v) ==
		    0)
			c->marked = (long long)v;
		free(w);
	}
	free(c->cursor);
	c->cursor = NULL;
}

/* SRCDRV_MARKED: the marks of the batch that moved the cursor from
 * last_uid (watermark: marked) to ps->cur succeeded; the watermark follows when
 * everything before was marked. */
static void
marked_moved(struct poll_state *ps, long long last_uid, long long marked)
{
	if (!(ps->src->drv->flags & SRCDRV_MARKED) || marked != last_uid ||
	    ps->cur.marked == ps->cur.last_uid)
		return;
	ps->cur.marked = ps->cur.last_uid;
	ps->marked_dirty = 1;
}

/* At the end of a poll: the watermark that moved after the last commit,
 * in a short transaction of its own (a database error only logged: the
 * messages are marked again next poll). */
static void
marked_save(struct poll_state *ps)
{
	struct store *st = ps->run->ictx->store;
	struct source_cursor c;
	int rc;

	if (!ps->marked_dirty)
		return;
	memset(&c, 0, sizeof(c));
	c.uidvalidity = ps->cur.uidvalidity;
	c.last_uid = ps->cur.last_uid;
	c.marked = ps->cur.marked;
	c.cursor = xasprintf("marked=%lld", c.marked);
	if ((rc = store_begin(st)) == STORE_OK) {
		if ((rc = srcstate_set(st, ps->src->cfg->name, &c)) == STORE_OK)
			rc = store_commit(st);
		else
			store_rollback(st);
	}
	if (rc != STORE_OK)
		log_warning("source %s: cannot save what is marked: %s",
		    ps->src->cfg->name, store_errmsg(st));
	source_cursor_free(&c);
}

/* The cursor after cand, unless cand would move a numeric cursor back
 * from cur (a server's listing that regressed): then cur stays. */
static const struct source_cursor *
cursor_later(struct poll_state *ps, const struct source_cursor *cur,
    const struct source_cursor *cand)
{
	const struct source_cursor *base = cur ? cur : &ps->cur;

	if (cand->uidvalidity == base->uidvalidity &&
	    cand->last_uid < base->last_uid) {
		log_warning("source %s: the listing would move the cursor back "
		    "from %lld to %lld: kept", ps->src->cfg->name,
		    base->last_uid, cand->last_uid);
		return cur;
	}
	return cand;
}

/*
 * Before anything is marked (issue 12 item 4): is the database still the
 * file at its path?  A backup restored with `mv` leaves this connection
 * committing into the deleted inode; marking those messages would lose
 * them.  Nothing is marked, the poll stops with SRC_REPLACED, and the
 * daemon reopens the database (intaked.c), where they are stored again.
 */
static int
db_replaced(struct poll_state *ps)
{
	struct store *st = ps->run->ictx->store;

	if (!store_identity_changed(st))
		return 0;
	log_err("source %s: database %s was replaced or removed while open: "
	    "nothing marked; reopening it", ps->src->cfg->name,
	    store_path(st));
	free(*ps->err);
	*ps->err = xasprintf("database %s was replaced while open: nothing "
	    "marked", store_path(st));
	return 1;
}

/*
 * Marking refused while the source still works (a folder that cannot be
 * made, a read-only mailbox): the messages are stored, intake goes on and
 * they are marked again next poll.  With SRCDRV_MARK_ALERT the first
 * refusal of a run is an error and a health alert, kept to once by
 * src->mark_failing (saved with SRCDRV_FAILURES_SAVED), and every one is
 * the poll's note for intake status.
 */
static void
mark_refused(struct poll_state *ps, const char *why)
{
	struct source *src = ps->src;
	struct store *st = ps->run->ictx->store;

	if (!(src->drv->flags & SRCDRV_MARK_ALERT)) {
		log_warning("source %s: marking stored messages failed: %s (they "
		    "are stored; marked again next poll)", src->cfg->name, why);
		return;
	}
	note(ps, xstrdup(why));
	if (src->mark_failing) {
		log_warning("source %s: %s (still failing: the messages stay "
		    "unmarked at the source)", src->cfg->name, why);
		return;
	}
	log_err("source %s: %s: the messages are stored and intake goes on; "
	    "they stay unmarked at the source until marking works",
	    src->cfg->name, why);
	src->mark_failing = 1;
	src->poison_dirty = 1;
	if (store_begin(st) != STORE_OK)
		return;
	if (outbox_queue_health(st, ps->run->ictx->cfg, src->cfg->name,
	    "marking processed messages failed", why, time(NULL)) < 0 ||
	    poison_store(ps) != STORE_OK || store_commit(st) != STORE_OK)
		store_rollback(st);
	else if (src->drv->flags & SRCDRV_FAILURES_SAVED)
		src->poison_dirty = 0;
}

static void
mark_worked(struct poll_state *ps)
{
	if (!ps->src->mark_failing)
		return;
	log_notice("source %s: marking works again", ps->src->cfg->name);
	ps->src->mark_failing = 0;
	ps->src->poison_dirty = 1;
}

/* Mark v (stored, committed).  SRC_OK (a refused mark too: *marked 0), or
 * SRC_REPLACED; MARK_BROKEN sets ps->ending. */
static int
mark_done(struct poll_state *ps, struct source_item **v, size_t n,
    int *marked)
{
	char *err = NULL;
	long long t0 = ingest_times_now();
	int rc;

	*marked = 0;
	if (db_replaced(ps))
		return SRC_REPLACED;
	*marked = 1;
	if (n == 0 || ps->src->drv->mark == NULL)
		return SRC_OK;
	rc = ps->src->drv->mark(ps->src, v, n, &err);
	ingest_times_add(times(ps->run), STAGE_MARK, t0);
	if (rc == MARK_OK) {
		mark_worked(ps);
		free(err);
		return SRC_OK;
	}
	*marked = 0;
	if (rc == MARK_BROKEN) {
		log_warning("source %s: marking stored messages failed: %s (they "
		    "are stored; marked next poll)", ps->src->cfg->name,
		    err ? err : "?");
		free(*ps->err);
		*ps->err = err ? err : xstrdup("marking failed");
		ps->ending = 1;
		return SRC_OK;
	}
	mark_refused(ps, err ? err : "marking failed");
	free(err);
	return SRC_OK;
}

/*
 * The driver's look ahead (source.h, prefetch): the new messages this batch
 * may take, before its transaction begins, so a driver can read them in
 * one round trip instead of one per message (a suspect alone, and never
 * past one).  SRC_OK, or an SRC_* error that ends the poll with nothing
 * begun.  SRC_TEMP blames the messages: several become suspects; one
 * alone is counted against in the batch (FETCH_FAILED_TEMP).
 */
static int
prefetch(struct poll_state *ps, struct source_item **todo, size_t ntodo,
    size_t i)
{
	size_t n = 0, max = ps->run->batch > 1 ? (size_t)ps->run->batch : 1;
	struct source_item **v;
	long long t0;
	int rc = SRC_OK;

	v = xcalloc(max, sizeof(*v));
	for (; i < ntodo && n < max; i++) {
		if (todo[i]->known || to_record(ps, todo[i]))
			continue;
		if (n > 0 && alone(ps->src, todo[i]))
			break;
		v[n++] = todo[i];
		if (alone(ps->src, todo[i]))
			break;
	}
	t0 = ingest_times_now();
	if (n > 0 && (rc = ps->src->drv->prefetch(ps->src, ps->run, v, n,
	    ps->err)) != SRC_OK && *ps->err == NULL)
		*ps->err = xstrdup("the source failed");
	if (n > 0)
		ingest_times_add(times(ps->run), STAGE_FETCH, t0);
	if (rc == SRC_TEMP && n == 1) {
		ps->pf_failed = v[0];
		ps->pf_why = *ps->err;
		*ps->err = NULL;
		rc = SRC_OK;
	} else if (rc == SRC_TEMP) {
		log_warning("source %s: fetching %zu messages at once failed "
		    "(%s): fetching them one at a time to find the cause",
		    ps->src->cfg->name, n, *ps->err);
		poison_suspects(ps->src, v, n);
	}
	free(v);
	return rc;
}

/* May the batch that started at start take one more message? */
static int
batch_room(const struct poll_state *ps, size_t k, long long start)
{
	const struct source_run *run = ps->run;

	if (k == 0)
		return 1;
	if (k >= (size_t)run->batch)
		return 0;
	return run->budget_ms <= 0 || now_ms(run) - start +
	    run->ictx->limits.timeout_ms <= run->budget_ms;
}

/*
 * One transaction over todo[*next ...]: begin, each message, the cursor,
 * commit, then mark.  *blocked: a message failed, so the cursor stays
 * before it for the rest of the listing.
 */
static int
run_batch(struct poll_state *ps, struct source_listing *l,
    struct source_item **todo, size_t ntodo, size_t *next, int *blocked)
{
	const struct source_driver *d = ps->src->drv;
	struct store *st = ps->run->ictx->store;
	struct source_stats before = *ps->stats;
	const struct source_cursor *pending = NULL;
	struct source_cursor save, was;
	struct source_item **marks;
	long long start = now_ms(ps->run), t0;
	enum outcome o;
	size_t k = 0, nmarks = 0, i = *next;
	int rc, single, marked;

	ps->pf_failed = NULL;
	free(ps->pf_why);
	ps->pf_why = NULL;
	if (d->prefetch && (rc = prefetch(ps, todo, ntodo, i)) != SRC_OK)
		return rc;
	if ((rc = store_begin(st)) != STORE_OK)
		return db_error(ps, rc);
	marks = xcalloc(ntodo ? ntodo : 1, sizeof(*marks));
	for (; i < ntodo && batch_room(ps, k, start); i++) {
		if ((single = alone(ps->src, todo[i])) && k > 0)
			break;	/* a suspect: in a batch of its own */
		if (todo[i]->known)	/* stored already: marked, passed */
			o = DONE_PASSED;
		else if ((rc = one_message(ps, todo[i], &o)) != SRC_OK)
			goto rollback;
		if (o == NOT_DONE)
			*blocked = 1;
		else if (!*blocked && todo[i]->has_after)
			pending = cursor_later(ps, pending, &todo[i]->after);
		if (o == DONE_STORED)
			marks[nmarks++] = todo[i];
		if (!todo[i]->known) {
			k++;
			progress(ps->run);
		}
		if (ps->ending || single) {	/* FETCH_FAILED_TEMP, or a
						   suspect: no more */
			i++;
			break;
		}
	}
	if (i == ntodo && !*blocked && l->has_end)
		pending = cursor_later(ps, pending, &l->end);
	if ((rc = poison_store(ps)) != STORE_OK) {
		rc = db_error(ps, rc);
		goto rollback;
	}
	if (d->flags & SRCDRV_CURSOR) {
		cursor_next(ps, pending ? pending : &ps->cur, &save);
		rc = srcstate_set(st, ps->src->cfg->name, &save);
		if (rc != STORE_OK) {
			source_cursor_free(&save);
			rc = db_error(ps, rc);
			goto rollback;
		}
	} else
		memset(&save, 0, sizeof(save));
	t0 = ingest_times_now();
	rc = store_commit(st);
	ingest_times_add(times(ps->run), STAGE_COMMIT, t0);
	if (rc != STORE_OK) {
		source_cursor_free(&save);
		*ps->stats = before;
		free(marks);
		batch_done(ps->run, 0);
		return db_error(ps, rc);
	}
	ps->stats->batches++;
	if (d->flags & SRCDRV_FAILURES_SAVED)
		ps->src->poison_dirty = 0;	/* committed with the batch */
	was = ps->cur;
	if (d->flags & SRCDRV_CURSOR) {
		if (d->flags & SRCDRV_MARKED)
			ps->marked_dirty = 0;	/* saved with the batch */
		source_cursor_free(&ps->cur);
		ps->cur = save;
	}
	rc = mark_done(ps, marks, nmarks, &marked);
	free(marks);
	if (marked)
		marked_moved(ps, was.last_uid, was.marked);
	if (rc != SRC_OK) {
		*ps->stats = before;	/* not in the visible database */
		batch_done(ps->run, 0);
		return rc;
	}
	*next = i;
	batch_done(ps->run, 1);
	return ps->ending ? SRC_TEMP : SRC_OK;
rollback:
	store_rollback(st);
	*ps->stats = before;	/* rolled back: nothing counts */
	free(marks);
	batch_done(ps->run, 0);
	return rc;
}

/* Could this listing move the cursor? */
static int
may_move(const struct source_listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].has_after)
			return 1;
	return l->has_end;
}

/* Every message of one listing, batch by batch. */
static int
run_listing(struct poll_state *ps, struct source_listing *l)
{
	const struct source_driver *d = ps->src->drv;
	struct store *st = ps->run->ictx->store;
	struct source_item **todo, **known;
	size_t i, ntodo = 0, nknown = 0, next = 0, fetched;
	size_t nnew;
	int rc = SRC_OK, blocked = 0, k, marked;

	todo = xcalloc(l->n ? l->n : 1, sizeof(*todo));
	known = xcalloc(l->n ? l->n : 1, sizeof(*known));
	for (i = 0; i < l->n; i++) {
		k = 0;
		if ((d->flags & SRCDRV_SKIP_KNOWN) && l->v[i].key &&
		    (k = is_known(st, ps->src->cfg->name, l->v[i].key)) < 0) {
			rc = db_error(ps, k);
			goto out;
		}
		l->v[i].known = k;
		if (k)	/* stored before a crash or a failed mark: mark it */
			known[nknown++] = &l->v[i];
		todo[ntodo++] = &l->v[i];	/* in order: the cursor passes
						   the known ones too */
	}
	nnew = ntodo - nknown;
	if ((rc = mark_done(ps, known, nknown, &marked)) != SRC_OK)
		goto out;
	if (ps->ending) {	/* MARK_BROKEN */
		rc = SRC_TEMP;
		goto out;
	}
	/* SRCDRV_MARKED: listed from the watermark, so everything stored up
	 * to the cursor is marked now */
	if (marked && (d->flags & SRCDRV_MARKED) &&
	    ps->cur.marked != ps->cur.last_uid) {
		if (nknown)
			log_notice("source %s: marked %zu messages stored before "
			    "an interruption", ps->src->cfg->name, nknown);
		ps->cur.marked = ps->cur.last_uid;
		ps->marked_dirty = 1;
	}
	fetched = (size_t)ps->stats->fetched + (size_t)ps->stats->not_messages;
	/* With nothing new a cursor may still move (an empty page, or only
	 * messages stored before); with nothing that could move it, nothing
	 * is written. */
	if (nnew == 0 && (d->flags & SRCDRV_CURSOR) && may_move(l))
		rc = run_batch(ps, l, todo, ntodo, &next, &blocked);
	while (rc == SRC_OK && nnew > 0 && next < ntodo && !*ps->run->stop) {
		rc = run_batch(ps, l, todo, ntodo, &next, &blocked);
		progress(ps->run);
	}
	if (ps->stats->waiting < 0)
		ps->stats->waiting = 0;
	ps->stats->waiting += (int)(nnew - ((size_t)ps->stats->fetched +
	    (size_t)ps->stats->not_messages - fetched));
out:
	free(todo);
	free(known);
	return rc;
}

int
source_engine_poll(struct source *src, struct source_run *run,
    struct source_stats *stats, char **err)
{
	const struct source_driver *d = src->drv;
	struct poll_state ps;
	struct source_listing l;
	long long t0;
	int rc, round = 0, more;

	*err = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.src = src;
	ps.run = run;
	ps.stats = stats;
	ps.err = err;
	stats->waiting = -1;
	if ((d->flags & SRCDRV_CURSOR) &&
	    (rc = srcstate_get(run->ictx->store, src->cfg->name, &ps.cur)) !=
	    STORE_OK)
		return db_error(&ps, rc);
	if (d->flags & SRCDRV_MARKED)
		marked_load(&ps);
	if ((rc = poison_load(&ps)) != STORE_OK) {
		source_cursor_free(&ps.cur);
		return db_error(&ps, rc);
	}
	do {
		memset(&l, 0, sizeof(l));
		l.round = round++;
		t0 = ingest_times_now();
		rc = d->list_new(src, run, &ps.cur, &l, err);
		ingest_times_add(times(run), STAGE_LIST, t0);
		if (rc == SRC_OK) {
			poison_listed(src, &l);
			rc = run_listing(&ps, &l);
		}
		more = l.more;
		source_listing_free(d, &l);
		/* after the last listing: the driver's turn (IDLE) */
		if ((rc != SRC_OK || !more || *run->stop) && d->poll_end &&
		    d->poll_end(src, run, rc) == 1 && rc == SRC_OK)
			more = 1;
	} while (rc == SRC_OK && more && !*run->stop);
	if (rc == SRC_OK)
		poison_sweep(src);
	poison_save(&ps);
	if (rc != SRC_REPLACED)
		marked_save(&ps);
	if (d->flags & SRCDRV_WAITING_UNKNOWN)
		stats->waiting = -1;
	/* A successful poll's note is shown by intake status. */
	if (rc == SRC_OK && *err == NULL)
		*err = ps.note;
	else
		free(ps.note);
	free(ps.pf_why);
	source_cursor_free(&ps.cur);
	return rc;
}

static int
engine_wait_fd(struct source *src, int *max_wait)
{
	if (src->drv->wait_fd)
		return src->drv->wait_fd(src, max_wait);
	*max_wait = src->cfg->poll_interval;
	return -1;
}

static void
engine_close(struct source *src)
{
	if (src->drv->close)
		src->drv->close(src);
	poison_free(src);
	src->priv = NULL;
}
