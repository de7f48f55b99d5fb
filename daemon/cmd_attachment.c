/* SPDX-License-Identifier: MIT */
/*
 * cmd_attachment.c: `intake attachment N [PART] [-o FILE | --dir DIR]`:
 * saves a ticket's attachments.  Only metadata is stored, so the bytes
 * come from the stored raw message, parsed again in the sandboxed parser
 * child (parsechild.h, parse_limits.want_attachment): a hostile message
 * meets libetpan there, never in this process.  PART numbers the ticket's
 * attachments as `intake show` lists them: in message order, 1 up.
 *
 * Files are created 0600 with O_EXCL|O_NOFOLLOW, never overwriting; names
 * come from the sender, so they are cut down to a safe base name.  On the
 * store's statement API (both drivers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "fmt.h"
#include "parsechild.h"
#include "util.h"

#define NAME_MAX_BYTES	200

/* One attachment of the ticket, as stored. */
struct att {
	long long	 message;	/* messages.id */
	int		 index;		/* 1-based within its message */
	char		*filename;	/* as the sender wrote it, or NULL */
	char		*content_type;
	long long	 size;
	char		*safe;		/* the file name we use */
};

struct atts {
	struct att	*v;
	size_t		 n, cap;
};

static void
atts_free(struct atts *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free(a->v[i].filename);
		free(a->v[i].content_type);
		free(a->v[i].safe);
	}
	free(a->v);
}

/*
 * A file name that cannot leave DIR or hide: the part after the last / or
 * \, control characters (C0, DEL, C1) and invalid UTF-8 as '_', no
 * leading dots or blanks, at most NAME_MAX_BYTES; "attachment-K" when
 * nothing is left.  Caller frees.
 */
char	*attachment_safe_name(const char *name, size_t k);

char *
attachment_safe_name(const char *name, size_t k)
{
	const char *base, *p;
	char *clean, *cut, *q;
	struct buf b;

	if (name == NULL)
		return xasprintf("attachment-%zu", k);
	base = name;
	for (p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	clean = utf8_sanitize(base, strlen(base));
	buf_init(&b, 0);
	buf_addstr(&b, "");
	for (q = clean; *q; q++) {
		unsigned char c = (unsigned char)*q;

		if (c < 0x20 || c == 0x7f)
			buf_addc(&b, '_');
		else if (c == 0xc2 && (unsigned char)q[1] >= 0x80 &&
		    (unsigned char)q[1] < 0xa0) {
			buf_addc(&b, '_');
			q++;
		} else if (c == 0xef && (unsigned char)q[1] == 0xbf &&
		    (unsigned char)q[2] == 0xbd) {
			buf_addc(&b, '_');	/* U+FFFD from bad UTF-8 */
			q += 2;
		} else
			buf_addc(&b, (char)c);
	}
	free(clean);
	p = b.data + strspn(b.data, ". \t");
	cut = utf8_truncate(p, NAME_MAX_BYTES);
	buf_free(&b);
	/* trailing blanks too: "evil.exe " looks like another name */
	for (q = cut + strlen(cut); q > cut && (q[-1] == ' ' || q[-1] == '.');)
		*--q = '\0';
	if (*cut == '\0') {
		free(cut);
		return xasprintf("attachment-%zu", k);
	}
	return cut;
}

/* "name.ext" -> "name-2.ext" when an earlier attachment has the name. */
static void
number_collisions(struct atts *a)
{
	size_t i, j, n;
	char *dot, *cand;
	int clash;

	for (i = 0; i < a->n; i++) {
		for (n = 2;; n++) {
			clash = 0;
			for (j = 0; j < i && !clash; j++)
				clash = strcmp(a->v[j].safe, a->v[i].safe) == 0;
			if (!clash)
				break;
			dot = strrchr(a->v[i].safe, '.');
			if (n > 2) {
				/* back to the original before numbering again */
				free(a->v[i].safe);
				a->v[i].safe = attachment_safe_name(
				    a->v[i].filename, i + 1);
				dot = strrchr(a->v[i].safe, '.');
			}
			if (dot && dot != a->v[i].safe)
				cand = xasprintf("%.*s-%zu%s",
				    (int)(dot - a->v[i].safe), a->v[i].safe, n, dot);
			else
				cand = xasprintf("%s-%zu", a->v[i].safe, n);
			free(a->v[i].safe);
			a->v[i].safe = cand;
		}
	}
}

static const struct query q_atts = {
	"SELECT id, attachments FROM messages WHERE ticket_id = ? "
	"ORDER BY received_at, id", NULL };
static const struct query q_raw = {
	"SELECT raw FROM messages WHERE id = ?", NULL };

static int
load_atts(struct store *st, long long ticket, struct atts *a)
{
	struct stmt *s;
	json_error_t err;
	json_t *arr, *o;
	struct att *t;
	size_t i;
	int rc;

	if ((s = store_prepare(st, &q_atts, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, ticket)) != STORE_OK) {
		store_done(s);
		return rc;
	}
	while ((rc = store_step(s)) == STORE_ROW) {
		const char *j = store_col_text(s, 1, NULL);

		arr = j ? json_loads(j, 0, &err) : NULL;
		json_array_foreach(arr, i, o) {
			if (a->n == a->cap) {
				a->cap = a->cap ? a->cap * 2 : 8;
				a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
			}
			t = &a->v[a->n++];
			memset(t, 0, sizeof(*t));
			t->message = store_col_int64(s, 0);
			t->index = (int)i + 1;
			if (json_string_value(json_object_get(o, "filename")))
				t->filename = xstrdup(json_string_value(
				    json_object_get(o, "filename")));
			t->content_type = xstrdup(json_string_value(
			    json_object_get(o, "content_type")) ?
			    json_string_value(json_object_get(o,
			    "content_type")) : "application/octet-stream");
			t->size = (long long)json_integer_value(
			    json_object_get(o, "size"));
			t->safe = attachment_safe_name(t->filename, a->n);
		}
		json_decref(arr);
	}
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

/* The decoded bytes of one attachment, from the parser child.  0 with
 * *out (caller frees), or -1 after a message on stderr. */
static int
fetch_bytes(struct store *st, const struct config *cfg, struct parsechild *pc,
    const struct att *t, char **out, size_t *outlen)
{
	struct parse_limits lim;
	struct message m;
	struct stmt *s;
	struct attachment *a;
	const void *raw;
	size_t rawlen;
	int rc;

	if ((s = store_prepare(st, &q_raw, &rc)) == NULL) {
		fprintf(stderr, "intake attachment: %s\n", store_errmsg(st));
		return -1;
	}
	if (store_bind_int64(s, 1, t->message) != STORE_OK ||
	    store_step(s) != STORE_ROW) {
		fprintf(stderr, "intake attachment: message #%lld: %s\n",
		    t->message, store_errmsg(st));
		store_done(s);
		return -1;
	}
	/* the limits it was stored with, so the parts are the same parts */
	parse_limits_default(&lim);
	lim.max_message_bytes = cfg->max_message_bytes;
	lim.max_depth = cfg->max_mime_depth;
	lim.max_parts = cfg->max_mime_parts;
	lim.max_headers = cfg->max_headers;
	lim.max_header_bytes = cfg->max_header_bytes;
	lim.max_text_bytes = cfg->max_text_bytes;
	lim.max_decode_ratio = cfg->max_decode_ratio;
	lim.timeout_ms = cfg->parse_timeout * 1000;
	lim.want_attachment = t->index;
	raw = store_col_blob(s, 0, &rawlen);
	parsechild_parse(pc, raw, rawlen, &lim, &m);
	store_done(s);
	a = (size_t)t->index <= m.nattachments ? &m.attachments[t->index - 1] :
	    NULL;
	if (a == NULL || a->data == NULL) {
		fprintf(stderr, "intake attachment: message #%lld: attachment "
		    "%d could not be decoded again (%s)\n", t->message, t->index,
		    m.parse_error ? m.parse_error : "no such part");
		message_free(&m);
		return -1;
	}
	*out = a->data;
	*outlen = a->data_len;
	a->data = NULL;
	message_free(&m);
	return 0;
}

/* Create path (never overwriting) and write the bytes.  0, or an exit
 * code after a message. */
static int
write_new(const char *path, const char *data, size_t len)
{
	size_t off = 0;
	ssize_t w;
	char *safe;
	int fd, e;

	if (strcmp(path, "-") == 0)
		fd = STDOUT_FILENO;
	else
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd == -1) {
		e = errno;
		safe = fmt_terminal_safe(path, 0);
		fprintf(stderr, "intake attachment: %s: %s%s\n", safe,
		    strerror(e), e == EEXIST ? " (not overwritten)" : "");
		free(safe);
		return EX_CANTCREAT;
	}
	while (off < len) {
		w = write(fd, data + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = errno;
			safe = fmt_terminal_safe(path, 0);
			fprintf(stderr, "intake attachment: %s: %s\n", safe,
			    strerror(e));
			free(safe);
			if (fd != STDOUT_FILENO)
				close(fd);
			return EX_IOERR;
		}
		off += (size_t)w;
	}
	if (fd != STDOUT_FILENO && close(fd) == -1) {
		fprintf(stderr, "intake attachment: close: %s\n", strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

static int
save(struct cli_env *env, long long ticket, unsigned long long part,
    const char *outfile, const char *dir)
{
	struct parsechild *pc = NULL;
	struct atts a;
	char *err = NULL, *data, *path, *safe;
	size_t i, len;
	int rc, worst = 0;

	memset(&a, 0, sizeof(a));
	if ((rc = load_atts(env->store, ticket, &a)) != STORE_OK) {
		fprintf(stderr, "intake attachment: %s\n",
		    store_errmsg(env->store));
		return rc == STORE_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
	}
	if (a.n == 0 || part > a.n) {
		if (a.n == 0)
			fprintf(stderr, "intake attachment: ticket #%lld has no "
			    "attachment (or no such ticket)\n", ticket);
		else
			fprintf(stderr, "intake attachment: ticket #%lld has %zu "
			    "attachment%s; see intake show %lld\n", ticket, a.n,
			    a.n == 1 ? "" : "s", ticket);
		atts_free(&a);
		return EX_DATAERR;
	}
	if (outfile && part == 0 && a.n > 1) {
		fprintf(stderr, "intake attachment: -o takes one attachment: "
		    "name its PART (1-%zu) or use --dir\n", a.n);
		atts_free(&a);
		return EX_USAGE;
	}
	number_collisions(&a);
	if ((pc = parsechild_start(&err)) == NULL) {
		fprintf(stderr, "intake attachment: %s\n", err);
		free(err);
		atts_free(&a);
		return EX_OSERR;
	}
	for (i = 0; i < a.n; i++) {
		if (part && i + 1 != part)
			continue;
		if (fetch_bytes(env->store, &env->cfg, pc, &a.v[i], &data,
		    &len) == -1) {
			worst = EX_DATAERR;
			continue;
		}
		path = outfile ? xstrdup(outfile) : xasprintf("%s/%s",
		    dir ? dir : ".", a.v[i].safe);
		rc = write_new(path, data, len);
		free(data);
		if (rc == 0 && strcmp(path, "-") != 0) {
			safe = fmt_terminal_safe(path, 0);
			printf("%zu %s (%zu bytes)\n", i + 1, safe, len);
			free(safe);
		}
		if (rc && !worst)
			worst = rc;
		free(path);
	}
	parsechild_stop(pc);
	atts_free(&a);
	return worst;
}

int
cmd_attachment(struct cmd_ctx *ctx)
{
	const char *outfile = cmd_opt(ctx, 'o'), *dir = cmd_opt(ctx, 'd'), *arg;
	unsigned long long id, part = 0;
	int rc;

	if (ctx->argc < 1 || ctx->argc > 2 || (outfile && dir))
		return cmd_usage_error(ctx);
	arg = ctx->argv[0][0] == '#' ? ctx->argv[0] + 1 : ctx->argv[0];
	if (parse_uint(arg, 1, (unsigned long long)1 << 62, &id) == -1 ||
	    (ctx->argc == 2 && parse_uint(ctx->argv[1], 1, 100000,
	    &part) == -1)) {
		fprintf(stderr, "intake attachment: the ticket and PART are "
		    "numbers\n");
		return EX_USAGE;
	}
	if ((rc = cmd_open(ctx)) != 0)
		return rc;
	return save(&ctx->env, (long long)id, part, outfile, dir);
}
