/* SPDX-License-Identifier: MIT */
/*
 * listen.c: the webhook listener (listen.h).  libmicrohttpd's internal
 * polling thread serves every connection, one request at a time: a request
 * is read whole (capped), checked (webhook.c), and its messages become one
 * listing of the source engine (source.h) on the listener's own database
 * connection, so the main loop's polls and the listener only meet in
 * SQLite's locking (busy: 503, the provider retries).  Nothing here runs
 * in the parser child: push messages are built, not parsed as mail.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include <microhttpd.h>

#include "health.h"
#include "ingest.h"
#include "listen.h"
#include "log.h"
#include "outbox.h"
#include "source.h"
#include "store.h"
#include "util.h"
#include "webhook.h"

#define RETRY_AFTER	"30"	/* seconds, with 503 */
#define CHALLENGE_MAX	128

/* One push source and its secrets. */
struct push {
	const struct source_config	*sc;
	struct wh_secrets		 sec;
	struct source			 src;	/* the engine's view */
	time_t				*burst;	/* the last refusals' times, a ring
						 * of listen_refusal_burst */
	int				 burst_n, burst_head;
};

struct listener {
	const struct config	*cfg;
	struct store		*store;
	struct ingest_ctx	 ictx;
	struct push		*push;
	size_t			 npush;
	struct MHD_Daemon	*mhd;
	char			*sock_path;	/* the unix socket we made */
};

/* One request while it is read. */
struct req {
	char		*uri;		/* as received, with the query */
	const struct push *p;
	struct buf	 body;
	int		 started;
	int		 answered;	/* refused before the body */
	int		 too_big;
};

/* What the engine's driver hands over for one request. */
struct push_run {
	const struct wh_batch	*batch;
	const char		*raw;
	size_t			 rawlen;
	time_t			 received_at;
	int			 stored, duplicates;
};

/* ---- the source engine driver ------------------------------------------- */

static int
push_list_new(struct source *src, struct source_run *run,
    const struct source_cursor *cur, struct source_listing *out, char **err)
{
	const struct push_run *pr = src->priv;
	size_t i;

	(void)run;
	(void)cur;
	(void)err;
	for (i = 0; i < pr->batch->n; i++)
		source_listing_add(out, pr->batch->v[i].key, &pr->batch->v[i]);
	return SRC_OK;
}

static int
push_fetch(struct source *src, struct source_run *run, struct source_item *it,
    struct source_msg *m, char **err)
{
	const struct push_run *pr = src->priv;
	const struct wh_msg *w = it->drv;

	(void)run;
	(void)err;
	m->raw.data = pr->raw;
	m->raw.len = pr->rawlen;
	m->raw.received_at = pr->received_at;
	m->raw.keyword = w->keyword;
	m->raw.segments = w->segments;
	/* Borrowed strings: msg is never freed with message_free().  The
	 * provider's id doubles as Message-ID, so the messages of one
	 * request (one raw record) are not duplicates of each other. */
	m->msg.message_id = w->key;
	m->msg.from_addr = w->from;
	m->msg.from_name = w->name;
	m->msg.to = w->to;
	m->msg.subject = w->subject;
	m->msg.text = w->text;
	m->msg.text_len = w->text_len;
	m->msg.content_type = (char *)"text/plain";
	m->msg.status = MSG_PARSE_OK;
	m->prepared = 1;
	return FETCH_OK;
}

static const struct source_driver push_driver = {
	.type = "push",
	.list_new = push_list_new,
	.fetch = push_fetch,
};

static void
on_stored(void *arg, const struct ingest_result *r)
{
	struct push_run *pr = arg;

	if (r->duplicate)
		pr->duplicates++;
	else
		pr->stored++;
}

/* ---- replies ------------------------------------------------------------- */

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == 503)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER,
		    RETRY_AFTER);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_ok(struct MHD_Connection *c, const struct push *p)
{
	/* TwiML that sends nothing: intake never texts anyone back */
	if (p->sc->type == SOURCE_TWILIO)
		return reply(c, 200, "text/xml", "<Response/>");
	return reply(c, 200, "application/json", "{\"ok\":true}");
}

static enum MHD_Result
reply_error(struct MHD_Connection *c, unsigned status)
{
	const char *text;

	switch (status) {
	case 400: text = "bad request\n"; break;
	case 401: text = "no signature\n"; break;
	case 403: text = "forbidden\n"; break;
	case 404: text = "not found\n"; break;
	case 405: text = "method not allowed\n"; break;
	case 413: text = "request too large\n"; break;
	case 415: text = "unsupported media type\n"; break;
	case 503: text = "busy, retry later\n"; break;
	default: text = "internal error\n"; break;
	}
	return reply(c, status, "text/plain", text);
}

/* The burst's health alert, unless one went out less than a window ago
 * (source_state.refused_alerted_at: a restart does not repeat it). */
static void
burst_alert(struct listener *L, const struct push *p, unsigned status,
    const char *why, time_t now)
{
	const struct config *cfg = L->cfg;
	char *detail;
	int rc;

	if (store_begin(L->store) != STORE_OK)
		return;
	if ((rc = health_refusal_alert_due(L->store, p->sc->name,
	    cfg->listen_refusal_window, now)) < 0)
		goto fail;
	if (rc == 0) {
		store_rollback(L->store);
		return;
	}
	/* counts and the last (static) reason: never request content */
	detail = xasprintf("%d requests refused within %d s; the last: %u %s",
	    cfg->listen_refusal_burst, cfg->listen_refusal_window, status,
	    why ? why : "refused");
	rc = outbox_queue_health(L->store, cfg, p->sc->name,
	    "requests refused", detail, now);
	free(detail);
	if (rc < 0 || store_commit(L->store) != STORE_OK)
		goto fail;
	log_warning("health alert queued: source %s: requests refused",
	    p->sc->name);
	return;
fail:
	store_rollback(L->store);
	log_warning("listener: source %s: the refusal alert could not be "
	    "queued: %s", p->sc->name, store_errmsg(L->store));
}

/*
 * A burst of refusals (a flood of forged requests, a provider whose secret
 * changed, a proxy that rewrites bodies) is one health alert: when the
 * last listen.refusal_burst refusals of a source all fall within
 * listen.refusal_window seconds.  Then the count starts again, so the
 * database is asked once per burst, not once per request of a flood.
 */
static void
note_refusal(struct listener *L, struct push *p, unsigned status,
    const char *why)
{
	int n = L->cfg->listen_refusal_burst;
	time_t now = time(NULL), oldest;

	if (n <= 0 || p->burst == NULL)
		return;
	p->burst[p->burst_head] = now;
	p->burst_head = (p->burst_head + 1) % n;
	if (p->burst_n < n)
		p->burst_n++;
	if (p->burst_n < n)
		return;
	oldest = p->burst[p->burst_head];	/* the oldest of the last n */
	if (now - oldest >= (time_t)L->cfg->listen_refusal_window)
		return;
	p->burst_n = 0;
	burst_alert(L, p, status, why, now);
}

/* A refused request: logged without content, counted for intake status. */
static enum MHD_Result
refuse(struct listener *L, struct MHD_Connection *c, const struct push *p,
    unsigned status, const char *why)
{
	log_warning("listener: source %s: refused %u: %s", p ? p->sc->name :
	    "-", status, why ? why : "refused");
	if (p != NULL && status != 404 && health_count_refusal(L->store,
	    p->sc->name, time(NULL)) != STORE_OK)
		log_warning("listener: counting a refusal: %s",
		    store_errmsg(L->store));
	if (p != NULL && status != 404)
		note_refusal(L, (struct push *)p, status, why);
	return reply_error(c, status);
}

/* ---- requests ------------------------------------------------------------ */

static const struct push *
find_push(const struct listener *L, const char *path)
{
	size_t i;

	for (i = 0; i < L->npush; i++)
		if (strcmp(L->push[i].sc->path, path) == 0)
			return &L->push[i];
	return NULL;
}

static int
challenge_ok(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > CHALLENGE_MAX)
		return 0;
	for (i = 0; s[i]; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && !(s[i] >= 'a' && s[i] <= 'z')
		    && !(s[i] >= 'A' && s[i] <= 'Z') && s[i] != '-' && s[i] != '_'
		    && s[i] != '.')
			return 0;
	return 1;
}

/* WhatsApp's GET verification: echo hub.challenge for the right token. */
static enum MHD_Result
handshake(struct listener *L, struct MHD_Connection *c, const struct push *p)
{
	const char *mode, *token, *chal;
	const char *want = p->sec.verify_token;

	mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hub.mode");
	token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "hub.verify_token");
	chal = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "hub.challenge");
	if (mode == NULL || strcmp(mode, "subscribe") != 0 || token == NULL ||
	    want == NULL || strlen(token) != strlen(want) ||
	    !wh_memeq(token, want, strlen(want)))
		return refuse(L, c, p, 403, "verification handshake: wrong "
		    "hub.mode or hub.verify_token");
	if (!challenge_ok(chal))
		return refuse(L, c, p, 400, "verification handshake: "
		    "hub.challenge missing or not 1-128 plain characters");
	log_notice("listener: source %s: verification handshake answered",
	    p->sc->name);
	return reply(c, 200, "text/plain", chal);
}

/* The engine: every message of the request in one transaction. */
static enum MHD_Result
ingest_request(struct listener *L, struct MHD_Connection *c,
    struct push *p, const struct wh_request *rq, const struct wh_batch *b)
{
	static const volatile sig_atomic_t never;
	struct source_stats stats;
	struct source_run run;
	struct push_run pr;
	char *raw, *err = NULL;
	size_t rawlen;
	int rc;

	raw = wh_raw_record(p->sc->type, rq, &rawlen);
	memset(&pr, 0, sizeof(pr));
	pr.batch = b;
	pr.raw = raw;
	pr.rawlen = rawlen;
	pr.received_at = time(NULL);
	p->src.priv = &pr;
	memset(&run, 0, sizeof(run));
	memset(&stats, 0, sizeof(stats));
	run.ictx = &L->ictx;
	run.stop = &never;
	run.batch = (int)b->n;	/* one transaction for the request */
	run.once = 1;
	run.stored = on_stored;
	run.stored_arg = &pr;
	rc = source_engine_poll(&p->src, &run, &stats, &err);
	p->src.priv = NULL;
	free(raw);
	if (rc == SRC_STORE) {
		log_warning("listener: source %s: %s: 503, the provider retries",
		    p->sc->name, err ? err : "database busy");
		free(err);
		return reply_error(c, 503);
	}
	if (rc != SRC_OK || stats.failed > 0) {
		log_err("listener: source %s: not stored: %s", p->sc->name,
		    err ? err : "?");
		free(err);
		return reply_error(c, 500);
	}
	free(err);
	srcstate_record_poll(L->store, p->sc->name, 1, NULL, 0, time(NULL));
	log_info("listener: source %s: %d new, %d already stored",
	    p->sc->name, pr.stored, pr.duplicates);
	return reply_ok(c, p);
}

static enum MHD_Result
complete(struct listener *L, struct MHD_Connection *c, struct req *q,
    const char *method)
{
	struct push *p = (struct push *)q->p;
	struct wh_request rq;
	struct wh_batch b;
	const char *why = NULL, *qm;
	enum MHD_Result ret;
	unsigned status;

	if (q->too_big)
		return refuse(L, c, p, 413, "body larger than "
		    "listen.max_body_bytes");
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.path = p->sc->path;
	qm = q->uri ? strchr(q->uri, '?') : NULL;
	rq.query = qm ? qm + 1 : NULL;
	rq.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	rq.signature = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    p->sc->type == SOURCE_TWILIO ? "X-Twilio-Signature" :
	    p->sc->type == SOURCE_WHATSAPP ? "X-Hub-Signature-256" :
	    "webhook-signature");
	rq.wh_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "webhook-id");
	rq.wh_timestamp = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "webhook-timestamp");
	rq.body = q->body.data ? q->body.data : "";
	rq.body_len = q->body.len;
	if ((status = (unsigned)wh_check(p->sc, &p->sec, &rq, time(NULL),
	    &why)) != 0)
		return refuse(L, c, p, status, why);
	if (wh_parse(p->sc->type, &rq, L->cfg->max_text_bytes, &b, &why) == -1)
		return refuse(L, c, p, 400, why);
	if (b.n == 0) {		/* WhatsApp statuses[]: nothing to store */
		wh_batch_free(&b);
		return reply_ok(c, p);
	}
	ret = ingest_request(L, c, p, &rq, &b);
	wh_batch_free(&b);
	return ret;
}

/* The first call: everything that can be refused before the body. */
static enum MHD_Result
start(struct listener *L, struct MHD_Connection *c, struct req *q,
    const char *url, const char *method, int *done)
{
	const char *cl, *path = url;
	unsigned long long n;
	char *copy = NULL;

	*done = 1;
	/* MHD's url has no query, but be sure */
	if (strchr(url, '?'))
		path = copy = xstrndup(url, strcspn(url, "?"));
	q->p = find_push(L, path);
	free(copy);
	if (q->p == NULL)
		return refuse(L, c, NULL, 404, "no push source at this path");
	if (q->p->sc->type == SOURCE_WHATSAPP && strcmp(method, "GET") == 0)
		return handshake(L, c, q->p);
	if (strcmp(method, "POST") != 0)
		return refuse(L, c, q->p, 405, "method not allowed");
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && (parse_uint(cl, 0, 1ULL << 62, &n) == -1 ||
	    n > L->cfg->listen_max_body))
		return refuse(L, c, q->p, 413, "Content-Length larger than "
		    "listen.max_body_bytes");
	*done = 0;
	q->started = 1;
	buf_init(&q->body, L->cfg->listen_max_body);
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data, size_t *size,
    void **con_cls)
{
	struct listener *L = cls;
	struct req *q = *con_cls;
	int done;

	(void)version;
	if (q == NULL) {	/* no URI callback ran: should not happen */
		q = xcalloc(1, sizeof(*q));
		*con_cls = q;
	}
	if (q->answered) {	/* whatever still comes is dropped */
		*size = 0;
		return MHD_YES;
	}
	if (!q->started) {
		enum MHD_Result r = start(L, c, q, url, method, &done);

		q->answered = done;
		return r;
	}
	if (*size > 0) {
		if (!q->too_big && buf_add(&q->body, data, *size) == -1) {
			q->too_big = 1;
			buf_free(&q->body);
		}
		*size = 0;
		return MHD_YES;
	}
	return complete(L, c, q, method);
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *q = xcalloc(1, sizeof(*q));

	(void)cls;
	(void)c;
	q->uri = xstrndup(uri, 8192);
	return q;
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (q) {
		free(q->uri);
		buf_free(&q->body);
		free(q);
	}
	*con_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_warning("listener: %s", line);
}

/* ---- start and stop ------------------------------------------------------ */

int
listener_wanted(const struct config *cfg)
{
	size_t i;

	if (cfg->listen_port == 0 && cfg->listen_socket == NULL)
		return 0;
	for (i = 0; i < cfg->nsources; i++)
		if (SOURCE_IS_PUSH(cfg->sources[i].type))
			return 1;
	return 0;
}

static int
load_secrets(struct push *p, char **err)
{
	char *secret = NULL;
	int rc = 0;

	if (config_read_secret(p->sc->secret_file, &secret, err) == -1)
		return -1;
	if (p->sc->type == SOURCE_WEBHOOK) {
		if (wh_std_key(secret, &p->sec.key, &p->sec.keylen) == -1) {
			*err = xasprintf("%s: not a whsec_ base64 secret",
			    p->sc->secret_file);
			rc = -1;
		}
	} else {
		p->sec.keylen = strlen(secret);
		p->sec.key = (unsigned char *)xstrdup(secret);
	}
	explicit_bzero(secret, strlen(secret));
	free(secret);
	if (rc == 0 && p->sc->verify_token_file &&
	    config_read_secret(p->sc->verify_token_file, &p->sec.verify_token,
	    err) == -1)
		rc = -1;
	return rc;
}

static void
push_free(struct push *p)
{
	if (p->sec.key) {
		explicit_bzero(p->sec.key, p->sec.keylen);
		free(p->sec.key);
	}
	if (p->sec.verify_token) {
		explicit_bzero(p->sec.verify_token, strlen(p->sec.verify_token));
		free(p->sec.verify_token);
	}
	source_close(&p->src);
	free(p->burst);
}

/*
 * The unix socket of listen.socket, listening, with listen.socket_mode
 * and socket_group (the reverse proxy's, so it may connect and nobody
 * else).  A socket left by a dead intaked is replaced; one that answers
 * belongs to a running one, and anything that is not a socket is left
 * alone.  -1 with *err.
 */
static int
unix_listen(const struct config *cfg, char **err)
{
	const char *path = cfg->listen_socket;
	struct sockaddr_un sun;
	struct group *gr = NULL;
	struct stat st;
	int fd, probe;

	if (cfg->listen_socket_group &&
	    (gr = getgrnam(cfg->listen_socket_group)) == NULL) {
		*err = xasprintf("listen.socket_group '%s': no such group",
		    cfg->listen_socket_group);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*err = xasprintf("listen.socket %s: path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*err = xasprintf("listen.socket %s exists and is not a "
			    "socket", path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe != -1 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			*err = xasprintf("listen.socket %s: another intaked "
			    "serves it", path);
			return -1;
		}
		if (probe != -1)
			close(probe);
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*err = xasprintf("listen.socket %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* before listen(): nobody can connect while the mode is the
	 * umask's */
	if (chmod(path, (mode_t)cfg->listen_socket_mode) == -1 ||
	    (gr && chown(path, (uid_t)-1, gr->gr_gid) == -1) ||
	    listen(fd, 64) == -1) {
		*err = xasprintf("listen.socket %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

void
listener_stop(struct listener *L)
{
	size_t i;

	if (L == NULL)
		return;
	if (L->mhd)
		MHD_stop_daemon(L->mhd);
	if (L->sock_path) {
		unlink(L->sock_path);
		free(L->sock_path);
	}
	for (i = 0; i < L->npush; i++)
		push_free(&L->push[i]);
	free(L->push);
	store_close(L->store);
	free(L);
}

struct listener *
listener_start(const struct config *cfg, const struct calendar *cal,
    const struct lexicon *lex, const struct rota *rota, char **err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	const char *addr = cfg->listen_address ? cfg->listen_address :
	    "127.0.0.1";
	struct listener *L;
	/* poll() or epoll, not select(): no FD_SETSIZE ceiling */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_USE_ERROR_LOG;
	char *serr = NULL;
	size_t i;
	int rc, fd;

	*err = NULL;
	if (!listener_wanted(cfg))
		return NULL;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)cfg->listen_port);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)cfg->listen_port);
		flags |= MHD_USE_IPv6;
	} else {
		*err = xasprintf("listen.address %s is not an address", addr);
		return NULL;
	}
	L = xcalloc(1, sizeof(*L));
	L->cfg = cfg;
	rc = store_open_config(cfg, 0, &L->store, &serr);
	if (rc != STORE_OK) {
		*err = xasprintf("listener: database: %s", serr ? serr :
		    "cannot open");
		free(serr);
		free(L);
		return NULL;
	}
	ingest_ctx_init(&L->ictx, cfg, cal, lex, L->store);
	L->ictx.actor = "intaked";
	L->ictx.rota = rota;
	L->push = xcalloc(cfg->nsources + 1, sizeof(*L->push));
	for (i = 0; i < cfg->nsources; i++) {
		struct push *p;

		if (!SOURCE_IS_PUSH(cfg->sources[i].type))
			continue;
		p = &L->push[L->npush++];
		p->sc = &cfg->sources[i];
		p->src.cfg = p->sc;
		source_set_driver(&p->src, &push_driver, NULL);
		if (cfg->listen_refusal_burst > 0)
			p->burst = xcalloc((size_t)cfg->listen_refusal_burst,
			    sizeof(*p->burst));
		if (load_secrets(p, &serr) == -1) {
			*err = xasprintf("source '%s': %s", p->sc->name, serr);
			free(serr);
			listener_stop(L);
			return NULL;
		}
	}
	if (cfg->listen_socket) {
		if ((fd = unix_listen(cfg, &serr)) == -1) {
			*err = serr;
			listener_stop(L);
			return NULL;
		}
		L->sock_path = xstrdup(cfg->listen_socket);
		L->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, L,
		    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->listen_timeout,
		    MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned)cfg->listen_max_connections,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
		    MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)L,
		    MHD_OPTION_NOTIFY_COMPLETED, on_done, (void *)L,
		    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)L,
		    MHD_OPTION_END);
		if (L->mhd == NULL) {
			close(fd);
			*err = xasprintf("listener: cannot serve the socket %s",
			    cfg->listen_socket);
			listener_stop(L);
			return NULL;
		}
		log_notice("listener: serving %zu push sources on %s",
		    L->npush, cfg->listen_socket);
		return L;
	}
	L->mhd = MHD_start_daemon(flags, (uint16_t)cfg->listen_port, NULL, NULL,
	    on_request, L,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->listen_timeout,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->listen_max_connections,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)L,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, (void *)L,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)L,
	    MHD_OPTION_END);
	if (L->mhd == NULL) {
		*err = xasprintf("listener: cannot listen on %s port %d (in "
		    "use?)", addr, cfg->listen_port);
		listener_stop(L);
		return NULL;
	}
	log_notice("listener: serving %zu push sources on %s port %d",
	    L->npush, addr, cfg->listen_port);
	return L;
}
