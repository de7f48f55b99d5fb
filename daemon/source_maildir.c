/* SPDX-License-Identifier: MIT */
/*
 * source_maildir.c: a local Maildir (the embedded default, and what the
 * demo and many tests use).  A message is new to us when its unique name
 * (the part before ":2,") is not stored yet, whether it sits in new/ or in
 * cur/, flagged S or not: a mail client that moved it to cur/ (or read it)
 * must not hide it.  After the commit, new/ messages move to cur/ and every
 * stored one gets the S flag.  This is a driver of the source engine
 * (source.c): it lists, reads one file, and marks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* Every file of new/ and of cur/, flagged S or not: a message is new
 * to us when its unique name is not stored (the engine asks). */
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

	if (strcmp(e->dir, "cur") == 0 && has_seen_flag(e->name))
		return;		/* already where and what it should be */
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

/* dir/name for messages: control characters shown as '?'. */
static char *
shown_name(const struct md_entry *e)
{
	char *s = xasprintf("%s/%s", e->dir, e->name), *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

static const char *
file_kind(mode_t m)
{
	return S_ISLNK(m) ? "a symbolic link" : S_ISFIFO(m) ? "a FIFO" :
	    S_ISDIR(m) ? "a directory" : S_ISSOCK(m) ? "a socket" :
	    S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a regular file";
}

/* ---- the driver ---------------------------------------------------------- */

static int
md_list_new(struct source *src, struct source_run *run,
    const struct source_cursor *cur, struct source_listing *out, char **err)
{
	struct md_list all = { 0 };
	size_t i;

	(void)run;
	(void)cur;
	if (scan(src->cfg->path, &all, err) == -1) {
		list_free(&all);
		return SRC_TEMP;
	}
	for (i = 0; i < all.n; i++) {
		struct md_entry *e = xmalloc(sizeof(*e));

		*e = all.v[i];	/* handed over */
		source_listing_add(out, e->key, e);
	}
	free(all.v);
	return SRC_OK;
}

/*
 * Open without following a symbolic link and without blocking on a FIFO,
 * and read only a regular file: a link in new/ to a secret, or a FIFO that
 * blocks open() for ever while the batch holds the write transaction, is
 * "not a message", left where it is and never read.
 */
static int
md_fetch(struct source *src, struct source_run *run, struct source_item *it,
    struct source_msg *m, char **err)
{
	const struct md_entry *e = it->drv;
	struct stat sb;
	char *path, *data = NULL, *shown;
	size_t len = 0;
	int fd, rc = FETCH_OK;

	(void)run;
	path = xasprintf("%s/%s/%s", src->cfg->path, e->dir, e->name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd == -1 && errno == ELOOP)
		sb.st_mode = S_IFLNK;
	else if (fd == -1 && errno == ENXIO)	/* a socket */
		sb.st_mode = S_IFSOCK;
	if (fd == -1 && errno != ELOOP && errno != ENXIO) {
		rc = errno == ENOENT ? FETCH_GONE : FETCH_FAILED;
		if (rc == FETCH_FAILED)
			*err = xasprintf("cannot be read: %s", strerror(errno));
		free(path);
		return rc;
	}
	free(path);
	if (fd != -1 && fstat(fd, &sb) == -1) {
		*err = xasprintf("cannot be read: %s", strerror(errno));
		close(fd);
		return FETCH_FAILED;
	}
	if (fd == -1 || !S_ISREG(sb.st_mode)) {
		shown = shown_name(e);
		*err = xasprintf("%s: not a message (%s): left in place, never "
		    "read", shown, file_kind(sb.st_mode));
		free(shown);
		if (fd != -1)
			close(fd);
		return FETCH_NOT_MESSAGE;
	}
	if (read_fd(fd, (size_t)1 << 30, &data, &len) == -1) {
		*err = xasprintf("cannot be read: %s", strerror(errno));
		close(fd);
		return FETCH_FAILED;
	}
	close(fd);
	m->buf = data;
	m->raw.data = data;
	m->raw.len = len;
	m->raw.received_at = sb.st_mtime;
	return FETCH_OK;
}

static int
md_mark(struct source *src, struct source_item *const *v, size_t n,
    char **err)
{
	size_t i;

	(void)err;
	for (i = 0; i < n; i++)
		mark_seen(src->cfg->path, v[i]->drv);
	return 0;
}

static void
md_item_free(void *p)
{
	struct md_entry *e = p;

	free(e->dir);
	free(e->name);
	free(e->key);
	free(e);
}

static int
md_wait_fd(struct source *src, int *max_wait)
{
	*max_wait = src->cfg->poll_interval;
	return -1;
}

static const struct source_driver maildir_driver = {
	.type = "maildir",
	.flags = SRCDRV_SKIP_KNOWN,
	.list_new = md_list_new,
	.fetch = md_fetch,
	.mark = md_mark,
	.item_free = md_item_free,
	.wait_fd = md_wait_fd,
};

int
source_maildir_init(struct source *src, char **err)
{
	*err = NULL;
	source_set_driver(src, &maildir_driver, NULL);
	return 0;
}
