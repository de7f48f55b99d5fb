/* SPDX-License-Identifier: MIT */
/*
 * source_mem.c: a source driver over messages in memory, for the tests
 * (isync's drv_proxy.c idea): it can fail a fetch, fail or crash in mark,
 * move the cursor back, and advance a test clock per fetch, so
 * tests/unit/test_source.c reaches every path of the engine.  Nothing in
 * the programs refers to it, so the linker leaves it out of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "source_mem_p.h"
#include "util.h"

#define MEM_UIDVALIDITY	1
#define MEM_RECEIVED_AT	1795000000	/* a fixed instant: same tickets */

static int
mem_list_new(struct source *src, struct source_run *run,
    const struct source_cursor *cur, struct source_listing *out, char **err)
{
	struct mem_source *ms = src->priv;
	struct source_item *it;
	size_t i = 0;

	(void)run;
	(void)err;
	if (ms->use_cursor && cur->uidvalidity == MEM_UIDVALIDITY &&
	    cur->last_uid > 0)
		i = (size_t)(ms->use_marked ? cur->marked : cur->last_uid);
	for (; i < ms->n; i++) {
		/* Without a cursor a marked message is not listed again (as
		 * cur/ + S); with one, everything after it is (as UIDs). */
		if (!ms->use_cursor && ms->v[i].marked)
			continue;
		it = source_listing_add(out, ms->v[i].key,
		    (void *)(uintptr_t)(i + 1));
		if (ms->use_cursor) {
			it->after.uidvalidity = MEM_UIDVALIDITY;
			it->after.last_uid = (long long)i + 1;
			it->has_after = 1;
		}
	}
	if (ms->regress_to > 0) {
		out->end.uidvalidity = MEM_UIDVALIDITY;
		out->end.last_uid = ms->regress_to;
		out->has_end = 1;
	}
	return SRC_OK;
}

static struct mem_message *
mem_item(struct source *src, const struct source_item *it)
{
	struct mem_source *ms = src->priv;

	return &ms->v[(uintptr_t)it->drv - 1];
}

static int
mem_fetch(struct source *src, struct source_run *run, struct source_item *it,
    struct source_msg *m, char **err)
{
	struct mem_source *ms = src->priv;
	struct mem_message *mm = mem_item(src, it);

	(void)run;
	ms->fetches++;
	if (ms->clock)
		*ms->clock += ms->clock_step_ms;
	if (mm->not_message) {
		*err = xasprintf("%s: not a message", mm->key);
		return FETCH_NOT_MESSAGE;
	}
	if (mm->fail_temp) {
		*err = xasprintf("%s: planted connection drop", mm->key);
		return FETCH_FAILED_TEMP;
	}
	if (mm->data == NULL) {
		*err = xstrdup("cannot be read: planted failure");
		return FETCH_FAILED;
	}
	if (mm->held) {
		mm->held = 0;
		ms->from_prefetch++;
	}
	m->raw.data = mm->data;
	m->raw.len = strlen(mm->data);
	m->raw.received_at = MEM_RECEIVED_AT;
	return FETCH_OK;
}

static int
mem_mark(struct source *src, struct source_item *const *v, size_t n,
    char **err)
{
	struct mem_source *ms = src->priv;
	size_t i;

	if (ms->abort_in_mark)
		abort();	/* a crash between commit and mark */
	if (ms->fail_mark) {
		*err = xstrdup("planted mark failure");
		return MARK_REFUSED;
	}
	if (ms->break_mark) {
		*err = xstrdup("planted connection drop while marking");
		return MARK_BROKEN;
	}
	for (i = 0; i < n; i++)
		mem_item(src, v[i])->marked++;
	return 0;
}

/* What the engine hands over for one batch: held until fetched; what an
 * earlier batch left unfetched is dropped. */
static int
mem_prefetch(struct source *src, struct source_run *run,
    struct source_item *const *v, size_t n, char **err)
{
	struct mem_source *ms = src->priv;
	size_t i;

	(void)run;
	ms->prefetches++;
	if ((int)n > ms->prefetch_max)
		ms->prefetch_max = (int)n;
	if (ms->fail_prefetch) {
		*err = xstrdup("planted prefetch failure");
		return SRC_TEMP;
	}
	for (i = 0; i < ms->n; i++)
		ms->v[i].held = 0;
	for (i = 0; i < n; i++)
		if (mem_item(src, v[i])->fail_temp) {
			*err = xasprintf("%s: planted connection drop in a "
			    "fetch of %zu", mem_item(src, v[i])->key, n);
			return SRC_TEMP;
		}
	for (i = 0; i < n; i++)
		mem_item(src, v[i])->held = 1;
	ms->prefetched += (int)n;
	return SRC_OK;
}

/* What a real source may still have of a message it cannot deliver: its
 * header, as IMAP's BODY.PEEK[HEADER]. */
static int
mem_record(struct source *src, struct source_run *run, struct source_item *it,
    int tries, const char *why, struct source_msg *m, char **err)
{
	struct mem_source *ms = src->priv;
	struct mem_message *mm = mem_item(src, it);

	(void)run;
	(void)why;
	if (ms->fail_record) {
		*err = xasprintf("%s: planted failure of the record", mm->key);
		return FETCH_TEMP;
	}
	m->buf = xasprintf("From: kept-%s@example.net\nMessage-ID: "
	    "<header-%s@example.net>\n\n", mm->key, mm->key);
	m->raw.data = m->buf;
	m->raw.len = strlen(m->buf);
	m->raw.received_at = MEM_RECEIVED_AT;
	m->reason = xasprintf("the memory source could not deliver this "
	    "message (%s; %d failed attempts)", mm->key, tries);
	m->label = xasprintf("mem item %s", mm->key);
	m->kept = xstrdup("its header only");
	return FETCH_OK;
}

/* As IMAP entering IDLE: a message that arrived meanwhile means list
 * again. */
static int
mem_poll_end(struct source *src, struct source_run *run, int rc)
{
	struct mem_source *ms = src->priv;

	(void)run;
	ms->end_calls++;
	ms->end_rc = rc;
	if (ms->end_arrivals > 0) {
		ms->end_arrivals--;
		ms->n++;
		return 1;
	}
	return 0;
}

void
source_mem_init(struct source *src, const struct source_config *cfg,
    struct mem_source *ms)
{
	struct source_driver *d = &ms->drv;

	memset(src, 0, sizeof(*src));
	memset(d, 0, sizeof(*d));
	src->cfg = cfg;
	d->type = "mem";
	d->flags = SRCDRV_SKIP_KNOWN;
	if (ms->use_cursor)
		d->flags |= SRCDRV_CURSOR;
	if (ms->save_failures)
		d->flags |= SRCDRV_FAILURES_SAVED;
	if (ms->mark_alert)
		d->flags |= SRCDRV_MARK_ALERT;
	if (ms->use_cursor && ms->use_marked)
		d->flags |= SRCDRV_MARKED;
	d->list_new = mem_list_new;
	d->fetch = mem_fetch;
	d->mark = mem_mark;
	if (ms->use_prefetch)
		d->prefetch = mem_prefetch;
	if (ms->use_record)
		d->record = mem_record;
	if (ms->use_poll_end)
		d->poll_end = mem_poll_end;
	source_set_driver(src, d, ms);
}
