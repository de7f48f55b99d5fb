/* SPDX-License-Identifier: MIT */
/*
 * source_maildir.c: a local Maildir (the embedded default, and what the
 * demo and many tests use).  A message is new to us when its unique name
 * (the part before ":2,") is not stored yet, whether it sits in new/ or in
 * cur/: a mail client that moved it to cur/ unread must not hide it.  After
 * the commit, new/ messages move to cur/ and every stored one gets the S flag.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "source.h"
#include "util.h"

struct md_entry {
	char	*dir;		/* "new" or "cur" */
	char	*name;		/* file name */
	char	*key;		/* unique name */
};

struct md_list {
	struct md_entry	*v;
	size_t		 n, cap;
};

static char *
unique_name(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon ? xstrndup(name, (size_t)(colon - name)) : xstrdup(name);
}

static int
has_seen_flag(const char *name)
{
	const char *info = strstr(name, ":2,");

	return info && strchr(info + 3, 'S') != NULL;
}

static void
list_add(struct md_list *l, const char *dir, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].dir = xstrdup(dir);
	l->v[l->n].name = xstrdup(name);
	l->v[l->n].key = unique_name(name);
	l->n++;
}

static void
list_free(struct md_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].dir);
		free(l->v[i].name);
		free(l->v[i].key);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct md_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Every file of new/ and of cur/ that is not flagged S yet. */
static int
scan(const char *root, struct md_list *out, char **err)
{
	static const char *const subdirs[] = { "new", "cur" };
	struct dirent *de;
	size_t i;
	DIR *d;

	for (i = 0; i < NELEM(subdirs); i++) {
		char *path = xasprintf("%s/%s", root, subdirs[i]);

		d = opendir(path);
		if (d == NULL) {
			*err = xasprintf("maildir %s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (i == 1 && has_seen_flag(de->d_name))
				continue;
			list_add(out, subdirs[i], de->d_name);
		}
		closedir(d);
		free(path);
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
	return 0;
}

/* cur/NAME:2,<flags with S added in order>. */
static char *
seen_name(const char *name)
{
	const char *info = strstr(name, ":2,");
	struct buf b;
	const char *f;
	int added = 0;

	buf_init(&b, 0);
	if (info == NULL) {
		buf_addstr(&b, name);
		buf_addstr(&b, ":2,S");
		return buf_steal(&b);
	}
	buf_add(&b, name, (size_t)(info - name) + 3);
	for (f = info + 3; *f; f++) {
		if (!added && *f > 'S') {
			buf_addc(&b, 'S');
			added = 1;
		}
		buf_addc(&b, *f);
	}
	if (!added)
		buf_addc(&b, 'S');
	return buf_steal(&b);
}

static void
mark_seen(const char *root, const struct md_entry *e)
{
	char *from, *to, *nn;

	nn = seen_name(e->name);
	from = xasprintf("%s/%s/%s", root, e->dir, e->name);
	to = xasprintf("%s/cur/%s", root, nn);
	if (rename(from, to) == -1 && errno != ENOENT)
		log_warning("maildir: cannot mark %s/%s seen: %s", e->dir, e->key,
		    strerror(errno));
	free(from);
	free(to);
	free(nn);
}

static int
is_known(struct store *st, const char *source, const char *key)
{
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, "SELECT 1 FROM messages WHERE "
	    "source = ? AND source_key = ?", &rc);
	if (s == NULL)
		return store_classify(rc);
	sqlite3_bind_text(s, 1, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	store_stmt_done(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_classify(rc);
}

/* Read and ingest one file; STORE_OK also when it vanished meanwhile. */
static int
ingest_file(struct source *src, struct source_run *run,
    const struct md_entry *e, struct source_stats *stats, int *stored)
{
	struct raw_input raw;
	struct ingest_result res;
	struct stat sb;
	char *path, *data = NULL;
	size_t len = 0;
	int rc;

	*stored = 0;
	path = xasprintf("%s/%s/%s", src->cfg->path, e->dir, e->name);
	if (stat(path, &sb) == -1 ||
	    read_file(path, (size_t)1 << 30, &data, &len) == -1) {
		if (errno != ENOENT)
			log_warning("maildir %s: cannot read %s/%s: %s",
			    src->cfg->name, e->dir, e->key, strerror(errno));
		free(path);
		return STORE_OK;
	}
	free(path);
	memset(&raw, 0, sizeof(raw));
	raw.data = data;
	raw.len = len;
	raw.source = src->cfg->name;
	raw.source_key = e->key;
	raw.received_at = sb.st_mtime;
	stats->fetched++;
	rc = ingest_raw(run->ictx, &raw, &res);
	if (rc == STORE_OK) {
		*stored = 1;
		if (res.duplicate)
			stats->duplicates++;
		else
			stats->stored++;
		if (!res.duplicate && res.parse_status == MSG_PARSE_ERROR)
			stats->parse_errors++;
	}
	free(data);
	return rc;
}

/* One batch: ingest in one transaction, commit, then mark. */
static int
run_batch(struct source *src, struct source_run *run, struct md_entry *v,
    size_t n, struct source_stats *stats, char **err)
{
	struct store *st = run->ictx->store;
	char *done;
	size_t i;
	int rc, stored;

	done = xcalloc(n ? n : 1, 1);
	if ((rc = store_begin(st)) != STORE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		rc = ingest_file(src, run, &v[i], stats, &stored);
		if (rc != STORE_OK) {
			store_rollback(st);
			goto fail;
		}
		done[i] = (char)stored;
	}
	if ((rc = store_commit(st)) != STORE_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (done[i])
			mark_seen(src->cfg->path, &v[i]);
	free(done);
	return SRC_OK;
fail:
	*err = xasprintf("database: %s", store_errmsg(st));
	free(done);
	return rc == STORE_TEMP ? SRC_STORE : SRC_FATAL;
}

static int
maildir_poll(struct source *src, struct source_run *run,
    struct source_stats *stats, char **err)
{
	struct md_list all = { 0 }, todo = { 0 };
	size_t i, start, n;
	int rc = SRC_OK, known;

	stats->waiting = -1;
	if (scan(src->cfg->path, &all, err) == -1)
		return SRC_TEMP;
	for (i = 0; i < all.n; i++) {
		known = is_known(run->ictx->store, src->cfg->name, all.v[i].key);
		if (known < 0) {
			*err = xasprintf("database: %s", store_errmsg(run->ictx->store));
			rc = known == STORE_TEMP ? SRC_STORE : SRC_FATAL;
			goto out;
		}
		if (known)	/* stored before a crash: only mark it */
			mark_seen(src->cfg->path, &all.v[i]);
		else
			list_add(&todo, all.v[i].dir, all.v[i].name);
	}
	for (start = 0; start < todo.n; start += n) {
		if (*run->stop)
			break;
		n = todo.n - start;
		if (n > (size_t)run->batch)
			n = (size_t)run->batch;
		rc = run_batch(src, run, todo.v + start, n, stats, err);
		if (rc != SRC_OK)
			break;
		if (run->progress)
			run->progress(run->progress_arg);
	}
	stats->waiting = (int)(todo.n - (size_t)stats->fetched);
out:
	list_free(&all);
	list_free(&todo);
	return rc;
}

static int
maildir_wait_fd(struct source *src, int *max_wait)
{
	*max_wait = src->cfg->poll_interval;
	return -1;
}

static void
maildir_close(struct source *src)
{
	src->priv = NULL;
}

static const struct source_ops maildir_ops = {
	.poll = maildir_poll,
	.wait_fd = maildir_wait_fd,
	.close = maildir_close,
};

int
source_maildir_init(struct source *src, char **err)
{
	*err = NULL;
	src->ops = &maildir_ops;
	src->priv = NULL;
	return 0;
}
