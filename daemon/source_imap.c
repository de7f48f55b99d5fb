/* SPDX-License-Identifier: MIT */
/*
 * source_imap.c: an IMAP mailbox through libetpan's low-level mailimap API,
 * a driver of the source engine (source.h, source.c).
 *
 * The driver connects (verifying the server's certificate itself: Debian's
 * libetpan verifies nothing), logs in, SELECTs, lists, fetches and marks;
 * the engine owns the exactly-once order (fetch, begin, ingest, cursor,
 * commit, then mark), the cursor (uidvalidity, last_uid, and "marked=N":
 * every UID up to N is marked, SRCDRV_MARKED) and the failure counts
 * (SRCDRV_FAILURES_SAVED: in the database, so `intaked --once` under cron
 * counts across runs).  What to fetch is decided by UID alone, never by
 * \Seen, so a human reading the mailbox in webmail hides nothing.
 *
 * list_new lists every UID from the watermark on (those up to last_uid are
 * stored: the engine only marks them, which repairs a crash between commit
 * and marking); prefetch fetches a batch's bodies by UID range (one UID
 * FETCH 101:200 up to BATCH_BYTES, the rest in further ranges).  A
 * message the server cannot deliver (it drops the connection on it,
 * answers its FETCH without a body, lists it without a size) is
 * FETCH_FAILED_TEMP: the batch before it is committed and the poll fails;
 * a failed batch makes its UIDs suspects, fetched one at a time, which
 * finds the culprit; after SOURCE_POISON_TRIES record() keeps what can be
 * had (its header) as a ticket for a human, left unmarked on the server.
 *
 * With IDLE the session stays open between polls: poll_end enters IDLE and
 * wait_fd() hands the socket to the daemon's loop; the next poll says DONE.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "log.h"
#include "net.h"
#include "oauth.h"
#include "resolve.h"
#include "source.h"
#include "tlsverify.h"
#include "tokencmd.h"
#include "util.h"

#define IDLE_MAX_SECS	(25 * 60)	/* re-issue IDLE well before 29 min */
#define IDLE_MAX_FAILS	2		/* then poll instead (libetpan #393) */
#define ROUNDS_MAX	5		/* listings per poll while mail comes */
#define BATCH_BYTES	((size_t)4 << 20)	/* bodies held per batch */
#define MARK_CHUNK	500		/* UIDs per STORE/MOVE command */
#define TOKEN_MAX	65536

/* What the pace guard saw of the server's framing (guard_stream()). */
enum { WIRE_OK = 1, WIRE_NO, WIRE_BAD };
struct wire {
	uint64_t	 literal_max;	/* one literal: max_message_bytes */
	uint64_t	 command_max;	/* all literals of one command */
	int		 tagged;	/* WIRE_*, 0: no tagged line yet */
	uint64_t	 over_size;	/* a literal refused as over literal_max */
	uint32_t	 over_uid;	/* ... in the FETCH of this UID (0: ?) */
	int		 budget_over;	/* command_max passed */
	int		 line_over;	/* WIRE_LINE_MAX passed */
	int		 dropped;	/* end of file or reset */
	int		 bye;		/* * BYE seen */
};

struct imap_state {
	mailimap	*imap;		/* NULL when not connected */
	struct wire	 wire;		/* of the current session */
	char		*host;		/* for SNI and name checks; no final dot */
	uint32_t	 uidvalidity;	/* of the selected mailbox */
	int		 has_move;
	int		 has_uidplus;
	int		 has_idle;
	int		 idling;	/* IDLE sent, DONE not yet */
	time_t		 idle_since;
	int		 idle_fails;	/* consecutive */
	int		 idle_off;	/* switched to polling */
	int		 again;		/* mail still arriving: poll at once */
	char		*move_to;	/* after = move: the folder, resolved
					   against the personal namespace */
	int		 mark_rc;	/* the last marking command's error */
	struct resolve_left *dns_left;	/* a lookup that outlived its timeout */
	size_t		 max_bytes;	/* limits.max_message_bytes */
	uint32_t	 list_uidvalidity;	/* of the last listing */
	size_t		 found;		/* new UIDs in the last listing */
	/* What hold() read for a batch, until the next hold or the poll's
	 * end: the responses (whole bodies; headers of the oversized) and
	 * the UIDs asked. */
	clist		*held_w, *held_h;
	uint32_t	*asked;
	size_t		 nasked;
	/* The batch the engine's last prefetch offered (the listing's
	 * items, borrowed until the next prefetch or the poll's end): what
	 * lies past the bytes held is fetched from it in ranges too.
	 * batch_alone: a range of it failed, the rest goes one by one. */
	struct uid_item	**batch;
	size_t		 nbatch;
	int		 batch_alone;
	uint32_t	 over_uid;	/* its literal was over the limit ... */
	uint64_t	 over_size;	/* ... announcing this many bytes */
};

/* One UID still to fetch. */
struct uid_item {
	uint32_t	 uid;
	uint32_t	 size;
	int		 nosize;	/* listed without RFC822.SIZE: a gap */
};

struct uid_list {
	struct uid_item	*v;
	size_t		 n, cap;
};

static int	 is_stream_error(int);
static void	 idle_failed(struct source *, struct imap_state *, int);

/* ---- small helpers ------------------------------------------------------ */

static const char *
etpan_strerror(int rc)
{
	switch (rc) {
	case MAILIMAP_ERROR_STREAM:
		return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE:
		return "unparsable server response";
	case MAILIMAP_ERROR_FATAL:
		return "server closed the session (BYE)";
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return "connection refused or host unreachable";
	case MAILIMAP_ERROR_MEMORY:
		return "out of memory";
	case MAILIMAP_ERROR_SSL:
		return "TLS handshake failed";
	case MAILIMAP_ERROR_STARTTLS:
		return "STARTTLS refused";
	case MAILIMAP_ERROR_LOGIN:
		return "login refused";
	case MAILIMAP_ERROR_BAD_STATE:
		return "bad session state";
	default:
		return "command failed";
	}
}

/* "what: reason [server text]"; the server's text is escaped. */
static char *
imap_error(struct imap_state *st, const char *what, int rc)
{
	char *resp = NULL, *msg;

	if (st->imap && st->imap->imap_response && !is_stream_error(rc))
		resp = str_escape(st->imap->imap_response, 200);
	msg = xasprintf("%s: %s%s%s%s", what, etpan_strerror(rc),
	    resp ? " [" : "", resp ? resp : "", resp ? "]" : "");
	free(resp);
	return msg;
}

static int
is_stream_error(int rc)
{
	return rc == MAILIMAP_ERROR_STREAM || rc == MAILIMAP_ERROR_PARSE ||
	    rc == MAILIMAP_ERROR_FATAL || rc == MAILIMAP_ERROR_MEMORY ||
	    rc == MAILIMAP_ERROR_BAD_STATE;
}

static void
uid_list_add(struct uid_list *l, uint32_t uid, uint32_t size, int nosize)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].uid = uid;
	l->v[l->n].size = size;
	l->v[l->n].nosize = nosize;
	l->n++;
}

static int
uid_item_cmp(const void *a, const void *b)
{
	const struct uid_item *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* INTERNALDATE to Unix time; dt_zone is a signed HHMM (-0500 -> -500). */
static time_t
imap_date_to_time(const struct mailimap_date_time *d)
{
	struct tm tm;
	int z, off;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = d->dt_year - 1900;
	tm.tm_mon = d->dt_month - 1;
	tm.tm_mday = d->dt_day;
	tm.tm_hour = d->dt_hour;
	tm.tm_min = d->dt_min;
	tm.tm_sec = d->dt_sec;
	z = d->dt_zone < 0 ? -d->dt_zone : d->dt_zone;
	off = (z / 100) * 3600 + (z % 100) * 60;
	return timegm(&tm) - (d->dt_zone < 0 ? -off : off);
}

/* ---- credentials -------------------------------------------------------- */

static void
secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ---- end of file in a literal (libetpan < 1.10) -------------------------- */

/*
 * Debian's libetpan 1.9.4 loops forever, at full CPU, when the server
 * closes the connection in the middle of a literal: its literal reader
 * takes only -1, not 0, for an error (fixed upstream in 1.10, commit
 * 68de795 "Handle EOF while reading IMAP literals").  That is what Dovecot
 * does when it finds a message corrupted while sending it, so one bad
 * message would hang the daemon.  The stream's lowest layer is therefore
 * wrapped: end of file reads as -1, which every caller treats as a stream
 * error; everything else passes through to the real layer (socket or TLS).
 */
/*
 * The same wrapper keeps a pace: libetpan's timeout is per read, so a
 * server that trickles a byte a second would hold a command (and the whole
 * daemon) for ever.  A command may take GUARD_BASE_FACTOR x timeout, plus
 * one second per GUARD_MIN_RATE bytes of progress; past that its reads
 * fail as a stream error and the session is dropped.  Progress is a
 * complete line or literal data: an endless line earns no time (and is cut
 * at WIRE_LINE_MAX anyway).
 *
 * And it reads the response's framing as it passes (lines, and literals
 * announced as {N} at a line's end), because libetpan 1.9.4 keeps neither
 * bound nor verdict: it allocates a literal of whatever size is announced
 * and holds every line whole, and it reports a non-empty FETCH as success
 * even when the tagged reply is NO.  So:
 *   - a literal over wire.literal_max fails the read before libetpan sees
 *     its {N}, and wire.over_* say which FETCH it belonged to;
 *   - the literals of one command are bounded by wire.command_max;
 *   - a line is bounded by WIRE_LINE_MAX;
 *   - wire.tagged is the status of the last tagged line since the last
 *     command was written, and wire.dropped/wire.bye say the server went
 *     away (a drop is not an IDLE stall).
 */
#define GUARD_BASE_FACTOR	3
#define GUARD_MIN_RATE		1024	/* bytes per second, on average */
#define WIRE_LINE_MAX		((size_t)1 << 20)
#define WIRE_HEAD		256	/* bytes kept of a response's start */
#define WIRE_TAIL		24	/* ... and of a line's end: {N}CRLF */

struct guard {
	mailstream_low	*real;
	struct wire	*w;		/* the session's; outlives it */
	int		 timeout;	/* seconds, per read */
	time_t		 since;		/* the last write: a command's start */
	size_t		 got;		/* bytes of progress since */
	time_t		 base;		/* seconds allowed whatever the pace */
	uint64_t	 lit_left;	/* literal bytes still to pass */
	uint64_t	 cmd_lits;	/* literal bytes since the last write */
	size_t		 line_len;	/* of the current line (so far) */
	int		 cont;		/* the line continues after a literal */
	char		 head[WIRE_HEAD];
	size_t		 head_len;
	char		 tail[WIRE_TAIL];
	size_t		 tail_len;
};

static int
guard_too_slow(const struct guard *g)
{
	time_t now = time(NULL);

	return now - g->since > g->base + (time_t)(g->got / GUARD_MIN_RATE);
}

/* "{N}" or "{N+}" before the line's CRLF (or LF): 1 and *n, else 0. */
static int
wire_literal(const char *t, size_t len, uint64_t *n)
{
	size_t i, end = len;
	uint64_t v = 0;

	if (end > 0 && t[end - 1] == '\n')
		end--;
	if (end > 0 && t[end - 1] == '\r')
		end--;
	if (end < 3 || t[end - 1] != '}')
		return 0;
	end--;
	if (t[end - 1] == '+')
		end--;
	for (i = end; i > 0 && t[i - 1] >= '0' && t[i - 1] <= '9'; i--)
		;
	if (i == end || i == 0 || t[i - 1] != '{' || end - i > 12)
		return 0;
	for (; i < end; i++)
		v = v * 10 + (uint64_t)(t[i] - '0');
	*n = v;
	return 1;
}

/* The UID of a "* n FETCH (... UID u ..." response start, or 0. */
static uint32_t
wire_fetch_uid(const char *h, size_t len)
{
	size_t i;
	uint64_t v = 0;

	for (i = 0; i + 5 < len; i++) {
		if ((h[i] == ' ' || h[i] == '(') && strncasecmp(h + i + 1,
		    "UID ", 4) == 0) {
			for (i += 5; i < len && h[i] >= '0' && h[i] <= '9'; i++)
				if ((v = v * 10 + (uint64_t)(h[i] - '0')) > UINT32_MAX)
					return 0;
			return (uint32_t)v;
		}
	}
	return 0;
}

/* A complete line (not a literal's continuation): a tagged status, BYE. */
static void
wire_line_start(struct guard *g)
{
	const char *h = g->head, *sp;
	size_t len = g->head_len;

	if (len >= 6 && strncasecmp(h, "* BYE ", 6) == 0)
		g->w->bye = 1;
	if (len == 0 || h[0] == '*' || h[0] == '+')
		return;
	if ((sp = memchr(h, ' ', len)) == NULL)
		return;
	sp++;
	len -= (size_t)(sp - h);
	if (len >= 3 && strncasecmp(sp, "OK ", 3) == 0)
		g->w->tagged = WIRE_OK;
	else if (len >= 2 && strncasecmp(sp, "NO", 2) == 0)
		g->w->tagged = WIRE_NO;
	else if (len >= 3 && strncasecmp(sp, "BAD", 3) == 0)
		g->w->tagged = WIRE_BAD;
}

/* The end of a line; -1 when the literal it announces is refused. */
static int
wire_line_end(struct guard *g)
{
	uint64_t n;

	g->got += g->line_len;
	if (wire_literal(g->tail, g->tail_len, &n)) {
		if (n > g->w->literal_max) {
			g->w->over_size = n;
			g->w->over_uid = wire_fetch_uid(g->head, g->head_len);
			return -1;
		}
		if ((g->cmd_lits += n) > g->w->command_max) {
			g->w->budget_over = 1;
			return -1;
		}
		g->lit_left = n;
		g->cont = 1;	/* the response goes on after the literal */
	} else {
		if (!g->cont)
			wire_line_start(g);
		g->cont = 0;
		g->head_len = 0;
	}
	g->line_len = 0;
	g->tail_len = 0;
	return 0;
}

/* Line bytes (no LF inside but maybe at the end). */
static void
wire_keep(struct guard *g, const char *p, size_t n)
{
	size_t k;

	k = n < WIRE_HEAD - g->head_len ? n : WIRE_HEAD - g->head_len;
	memcpy(g->head + g->head_len, p, k);
	g->head_len += k;
	if (n >= WIRE_TAIL) {
		memcpy(g->tail, p + n - WIRE_TAIL, WIRE_TAIL);
		g->tail_len = WIRE_TAIL;
	} else {
		if (g->tail_len + n > WIRE_TAIL) {
			k = g->tail_len + n - WIRE_TAIL;
			memmove(g->tail, g->tail + k, g->tail_len - k);
			g->tail_len -= k;
		}
		memcpy(g->tail + g->tail_len, p, n);
		g->tail_len += n;
	}
	g->line_len += n;
}

/* Follow the framing of what was read; -1 when a bound is passed. */
static int
wire_scan(struct guard *g, const char *p, size_t n)
{
	const char *lf;
	size_t k;

	while (n > 0) {
		if (g->lit_left > 0) {
			k = g->lit_left < n ? (size_t)g->lit_left : n;
			g->lit_left -= k;
			g->got += k;
			p += k;
			n -= k;
			continue;
		}
		lf = memchr(p, '\n', n);
		k = lf ? (size_t)(lf - p) + 1 : n;
		wire_keep(g, p, k);
		if (g->line_len > WIRE_LINE_MAX) {
			g->w->line_over = 1;
			return -1;
		}
		if (lf && wire_line_end(g) == -1)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

static ssize_t
eof_read(mailstream_low *s, void *buf, size_t count)
{
	struct guard *g = s->data;
	uint64_t t0;
	ssize_t r;

	if (guard_too_slow(g))
		return -1;
	t0 = now_ms_monotonic();
	r = mailstream_low_read(g->real, buf, count);
	if (r > 0 && wire_scan(g, buf, (size_t)r) == -1)
		return -1;
	/* End of file, or an error well before the read's timeout: the
	 * server went away (a timeout is what an IDLE stall looks like). */
	if ((r == 0 && count > 0) || (r < 0 && now_ms_monotonic() - t0 <
	    (uint64_t)g->timeout * 500))
		g->w->dropped = 1;
	return r == 0 && count > 0 ? -1 : r;
}

static ssize_t
eof_write(mailstream_low *s, const void *buf, size_t count)
{
	struct guard *g = s->data;

	g->since = time(NULL);
	g->got = 0;
	g->cmd_lits = 0;
	g->w->tagged = 0;
	return mailstream_low_write(g->real, buf, count);
}

static int
eof_close(mailstream_low *s)
{
	return mailstream_low_close(((struct guard *)s->data)->real);
}

static int
eof_get_fd(mailstream_low *s)
{
	return mailstream_low_get_fd(((struct guard *)s->data)->real);
}

/* Frees the real layer, then the wrapper (as libetpan's own drivers free
 * their mailstream_low). */
static void
eof_free(mailstream_low *s)
{
	struct guard *g = s->data;

	mailstream_low_free(g->real);
	free(g);
	free(s);
}

static void
eof_cancel(mailstream_low *s)
{
	mailstream_low_cancel(((struct guard *)s->data)->real);
}

static struct mailstream_cancel *
eof_get_cancel(mailstream_low *s)
{
	return mailstream_low_get_cancel(((struct guard *)s->data)->real);
}

static carray *
eof_certificate_chain(mailstream_low *s)
{
	return mailstream_low_get_certificate_chain(((struct guard *)s->data)->real);
}

static int
eof_setup_idle(mailstream_low *s)
{
	return mailstream_low_setup_idle(((struct guard *)s->data)->real);
}

static int
eof_unsetup_idle(mailstream_low *s)
{
	return mailstream_low_unsetup_idle(((struct guard *)s->data)->real);
}

static int
eof_interrupt_idle(mailstream_low *s)
{
	return mailstream_low_interrupt_idle(((struct guard *)s->data)->real);
}

/* Never written; not const only because mailstream_low_new() wants it so. */
static mailstream_low_driver eof_driver = {
	.mailstream_read = eof_read,
	.mailstream_write = eof_write,
	.mailstream_close = eof_close,
	.mailstream_get_fd = eof_get_fd,
	.mailstream_free = eof_free,
	.mailstream_cancel = eof_cancel,
	.mailstream_get_cancel = eof_get_cancel,
	.mailstream_get_certificate_chain = eof_certificate_chain,
	.mailstream_setup_idle = eof_setup_idle,
	.mailstream_unsetup_idle = eof_unsetup_idle,
	.mailstream_interrupt_idle = eof_interrupt_idle,
};

/* Wrap the connected (and, with STARTTLS, upgraded) stream.  0 or -1. */
static int
guard_stream(mailstream *stream, struct wire *wire, int timeout)
{
	mailstream_low *real, *w;
	struct guard *g;

	real = mailstream_get_low(stream);
	if (real == NULL)
		return -1;
	g = xcalloc(1, sizeof(*g));
	g->real = real;
	g->w = wire;
	g->timeout = timeout > 0 ? timeout : 60;
	g->since = time(NULL);
	g->base = (time_t)GUARD_BASE_FACTOR * (timeout > 0 ? timeout : 60);
	if ((w = mailstream_low_new(g, &eof_driver)) == NULL) {
		free(g);
		return -1;
	}
	mailstream_low_set_timeout(w, mailstream_low_get_timeout(real));
	mailstream_set_low(stream, w);
	return 0;
}

static int
guard_eof(struct imap_state *st, int timeout)
{
	return guard_stream(st->imap->imap_stream, &st->wire, timeout);
}

/* ---- connecting --------------------------------------------------------- */

static void
set_sni(struct mailstream_ssl_context *ctx, void *arg)
{
	/* 1.9.4 sends no SNI by itself; the setter wants a non-const copy. */
	mailstream_ssl_set_server_name(ctx, arg);
}

static void
session_drop(struct imap_state *st)
{
	if (st->imap)
		mailimap_free(st->imap);
	st->imap = NULL;
	st->idling = 0;
	st->uidvalidity = 0;
}

/* A new session: forget what the last one's server did. */
static void
wire_reset(struct wire *w)
{
	uint64_t lmax = w->literal_max, cmax = w->command_max;

	memset(w, 0, sizeof(*w));
	w->literal_max = lmax ? lmax : UINT32_MAX;
	w->command_max = cmax ? cmax : UINT32_MAX;
}

/*
 * mailimap_uid_fetch(), failing also when the tagged reply was not OK:
 * libetpan 1.9.4 returns success for a non-empty FETCH whatever the
 * tagged reply says, and what it then hands back may be missing messages.
 */
static int
uid_fetch(struct imap_state *st, struct mailimap_set *set,
    struct mailimap_fetch_type *ft, clist **res)
{
	int rc;

	*res = NULL;
	st->wire.tagged = 0;
	rc = mailimap_uid_fetch(st->imap, set, ft, res);
	if (rc == MAILIMAP_NO_ERROR && st->wire.tagged != WIRE_OK) {
		mailimap_fetch_list_free(*res);
		*res = NULL;
		rc = MAILIMAP_ERROR_UID_FETCH;
	}
	return rc;
}

/* Check the certificate chain the server sent, before any credential. */
static int
check_certificate(struct source *src, struct imap_state *st, char **err)
{
	const struct source_config *cfg = src->cfg;
	struct tlsverify_opts o;
	struct tlsverify_cert *certs;
	carray *chain;
	unsigned int i, n;
	int rc;

	if (cfg->pin_sha256)
		log_debug("source %s: certificate checked against pin_sha256 "
		    "only", cfg->name);
	else if (!cfg->tls_verify)
		log_warning("source %s: tls_verify = false: the certificate of "
		    "%s is NOT verified", cfg->name, st->host);
	chain = mailstream_get_certificate_chain(st->imap->imap_stream);
	n = chain ? carray_count(chain) : 0;
	certs = xcalloc(n ? n : 1, sizeof(*certs));
	for (i = 0; i < n; i++) {
		MMAPString *s = carray_get(chain, i);

		certs[i].der = (const unsigned char *)s->str;
		certs[i].len = s->len;
	}
	o.host = st->host;
	o.ca_file = cfg->ca_file;
	o.pin_sha256 = cfg->pin_sha256;
	o.verify = cfg->tls_verify;
	rc = tlsverify_chain(&o, certs, n, err);
	free(certs);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return rc;
}

static int
refresh_capabilities(struct imap_state *st, char **err)
{
	struct mailimap_capability_data *cap = NULL;
	int rc;

	rc = mailimap_capability(st->imap, &cap);
	if (rc != MAILIMAP_NO_ERROR) {
		*err = imap_error(st, "CAPABILITY", rc);
		return -1;
	}
	mailimap_capability_data_free(cap);
	return 0;
}

/*
 * TCP connect with a deadline on the lookup and on each address (libetpan's
 * own connect is not in its public headers).  The descriptor, or -1 with
 * *err.
 */
static int
tcp_connect(struct imap_state *st, const char *host, int port, int timeout,
    int loopback_only, char **err)
{
	struct addrinfo *res = NULL, *ai;
	struct pollfd pfd;
	socklen_t len;
	int fd = -1, rc, soerr = 0;

	if (resolve_tcp(host, port, timeout, &st->dns_left, &res, err) == -1)
		return -1;
	errno = EADDRNOTAVAIL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		/* tls = "none": the password goes in clear, so only to an
		 * address of this machine, whatever the name resolves to now. */
		if (loopback_only && !net_addr_is_loopback(ai->ai_addr)) {
			log_err("%s resolves to an address that is not loopback: "
			    "not connecting without TLS", host);
			continue;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			len = sizeof(soerr);
			if (poll(&pfd, 1, timeout * 1000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
			    soerr == 0)
				break;
			errno = soerr ? soerr : ETIMEDOUT;
		}
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	if (fd == -1)
		*err = xasprintf("connect to %s port %d: %s", host, port,
		    strerror(errno));
	freeaddrinfo(res);
	/* libetpan's streams expect a blocking descriptor. */
	if (fd != -1)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static int
imap_ok(int rc)
{
	return rc == MAILIMAP_NO_ERROR || rc == MAILIMAP_NO_ERROR_AUTHENTICATED ||
	    rc == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

/*
 * Open the stream ourselves so that the pace guard is in place before the
 * greeting: a server that trickles its greeting must not hold the daemon.
 */
static int
open_guarded(struct source *src, struct imap_state *st, char **err)
{
	const struct source_config *cfg = src->cfg;
	mailstream *stream;
	int fd, rc;

	if ((fd = tcp_connect(st, cfg->host, cfg->port, cfg->timeout,
	    cfg->tls == IMAP_TLS_NONE, err)) == -1)
		return -1;
	if (cfg->tls == IMAP_TLS_IMPLICIT)
		stream = mailstream_ssl_open_with_callback_timeout(fd,
		    cfg->timeout, set_sni, st->host);
	else
		stream = mailstream_socket_open_timeout(fd, cfg->timeout);
	if (stream == NULL) {
		close(fd);
		*err = xasprintf("connect to %s port %d: %s failed", cfg->host,
		    cfg->port, cfg->tls == IMAP_TLS_IMPLICIT ? "TLS handshake" :
		    "stream set-up");
		return -1;
	}
	if (guard_stream(stream, &st->wire, cfg->timeout) == -1) {
		mailstream_close(stream);
		*err = xstrdup("out of memory");
		return -1;
	}
	rc = mailimap_connect(st->imap, stream);
	if (!imap_ok(rc)) {
		char *what = xasprintf("connect to %s port %d", cfg->host,
		    cfg->port);

		*err = imap_error(st, what, rc);
		free(what);
		return -1;
	}
	return 0;
}

static int
connect_tls(struct source *src, struct imap_state *st, char **err)
{
	const struct source_config *cfg = src->cfg;
	int rc;

	if (open_guarded(src, st, err) == -1)
		return -1;
	if (cfg->tls == IMAP_TLS_STARTTLS) {
		rc = mailimap_socket_starttls_with_callback(st->imap, set_sni,
		    st->host);
		if (rc != MAILIMAP_NO_ERROR) {
			/* Never go on in clear text. */
			*err = imap_error(st, "STARTTLS", rc);
			return -1;
		}
		/* STARTTLS replaced the guarded layer: guard the new one. */
		if (guard_eof(st, cfg->timeout) == -1) {
			*err = xstrdup("out of memory");
			return -1;
		}
	}
	if (cfg->tls != IMAP_TLS_NONE && check_certificate(src, st, err) == -1)
		return -1;
	/* The capabilities seen before TLS (STARTTLS) are untrusted. */
	return refresh_capabilities(st, err);
}

static int
authenticate(struct source *src, struct imap_state *st, char **err)
{
	const struct source_config *cfg = src->cfg;
	const char *mech = cfg->auth == IMAP_AUTH_XOAUTH2 ? "xoauth2" :
	    "oauthbearer";
	char *secret = NULL, *serr = NULL;
	int rc;

	if (cfg->auth != IMAP_AUTH_LOGIN) {
		if (cfg->oauth)
			rc = oauth_access_token(cfg->oauth, cfg->timeout, 0,
			    &secret, &serr);
		else if (cfg->token_file)
			rc = config_read_secret(cfg->token_file, &secret, &serr);
		else
			rc = tokencmd_run(cfg->token_command, cfg->timeout,
			    &secret, &serr);
		if (rc == -1) {
			*err = xasprintf("%s token: %s", mech, serr);
			free(serr);
			return SRC_AUTH;
		}
		if (cfg->auth == IMAP_AUTH_XOAUTH2)
			rc = mailimap_oauth2_authenticate(st->imap, cfg->user,
			    secret);
		else
			rc = oauth_imap_bearer(st->imap, cfg->user, cfg->host,
			    cfg->port, secret);
		/* The cached token refused (revoked early): a new one, once;
		 * the session is still unauthenticated, so on the same one. */
		if (rc == MAILIMAP_ERROR_LOGIN && cfg->oauth) {
			secret_free(secret);
			secret = NULL;
			if (oauth_access_token(cfg->oauth, cfg->timeout, 1,
			    &secret, &serr) == -1) {
				*err = xasprintf("%s token: %s", mech, serr);
				free(serr);
				return SRC_AUTH;
			}
			rc = cfg->auth == IMAP_AUTH_XOAUTH2 ?
			    mailimap_oauth2_authenticate(st->imap, cfg->user,
			    secret) : oauth_imap_bearer(st->imap, cfg->user,
			    cfg->host, cfg->port, secret);
		}
	} else {
		if (mailimap_has_extension(st->imap, "LOGINDISABLED")) {
			*err = xstrdup("server advertises LOGINDISABLED: refusing "
			    "to send the password");
			return SRC_FATAL;
		}
		if (config_read_secret(cfg->password_file, &secret, &serr) == -1) {
			*err = xasprintf("password_file: %s", serr);
			free(serr);
			return SRC_FATAL;
		}
		rc = mailimap_login(st->imap, cfg->user, secret);
	}
	secret_free(secret);
	if (rc == MAILIMAP_NO_ERROR)
		return SRC_OK;
	if (rc == MAILIMAP_ERROR_LOGIN) {
		char *what = cfg->auth == IMAP_AUTH_LOGIN ?
		    xasprintf("login as %s", cfg->user) :
		    xasprintf("%s (token expired or revoked?) as %s", mech,
		    cfg->user);

		*err = imap_error(st, what, rc);
		free(what);
		return SRC_AUTH;
	}
	*err = imap_error(st, "login", rc);
	return SRC_TEMP;
}

static int
select_mailbox(struct source *src, struct imap_state *st, char **err)
{
	int rc;

	rc = mailimap_select(st->imap, src->cfg->mailbox);
	if (rc != MAILIMAP_NO_ERROR) {
		char *what = xasprintf("SELECT %s", src->cfg->mailbox);

		*err = imap_error(st, what, rc);
		free(what);
		return is_stream_error(rc) ? SRC_TEMP : SRC_FATAL;
	}
	st->uidvalidity = st->imap->imap_selection_info->sel_uidvalidity;
	if (st->uidvalidity == 0) {
		*err = xasprintf("SELECT %s: server sent no UIDVALIDITY",
		    src->cfg->mailbox);
		return SRC_TEMP;
	}
	return SRC_OK;
}

/*
 * after = "move:F": F is a name in the personal namespace (RFC 2342).  On
 * a server whose personal namespace has a prefix (Cyrus, Courier:
 * "INBOX." with "." as separator) "Processed" is "INBOX.Processed"; a name
 * already under the prefix, or INBOX itself, is kept.  Without NAMESPACE
 * the name is used as given.
 */
static void
resolve_move_folder(struct source *src, struct imap_state *st)
{
	struct mailimap_namespace_data *ns = NULL;
	struct mailimap_namespace_info *ni = NULL;
	const char *f = src->cfg->move_to;
	size_t plen;

	free(st->move_to);
	st->move_to = xstrdup(f);
	if (!mailimap_has_namespace(st->imap) ||
	    mailimap_namespace(st->imap, &ns) != MAILIMAP_NO_ERROR || ns == NULL)
		return;
	if (ns->ns_personal && ns->ns_personal->ns_data_list &&
	    clist_begin(ns->ns_personal->ns_data_list))
		ni = clist_content(clist_begin(ns->ns_personal->ns_data_list));
	if (ni && ni->ns_prefix && (plen = strlen(ni->ns_prefix)) > 0 &&
	    strncasecmp(f, ni->ns_prefix, plen) != 0 &&
	    strcasecmp(f, "INBOX") != 0) {
		free(st->move_to);
		st->move_to = xasprintf("%s%s", ni->ns_prefix, f);
	}
	log_debug("source %s: personal namespace \"%s\" (separator %c): "
	    "processed messages go to the folder %s", src->cfg->name,
	    ni && ni->ns_prefix ? ni->ns_prefix : "", ni && ni->ns_delimiter ?
	    ni->ns_delimiter : '?', st->move_to);
	mailimap_namespace_data_free(ns);
}

/* A fresh, verified, authenticated session with the mailbox selected. */
static int
session_open(struct source *src, struct imap_state *st, char **err)
{
	int rc;

	session_drop(st);
	wire_reset(&st->wire);
	st->imap = mailimap_new(0, NULL);
	if (st->imap == NULL) {
		*err = xstrdup("out of memory");
		return SRC_TEMP;
	}
	/* Connect, handshake and every read use this timeout. */
	mailimap_set_timeout(st->imap, src->cfg->timeout);
	if (connect_tls(src, st, err) == -1) {
		session_drop(st);
		return SRC_TEMP;
	}
	if ((rc = authenticate(src, st, err)) != SRC_OK) {
		session_drop(st);
		return rc;
	}
	if (refresh_capabilities(st, err) == -1) {
		session_drop(st);
		return SRC_TEMP;
	}
	st->has_move = mailimap_has_extension(st->imap, "MOVE");
	st->has_uidplus = mailimap_has_uidplus(st->imap);
	st->has_idle = mailimap_has_idle(st->imap);
	log_debug("source %s: server capabilities: MOVE %s, UIDPLUS %s, IDLE %s",
	    src->cfg->name, st->has_move ? "yes" : "no",
	    st->has_uidplus ? "yes" : "no", st->has_idle ? "yes" : "no");
	if (src->cfg->after == IMAP_AFTER_MOVE)
		resolve_move_folder(src, st);
	if ((rc = select_mailbox(src, st, err)) != SRC_OK) {
		session_drop(st);
		return rc;
	}
	log_info("source %s: connected to %s (%s), %s selected, uidvalidity %u",
	    src->cfg->name, src->cfg->host, src->cfg->tls == IMAP_TLS_NONE ?
	    "no TLS" : "TLS verified", src->cfg->mailbox, st->uidvalidity);
	return SRC_OK;
}

/* Leave IDLE, or check a kept session is alive; else open a new one. */
static int
session_ready(struct source *src, struct imap_state *st, char **err)
{
	int rc;

	if (st->imap && st->idling) {
		st->idling = 0;
		rc = mailimap_idle_done(st->imap);
		if (rc == MAILIMAP_NO_ERROR)
			st->idle_fails = 0;
		else
			idle_failed(src, st, rc);	/* drops the session */
	} else if (st->imap) {
		rc = mailimap_noop(st->imap);
		if (rc != MAILIMAP_NO_ERROR)
			session_drop(st);
	}
	if (st->imap)
		return SRC_OK;
	return session_open(src, st, err);
}

/* ---- listing and fetching ------------------------------------------------ */

/* The mailbox's UIDNEXT now (STATUS), else the one SELECT gave; 0: none. */
static uint32_t
uidnext_now(struct source *src, struct imap_state *st)
{
	struct mailimap_status_att_list *al;
	struct mailimap_mailbox_data_status *ds = NULL;
	clistiter *it;
	uint32_t next = st->imap->imap_selection_info ?
	    st->imap->imap_selection_info->sel_uidnext : 0;
	int rc;

	if ((al = mailimap_status_att_list_new_empty()) == NULL)
		return next;
	mailimap_status_att_list_add(al, MAILIMAP_STATUS_ATT_UIDNEXT);
	rc = mailimap_status(st->imap, src->cfg->mailbox, al, &ds);
	mailimap_status_att_list_free(al);
	if (rc != MAILIMAP_NO_ERROR || ds == NULL) {
		log_debug("source %s: STATUS (UIDNEXT) failed: using SELECT's",
		    src->cfg->name);
		return next;
	}
	for (it = ds->st_info_list ? clist_begin(ds->st_info_list) : NULL; it;
	    it = clist_next(it)) {
		struct mailimap_status_info *si = clist_content(it);

		if (si->st_att == MAILIMAP_STATUS_ATT_UIDNEXT && si->st_value)
			next = si->st_value;
	}
	mailimap_mailbox_data_status_free(ds);
	return next;
}

/*
 * Drop the UIDs at or above UIDNEXT from l: no message has one yet, so a
 * server listing one lies, and a cursor moved there would pass over the
 * real messages still to come.  Asked after the listing, so anything that
 * arrived meanwhile is below it.
 */
static void
uidnext_filter(struct source *src, struct imap_state *st, struct uid_list *l)
{
	uint32_t next;
	size_t n = l->n;

	if (n == 0 || (next = uidnext_now(src, st)) == 0)
		return;
	while (l->n > 0 && l->v[l->n - 1].uid >= next)
		l->n--;
	if (l->n < n)
		log_warning("source %s: the server listed %zu UIDs at or above "
		    "its UIDNEXT %u (up to %u): ignored", src->cfg->name,
		    n - l->n, next, l->v[n - 1].uid);
}

static uint32_t
att_uid(struct mailimap_msg_att *ma)
{
	clistiter *it;

	for (it = clist_begin(ma->att_list); it; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
		    item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
			return item->att_data.att_static->att_data.att_uid;
	}
	return 0;
}

static struct mailimap_msg_att_static *
att_find(struct mailimap_msg_att *ma, int type)
{
	clistiter *it;

	for (it = clist_begin(ma->att_list); it; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
		    item->att_data.att_static->att_type == type)
			return item->att_data.att_static;
	}
	return NULL;
}

/* UIDs in [first, last] (last 0 = "*") with their sizes, in UID order;
 * IMAP returns the highest message for "n:*" even below n, so filter.
 * 0, -1 (*err), or 1 (*err) when the server refused it (NO or BAD) and
 * the session is still usable. */
static int
list_uids(struct imap_state *st, uint32_t first, uint32_t last,
    struct uid_list *out, char **err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	struct mailimap_msg_att_static *sz;
	clist *res = NULL;
	clistiter *it;
	uint32_t uid;
	int rc;

	set = mailimap_set_new_interval(first, last);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_rfc822_size());
	rc = uid_fetch(st, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (rc != MAILIMAP_NO_ERROR) {
		*err = imap_error(st, "UID FETCH (list)", rc);
		return is_stream_error(rc) ? -1 : 1;
	}
	for (it = clist_begin(res); it; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);

		uid = att_uid(ma);
		sz = att_find(ma, MAILIMAP_MSG_ATT_RFC822_SIZE);
		if (uid == 0 || uid < first || (last && uid > last))
			continue;
		/* Without its size it cannot be batched or bounded; kept, so
		 * the cursor stops before it (imap_fetch). */
		uid_list_add(out, uid, sz ? sz->att_data.att_rfc822_size : 0,
		    sz == NULL);
	}
	mailimap_fetch_list_free(res);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), uid_item_cmp);
	return 0;
}

static int
is_oversize(const struct imap_state *st, const struct uid_item *u)
{
	return st->max_bytes > 0 && u->size > st->max_bytes;
}

/* Add uid to set, extending its last range when uid follows it: a run of
 * consecutive UIDs is sent as 101:200, not 100 numbers (the command stays
 * short, and the server reads a range in one pass).  Only UIDs added are
 * ever in the set: 5:7 is exactly 5, 6 and 7. */
static void
set_add_uid(struct mailimap_set *set, uint32_t uid)
{
	clistiter *end = clist_end(set->set_list);
	struct mailimap_set_item *last = end ? clist_content(end) : NULL;

	if (last && last->set_last != 0 && last->set_last + 1 == uid)
		last->set_last = uid;
	else
		mailimap_set_add_single(set, uid);
}

static struct mailimap_set *
uid_ranges(const struct uid_item *v, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t i;

	for (i = 0; i < n; i++)
		set_add_uid(set, v[i].uid);
	return set;
}

/* UID FETCH the given UIDs: whole bodies, or headers only. */
static int
fetch_bodies(struct imap_state *st, const struct uid_item *v, size_t n,
    int headers_only, clist **res, char **err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	struct mailimap_section *sec;
	int rc;

	set = uid_ranges(v, n);
	sec = headers_only ? mailimap_section_new_header() :
	    mailimap_section_new(NULL);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_internaldate());
	/* BODY.PEEK: reading must not set \Seen; marking is ours to do. */
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(sec));
	*res = NULL;
	rc = uid_fetch(st, set, ft, res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (rc != MAILIMAP_NO_ERROR) {
		*err = imap_error(st, "UID FETCH (bodies)", rc);
		*res = NULL;
		return -1;
	}
	return 0;
}

/* The response for uid that carries a body section (servers may interleave
 * unsolicited FETCH responses with flags only).  A section of NIL is none:
 * Dovecot answers so for a UID another session expunged after our listing
 * (BODY[] NIL, then * EXPUNGE and OK [EXPUNGEISSUED]), and an empty
 * message must not be stored for it. */
static struct mailimap_msg_att *
find_body(clist *res, uint32_t uid)
{
	struct mailimap_msg_att_static *b;
	clistiter *it;

	for (it = clist_begin(res); it; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);

		if (att_uid(ma) == uid &&
		    (b = att_find(ma, MAILIMAP_MSG_ATT_BODY_SECTION)) != NULL &&
		    b->att_data.att_body_section &&
		    b->att_data.att_body_section->sec_body_part)
			return ma;
	}
	return NULL;
}

/*
 * List [first, last] when listing it whole was refused: in halves, down to
 * the single UIDs the server will not list, which are kept as gaps
 * (nosize: the cursor stops there, and after SOURCE_POISON_TRIES they become
 * tickets for a human).  *budget bounds the commands.  0, or -1 (*err).
 */
static int
list_halves(struct imap_state *st, uint32_t first, uint32_t last,
    struct uid_list *out, int *budget, char **err)
{
	uint32_t mid;
	int rc;

	if (--*budget < 0) {
		*err = xstrdup("UID FETCH (list): the server refuses to list "
		    "too many ranges");
		return -1;
	}
	if ((rc = list_uids(st, first, last, out, err)) <= 0)
		return rc;
	free(*err);
	*err = NULL;
	if (first == last) {
		uid_list_add(out, first, 0, 1);
		return 0;
	}
	mid = first + (last - first) / 2;
	if (list_halves(st, first, mid, out, budget, err) == -1)
		return -1;
	return list_halves(st, mid + 1, last, out, budget, err);
}

#define LIST_BUDGET	128	/* listing commands after a refusal */

/* Everything from first on.  A listing that ended in a tagged NO may have
 * left messages out, so it is listed again in halves up to UIDNEXT-1
 * (list_halves).  0, or -1 (*err). */
static int
list_from(struct source *src, struct imap_state *st, uint32_t first,
    struct uid_list *out, char **err)
{
	uint32_t next;
	int rc, budget = LIST_BUDGET;

	if ((rc = list_uids(st, first, 0, out, err)) <= 0)
		return rc;
	log_warning("source %s: %s: listing again in parts", src->cfg->name,
	    *err);
	free(*err);
	*err = NULL;
	out->n = 0;
	if ((next = uidnext_now(src, st)) == 0) {
		*err = xstrdup("UID FETCH (list) refused, and the server gives "
		    "no UIDNEXT to list up to");
		return -1;
	}
	if (next <= first)
		return 0;	/* nothing can be there */
	return list_halves(st, first, next - 1, out, &budget, err);
}

/* ---- marking ------------------------------------------------------------- */

/* After a refused MOVE/COPY: the folder may be missing ([TRYCREATE]; the
 * response code is not kept by libetpan), so try to create it.  1 when it
 * was created (retry); a CREATE of an existing folder fails: 0. */
static int
create_folder(struct source *src, struct imap_state *st, int rc)
{
	if (is_stream_error(rc))
		return 0;
	if (mailimap_create(st->imap, st->move_to) != MAILIMAP_NO_ERROR)
		return 0;
	log_notice("source %s: created the folder for after = move",
	    src->cfg->name);
	return 1;
}

static int
mark_set(struct source *src, struct imap_state *st, struct mailimap_set *set,
    char **err)
{
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sa;
	int rc;

	if (src->cfg->after == IMAP_AFTER_MOVE && st->has_move) {
		rc = mailimap_uid_move(st->imap, set, st->move_to);
		if (rc != MAILIMAP_NO_ERROR && create_folder(src, st, rc))
			rc = mailimap_uid_move(st->imap, set, st->move_to);
		if (rc != MAILIMAP_NO_ERROR)
			goto fail;
		return 0;
	}
	if (src->cfg->after == IMAP_AFTER_MOVE) {
		if (!st->has_uidplus) {
			st->mark_rc = MAILIMAP_ERROR_UID_MOVE;
			*err = xstrdup("after = move needs MOVE or UIDPLUS (UID "
			    "EXPUNGE); the server has neither");
			return -1;
		}
		rc = mailimap_uid_copy(st->imap, set, st->move_to);
		if (rc != MAILIMAP_NO_ERROR && create_folder(src, st, rc))
			rc = mailimap_uid_copy(st->imap, set, st->move_to);
		if (rc != MAILIMAP_NO_ERROR)
			goto fail;
	}
	fl = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(fl, src->cfg->after == IMAP_AFTER_MOVE ?
	    mailimap_flag_new_deleted() : mailimap_flag_new_seen());
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	rc = mailimap_uid_store(st->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	if (rc != MAILIMAP_NO_ERROR)
		goto fail;
	/* Only the UIDs we moved: plain EXPUNGE would also remove messages a
	 * human flagged \Deleted. */
	if (src->cfg->after == IMAP_AFTER_MOVE &&
	    (rc = mailimap_uid_expunge(st->imap, set)) != MAILIMAP_NO_ERROR)
		goto fail;
	return 0;
fail:
	st->mark_rc = rc;
	*err = imap_error(st, src->cfg->after == IMAP_AFTER_MOVE ?
	    "moving processed messages" : "setting \\Seen", rc);
	return -1;
}

/* Mark the UIDs of v that are not oversized, MARK_CHUNK at a time. */
static int
mark_uids(struct source *src, struct imap_state *st,
    struct source_item *const *v, size_t n, char **err)
{
	struct mailimap_set *set = NULL;
	size_t i, in = 0;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const struct uid_item *u = v[i]->drv;

		if (is_oversize(st, u))
			continue;	/* left for a human, unmarked */
		if (set == NULL)
			set = mailimap_set_new_empty();
		set_add_uid(set, u->uid);
		if (++in == MARK_CHUNK || i + 1 == n) {
			rc = mark_set(src, st, set, err);
			mailimap_set_free(set);
			set = NULL;
			in = 0;
		}
	}
	if (set) {
		if (rc == 0)
			rc = mark_set(src, st, set, err);
		mailimap_set_free(set);
	}
	return rc;
}

/* Is uid still in the mailbox?  1 yes, 0 no, -1 error (*err). */
static int
uid_exists(struct imap_state *st, uint32_t uid, char **err)
{
	struct uid_list l = { 0 };
	int rc;

	rc = list_uids(st, uid, uid, &l, err);
	if (rc == 0)
		rc = l.n > 0;
	else
		rc = -1;
	free(l.v);
	return rc;
}

/* Did the fetch of n UIDs from uid fail on uid's literal being over the
 * limit? */
static int
over_alone(const struct imap_state *st, uint32_t uid, size_t n)
{
	if (st->wire.over_size == 0)
		return 0;
	return st->wire.over_uid ? st->wire.over_uid == uid && n == 1 : n == 1;
}

/* A new session after a dropped one, on the same mailbox generation. */
static int
session_reopen(struct source *src, struct imap_state *st, char **err)
{
	int rc;

	rc = session_open(src, st, err);
	if (rc == SRC_OK && st->uidvalidity != st->list_uidvalidity) {
		*err = xstrdup("UIDVALIDITY changed while reconnecting");
		rc = SRC_TEMP;
	}
	return rc;
}

/* ---- IDLE ---------------------------------------------------------------- */

static int
idle_wanted(struct source *src, struct imap_state *st)
{
	return src->cfg->idle && st->has_idle && !st->idle_off;
}

/*
 * IDLE or DONE failed.  Only a stall counts against IDLE (libetpan #393:
 * no continuation, the read times out); a server that closed the
 * connection or said BYE (a restart) is reconnected and IDLE goes on.
 */
static void
idle_failed(struct source *src, struct imap_state *st, int rc)
{
	if (rc == MAILIMAP_ERROR_FATAL || st->wire.dropped || st->wire.bye) {
		log_notice("source %s: the server closed the session during "
		    "IDLE (%s); reconnecting", src->cfg->name,
		    etpan_strerror(rc));
		session_drop(st);
		return;
	}
	st->idle_fails++;
	log_warning("source %s: IDLE failed (%s); reconnecting",
	    src->cfg->name, etpan_strerror(rc));
	if (st->idle_fails >= IDLE_MAX_FAILS) {
		st->idle_off = 1;
		log_warning("source %s: %d IDLE failures in a row: polling "
		    "every %d s instead", src->cfg->name, st->idle_fails,
		    src->cfg->poll_interval);
	}
	session_drop(st);
}

/* Enter IDLE.  1: idling; 0: something arrived meanwhile (fetch again);
 * -1: IDLE failed (session dropped). */
static int
idle_enter(struct source *src, struct imap_state *st)
{
	int rc;

	rc = mailimap_idle(st->imap);
	if (rc != MAILIMAP_NO_ERROR) {
		idle_failed(src, st, rc);
		return -1;
	}
	st->idling = 1;
	st->idle_since = time(NULL);
	/* Bytes already in libetpan's buffer never make the socket readable
	 * again; an EXISTS seen while entering means new mail now. */
	if (st->imap->imap_stream->read_buffer_len > 0 ||
	    st->imap->imap_selection_info->sel_has_exists) {
		st->idling = 0;
		rc = mailimap_idle_done(st->imap);
		if (rc != MAILIMAP_NO_ERROR) {
			idle_failed(src, st, rc);
			return -1;
		}
		return 0;
	}
	return 1;
}

/* ---- the driver ---------------------------------------------------------- */

static void
held_free(struct imap_state *st)
{
	if (st->held_w)
		mailimap_fetch_list_free(st->held_w);
	if (st->held_h)
		mailimap_fetch_list_free(st->held_h);
	st->held_w = st->held_h = NULL;
	st->nasked = 0;
}

static void
batch_forget(struct imap_state *st)
{
	free(st->batch);
	st->batch = NULL;
	st->nbatch = 0;
	st->batch_alone = 0;
}

static int
was_asked(const struct imap_state *st, uint32_t uid)
{
	size_t i;

	for (i = 0; i < st->nasked; i++)
		if (st->asked[i] == uid)
			return 1;
	return 0;
}

/*
 * Everything from the watermark on (source_cursor.marked: below it all is
 * stored and marked), after a new UIDVALIDITY everything; the UIDs up to
 * last_uid are stored already (the engine only marks them), those above
 * move the cursor.  While mail keeps coming, list again (more) up to
 * ROUNDS_MAX times before IDLE.
 */
static int
imap_list_new(struct source *src, struct source_run *run,
    const struct source_cursor *cur, struct source_listing *out, char **err)
{
	struct imap_state *st = src->priv;
	struct uid_list l = { 0 };
	struct source_item *it;
	struct uid_item *u;
	uint32_t first = 1, last_uid = 0;
	char key[32];
	size_t i;
	int rc;

	batch_forget(st);	/* the last listing's items are freed */
	if (out->round == 0) {
		st->again = 0;
		st->max_bytes = run->ictx->cfg->max_message_bytes;
		st->wire.literal_max = st->max_bytes;
		st->wire.command_max = (st->wire.literal_max > BATCH_BYTES ?
		    st->wire.literal_max : BATCH_BYTES) + WIRE_LINE_MAX;
		if ((rc = session_ready(src, st, err)) != SRC_OK)
			return rc;
	} else if (st->imap == NULL &&
	    (rc = session_open(src, st, err)) != SRC_OK)
		return rc;
	if (cur->uidvalidity != 0 &&
	    cur->uidvalidity != (long long)st->uidvalidity) {
		if (out->round == 0)
			log_err("source %s: UIDVALIDITY of %s changed from %lld "
			    "to %u: every stored UID is void, rescanning the "
			    "whole mailbox (duplicates are recognised by "
			    "Message-ID and content)", src->cfg->name,
			    src->cfg->mailbox, cur->uidvalidity,
			    st->uidvalidity);
	} else if (cur->uidvalidity != 0) {
		first = (uint32_t)cur->marked + 1;
		last_uid = (uint32_t)cur->last_uid;
	}
	st->list_uidvalidity = st->uidvalidity;
	if (list_from(src, st, first, &l, err) == -1) {
		free(l.v);
		return SRC_TEMP;
	}
	uidnext_filter(src, st, &l);
	st->found = 0;
	for (i = 0; i < l.n; i++) {
		u = xmalloc(sizeof(*u));
		*u = l.v[i];
		snprintf(key, sizeof(key), "%u:%u", st->uidvalidity, u->uid);
		it = source_listing_add(out, key, u);
		if (u->uid > last_uid) {
			it->after.uidvalidity = st->uidvalidity;
			it->after.last_uid = u->uid;
			it->has_after = 1;
			st->found++;
		}
	}
	free(l.v);
	out->more = st->found > 0 && !run->once && idle_wanted(src, st) &&
	    out->round + 1 < ROUNDS_MAX;
	return SRC_OK;
}

/*
 * UID FETCH v[0..n) (bodies; headers only of the oversized), held until
 * the next hold() or the poll's end.  SRC_OK; SRC_OK with st->over_uid
 * when v[0] alone failed on a literal over the limit (fetch_over()); else
 * an SRC_* error with *err and the session dropped (with one UID, *err
 * blames it: the engine counts that against it).
 */
static int
hold(struct source *src, struct imap_state *st, struct uid_item *const *v,
    size_t n, char **err)
{
	struct uid_item *whole, *heads;
	size_t i, nw = 0, nh = 0;
	char *e;
	int rc = SRC_OK;

	held_free(st);
	if (st->imap == NULL && (rc = session_reopen(src, st, err)) != SRC_OK)
		return rc;
	whole = xcalloc(n, sizeof(*whole));
	heads = xcalloc(n, sizeof(*heads));
	st->asked = xreallocarray(st->asked, n, sizeof(*st->asked));
	for (i = 0; i < n; i++) {
		if (is_oversize(st, v[i]))
			heads[nh++] = *v[i];
		else
			whole[nw++] = *v[i];
		st->asked[st->nasked++] = v[i]->uid;
	}
	/* Network first, so the write transaction stays short. */
	if ((nw && fetch_bodies(st, whole, nw, 0, &st->held_w, err) == -1) ||
	    (nh && fetch_bodies(st, heads, nh, 1, &st->held_h, err) == -1)) {
		held_free(st);
		if (over_alone(st, v[0]->uid, n)) {
			st->over_uid = v[0]->uid;
			st->over_size = st->wire.over_size;
			free(*err);
			*err = NULL;
		} else if (n == 1) {
			e = xasprintf("%s: the server failed to deliver uid %u",
			    *err, v[0]->uid);
			free(*err);
			*err = e;
			rc = SRC_TEMP;
		} else
			rc = SRC_TEMP;
		session_drop(st);
	}
	free(whole);
	free(heads);
	return rc;
}

/* How many of v[0..n) one UID FETCH takes: up to BATCH_BYTES (at least
 * one), never a UID listed without its size (it cannot be bounded; its
 * fetch() fails it). */
static size_t
window(const struct imap_state *st, struct uid_item *const *v, size_t n)
{
	size_t k, bytes = 0;

	for (k = 0; k < n && !v[k]->nosize; k++) {
		if (!is_oversize(st, v[k]))
			bytes += v[k]->size;
		if (k > 0 && bytes > BATCH_BYTES)
			break;
	}
	return k;
}

/* The engine's look ahead: this batch's bodies in one UID FETCH of their
 * ranges, as far as window() goes; fetch() takes the rest the same way. */
static int
imap_prefetch(struct source *src, struct source_run *run,
    struct source_item *const *v, size_t n, char **err)
{
	struct imap_state *st = src->priv;
	size_t i, k;

	(void)run;
	held_free(st);
	batch_forget(st);
	st->over_uid = 0;
	st->batch = xcalloc(n, sizeof(*st->batch));
	for (i = 0; i < n; i++)
		st->batch[i] = v[i]->drv;
	st->nbatch = n;
	k = window(st, st->batch, n);
	return k ? hold(src, st, st->batch, k, err) : SRC_OK;
}

/*
 * u is past what the prefetch held: fetch the next window of the batch
 * from u on.  When a window of several fails the culprit is unknown: u is
 * fetched again alone, on a new session, and so is the rest of the batch,
 * which finds it.  FETCH_OK; FETCH_FAILED_TEMP (u alone failed: counted
 * against it) or FETCH_TEMP (no FETCH of u failed: no blame) with *err.
 */
static int
hold_next(struct source *src, struct imap_state *st, struct uid_item *u,
    char **err)
{
	size_t i, k = 1;
	int rc;

	for (i = 0; i < st->nbatch && st->batch[i] != u; i++)
		;
	if (i < st->nbatch && !st->batch_alone)
		k = window(st, st->batch + i, st->nbatch - i);
	if (k > 1) {
		if ((rc = hold(src, st, st->batch + i, k, err)) != SRC_TEMP)
			return rc == SRC_OK ? FETCH_OK : FETCH_TEMP;
		log_warning("source %s: fetching %zu messages at once failed "
		    "(%s): fetching the rest of the batch one at a time",
		    src->cfg->name, k, *err);
		free(*err);
		*err = NULL;
		st->batch_alone = 1;
		if (st->imap == NULL && session_reopen(src, st, err) != SRC_OK)
			return FETCH_TEMP;
	}
	rc = hold(src, st, &u, 1, err);
	return rc == SRC_OK ? FETCH_OK :
	    rc == SRC_TEMP ? FETCH_FAILED_TEMP : FETCH_TEMP;
}

/* One message of what was read into m (pointing into the response). */
static void
msg_from(struct source *src, struct imap_state *st, const struct uid_item *u,
    struct mailimap_msg_att *ma, struct source_msg *m)
{
	struct mailimap_msg_att_static *body = NULL, *date = NULL;

	if (ma) {
		body = att_find(ma, MAILIMAP_MSG_ATT_BODY_SECTION);
		date = att_find(ma, MAILIMAP_MSG_ATT_INTERNALDATE);
	}
	if (body && body->att_data.att_body_section &&
	    body->att_data.att_body_section->sec_body_part) {
		m->raw.data = body->att_data.att_body_section->sec_body_part;
		m->raw.len = body->att_data.att_body_section->sec_length;
	} else
		m->raw.data = "";
	m->raw.received_at = date && date->att_data.att_internal_date ?
	    imap_date_to_time(date->att_data.att_internal_date) : time(NULL);
	m->raw.real_size = u->size;
	m->raw.oversize = is_oversize(st, u);
	if (m->raw.oversize)
		log_warning("source %s: message uid %u is %u bytes, over "
		    "max_message_bytes: recorded for a human, left unmarked on "
		    "the server", src->cfg->name, u->uid, u->size);
}

/*
 * Its literal announced more than max_message_bytes, whatever RFC822.SIZE
 * said (the guard refused it and the session was dropped): stored like an
 * oversized message, its header and the announced size, left unmarked.
 */
static int
fetch_over(struct source *src, struct imap_state *st, struct uid_item *u,
    struct source_msg *m, char **err)
{
	struct mailimap_msg_att *ma = NULL;
	char *herr = NULL;

	log_warning("source %s: uid %u was listed as %u bytes but its literal "
	    "announced %llu (over max_message_bytes)", src->cfg->name, u->uid,
	    u->size, (unsigned long long)st->over_size);
	u->size = st->over_size > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)st->over_size;
	st->over_uid = 0;
	held_free(st);	/* nothing else is held: that fetch failed */
	if (st->imap == NULL && session_reopen(src, st, err) != SRC_OK)
		return FETCH_TEMP;
	if (fetch_bodies(st, u, 1, 1, &st->held_h, &herr) == -1) {
		log_warning("source %s: the header of uid %u cannot be fetched "
		    "(%s)", src->cfg->name, u->uid, herr);
		free(herr);
		session_drop(st);
	} else
		ma = find_body(st->held_h, u->uid);
	msg_from(src, st, u, ma, m);
	return FETCH_OK;
}

static int
imap_fetch(struct source *src, struct source_run *run, struct source_item *it,
    struct source_msg *m, char **err)
{
	struct imap_state *st = src->priv;
	struct uid_item *u = it->drv;
	struct mailimap_msg_att *ma;
	int rc, ex;

	(void)run;
	if (u->nosize) {
		/* A gap: listed again next poll, and after
		 * SOURCE_POISON_TRIES recorded for a human. */
		*err = xasprintf("UID FETCH: listed without RFC822.SIZE: the "
		    "server failed to deliver uid %u", u->uid);
		return FETCH_FAILED_TEMP;
	}
	/* Past what the prefetch held (its byte bound): the next range. */
	if (st->over_uid != u->uid && !was_asked(st, u->uid)) {
		if (st->imap == NULL && session_reopen(src, st, err) != SRC_OK)
			return FETCH_TEMP;	/* no FETCH failed: no blame */
		if ((rc = hold_next(src, st, u, err)) != FETCH_OK)
			return rc;
	}
	if (st->over_uid == u->uid)
		return fetch_over(src, st, u, m, err);
	ma = find_body(is_oversize(st, u) ? st->held_h : st->held_w, u->uid);
	if (ma == NULL) {
		if (st->imap == NULL) {	/* dropped meanwhile */
			*err = xstrdup("the session was lost");
			return FETCH_TEMP;
		}
		if ((ex = uid_exists(st, u->uid, err)) == -1)
			return FETCH_TEMP;
		if (ex == 0) {
			log_info("source %s: uid %u vanished before it was "
			    "fetched", src->cfg->name, u->uid);
			return FETCH_GONE;
		}
		*err = xasprintf("UID FETCH: the server sent no body: the "
		    "server failed to deliver uid %u", u->uid);
		return FETCH_FAILED_TEMP;
	}
	msg_from(src, st, u, ma, m);
	return FETCH_OK;
}

static int
imap_mark(struct source *src, struct source_item *const *v, size_t n,
    char **err)
{
	struct imap_state *st = src->priv;

	if (st->imap == NULL && session_reopen(src, st, err) != SRC_OK)
		return MARK_BROKEN;
	st->mark_rc = 0;
	if (mark_uids(src, st, v, n, err) == 0)
		return MARK_OK;
	return st->imap == NULL || is_stream_error(st->mark_rc) ? MARK_BROKEN :
	    MARK_REFUSED;
}

/* The ticket for a human: the message's header if the server gives that
 * (else nothing), and where to read the message. */
static int
imap_record(struct source *src, struct source_run *run, struct source_item *it,
    int tries, const char *why, struct source_msg *m, char **err)
{
	struct imap_state *st = src->priv;
	struct uid_item *u = it->drv;
	struct mailimap_msg_att *ma = NULL;
	char *herr = NULL;

	(void)run;
	(void)why;
	held_free(st);
	if (st->imap == NULL && session_reopen(src, st, err) != SRC_OK)
		return FETCH_TEMP;
	if (fetch_bodies(st, u, 1, 1, &st->held_h, &herr) == -1) {
		log_warning("source %s: the header of uid %u cannot be fetched "
		    "either (%s)", src->cfg->name, u->uid, herr);
		free(herr);
		session_drop(st);	/* in whatever state: start afresh */
	} else
		ma = find_body(st->held_h, u->uid);
	msg_from(src, st, u, ma, m);
	m->raw.oversize = 0;
	m->reason = xasprintf("the server could not deliver this message (UID "
	    "%u, %u bytes; %d failed attempts): it is still in the mailbox %s, "
	    "unmarked; read it there", u->uid, u->size, tries,
	    src->cfg->mailbox);
	m->label = xasprintf("uid %u", u->uid);
	m->kept = xstrdup(ma ? "its header only" : "nothing of it could be "
	    "read");
	return FETCH_OK;
}

/*
 * The poll is over and marked.  --once: no wait follows, so no IDLE (and
 * no DONE) either.  Mail that came while we fetched: look once more before
 * IDLE (list_new's more), and after ROUNDS_MAX the other sources get their
 * turn and this one is polled again at once (imap_wait_fd).  Else IDLE; 1
 * when something arrived while entering it.
 */
static int
imap_poll_end(struct source *src, struct source_run *run, int rc)
{
	struct imap_state *st = src->priv;

	held_free(st);
	batch_forget(st);
	if (rc != SRC_OK) {
		if (rc == SRC_TEMP)
			session_drop(st);
		return 0;
	}
	if (*run->stop || run->once)
		return 0;
	if (st->found > 0 || (st->imap == NULL && idle_wanted(src, st))) {
		st->again = 1;
		return 0;
	}
	if (!idle_wanted(src, st))
		return 0;
	return idle_enter(src, st) == 0;
}

/* ---- waiting and closing ------------------------------------------------ */

static int
imap_wait_fd(struct source *src, int *max_wait)
{
	struct imap_state *st = src->priv;
	time_t left;

	if (st->imap && st->idling) {
		left = IDLE_MAX_SECS - (time(NULL) - st->idle_since);
		*max_wait = left > 0 ? (int)left : 1;
		return mailimap_idle_get_fd(st->imap);
	}
	*max_wait = st->again ? 1 : src->cfg->poll_interval;
	return -1;
}

static void
imap_close(struct source *src)
{
	struct imap_state *st = src->priv;

	if (st == NULL)
		return;
	held_free(st);
	batch_forget(st);
	free(st->asked);
	if (st->imap) {
		if (st->idling)
			(void)mailimap_idle_done(st->imap);
		(void)mailimap_logout(st->imap);
	}
	session_drop(st);
	/* A lookup still running after a second is left to the exit. */
	resolve_left_free(&st->dns_left, 1000);
	free(st->move_to);
	free(st->host);
	free(st);
	src->priv = NULL;
}

static const struct source_driver imap_driver = {
	.type = "imap",
	.flags = SRCDRV_SKIP_KNOWN | SRCDRV_CURSOR | SRCDRV_MARKED |
	    SRCDRV_FAILURES_SAVED | SRCDRV_MARK_ALERT,
	.list_new = imap_list_new,
	.fetch = imap_fetch,
	.mark = imap_mark,
	.item_free = free,
	.prefetch = imap_prefetch,
	.record = imap_record,
	.poll_end = imap_poll_end,
	.wait_fd = imap_wait_fd,
	.close = imap_close,
};

int
source_imap_init(struct source *src, char **err)
{
	struct imap_state *st;

	*err = NULL;
	if (src->cfg->host == NULL || src->cfg->mailbox == NULL) {
		*err = xasprintf("source '%s': imap needs host and mailbox",
		    src->cfg->name);
		return -1;
	}
	st = xcalloc(1, sizeof(*st));
	st->host = tlsverify_hostname(src->cfg->host);
	source_set_driver(src, &imap_driver, st);
	return 0;
}
