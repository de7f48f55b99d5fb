/* SPDX-License-Identifier: MIT */
/*
 * notify.c: the outbox's delivery (webhook POST, SMTP mail) with libcurl
 * easy handles, each transfer bounded by timeouts, schemes restricted and
 * certificate verification left on.  Rows are read first, then each one is
 * sent and marked in its own short transaction, so no database lock is held
 * across the network.  On PostgreSQL (more than one node) each row is
 * first claimed in a short transaction of its own (notify_claim()), so
 * that one node sends it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "log.h"
#include "net.h"
#include "notify.h"
#include "notify_p.h"
#include "tag.h"
#include "util.h"

#define CONNECT_TIMEOUT_MS	10000L
/* Well under the service's WatchdogSec (60 s): the loop feeds the
 * watchdog between rounds, and one round must not outlast it. */
#define TRANSFER_TIMEOUT_MS	20000L
#define ROUND_BUDGET_MS		25000ULL
#define REPLY_MAX		(64 * 1024)	/* kept of a webhook's reply */
#define BACKOFF_BASE		30L
#define BACKOFF_CAP		3600L
#define ERROR_MAX		300

/* One outbox row, copied out of the statement. */
struct outbox_row {
	long long	 id;
	char		*kind;
	char		*channel;
	long long	 ticket;
	char		*payload;
	int		 attempts;
};

long
notify_backoff(int attempts)
{
	long secs = BACKOFF_BASE;
	int i;

	for (i = 0; i < attempts && secs < BACKOFF_CAP; i++)
		secs *= 2;
	if (secs > BACKOFF_CAP)
		secs = BACKOFF_CAP;
	/* Jitter, so rows queued together do not retry in lockstep. */
	return secs + (long)arc4random_uniform((uint32_t)(secs / 10 + 1));
}

int
notify_url_is_loopback(const char *url)
{
	CURLU *u;
	char *host = NULL;
	int yes = 0;

	if (url == NULL || (u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		yes = host_is_loopback(host);
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

static char *
curl_error(CURLcode cc, const char *ebuf)
{
	return xasprintf("%s%s%s", curl_easy_strerror(cc), *ebuf ? ": " : "",
	    ebuf);
}

/* The settings every handle gets. */
static void
handle_defaults(CURL *h, char *ebuf)
{
	ebuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* Without it, cleaning up after a timed-out lookup joins the
	 * resolver thread: a DNS server that never answers would hold the
	 * daemon for resolv.conf's whole wait.  The thread frees itself. */
	curl_easy_setopt(h, CURLOPT_QUICK_EXIT, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TRANSFER_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
}

/* Keep at most REPLY_MAX of a reply (for the log), drop the rest. */
static size_t
reply_sink(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;

	if (b->len < REPLY_MAX)
		(void)buf_add(b, p, len < REPLY_MAX - b->len ? len :
		    REPLY_MAX - b->len);
	return len;
}

int
notify_post_json(const struct config *cfg, const char *url, const char *json,
    const char *idem_key, char **err)
{
	char ebuf[CURL_ERROR_SIZE];
	struct curl_slist *hdr = NULL;
	struct buf reply;
	char *idem = NULL;
	long code = 0;
	CURLcode cc;
	CURL *h;

	(void)cfg;
	*err = NULL;
	if (url == NULL) {
		*err = xstrdup("no webhook URL configured");
		return NOTIFY_CONFIG;
	}
	if ((h = curl_easy_init()) == NULL) {
		*err = xstrdup("curl_easy_init failed");
		return NOTIFY_TEMP;
	}
	buf_init(&reply, 0);
	handle_defaults(h, ebuf);
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* Plain http only to a test server on this host. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
	    notify_url_is_loopback(url) ? "http,https" : "https");
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Accept: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	if (idem_key) {
		idem = xasprintf("Idempotency-Key: %s", idem_key);
		hdr = curl_slist_append(hdr, idem);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "intake/" INTAKE_VERSION);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	free(idem);
	if (cc != CURLE_OK) {
		*err = curl_error(cc, ebuf);
		buf_free(&reply);
		return cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT ?
		    NOTIFY_CONFIG : NOTIFY_TEMP;
	}
	if (code < 200 || code > 299) {
		char *body = str_escape(reply.data ? reply.data : "", 200);

		*err = xasprintf("HTTP %ld: %s", code, body);
		free(body);
		buf_free(&reply);
		return code == 401 || code == 403 ? NOTIFY_CONFIG : NOTIFY_TEMP;
	}
	buf_free(&reply);
	return NOTIFY_OK;
}

/* ---- SMTP ---------------------------------------------------------- */

struct upload {
	const char	*data;
	size_t		 len, off;
};

static size_t
upload_read(char *p, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t room = size * n, left = u->len - u->off;

	if (room > left)
		room = left;
	memcpy(p, u->data + u->off, room);
	u->off += room;
	return room;
}

int
notify_header_ok(const char *s)
{
	return s && strpbrk(s, "\r\n") == NULL;
}

char *
notify_addr_spec(const char *s)
{
	const char *lt, *gt;
	char *out;
	size_t i;

	if (s == NULL || !notify_header_ok(s))
		return NULL;
	if ((lt = strrchr(s, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL)
			return NULL;
		out = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	} else
		out = xstrdup(s);
	/* An envelope address: one @, no spaces, brackets or controls. */
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] <= ' ' || strchr("<>(),;:\\\"[]",
		    out[i]) != NULL)
			break;
	if (out[i] != '\0' || strchr(out, '@') == NULL ||
	    strchr(out, '@') != strrchr(out, '@') || out[0] == '@' ||
	    out[strlen(out) - 1] == '@') {
		free(out);
		return NULL;
	}
	return out;
}

int
notify_send_mail(const struct config *cfg, char *const *rcpt, size_t nrcpt,
    const char *message, size_t len, char **err)
{
	char ebuf[CURL_ERROR_SIZE];
	struct curl_slist *to = NULL;
	struct upload up = { message, len, 0 };
	char *from, *pass = NULL, *env_from;
	long code = 0;
	CURLcode cc;
	CURL *h;
	size_t i;
	int rc = NOTIFY_OK;

	*err = NULL;
	if (cfg->smtp_url == NULL) {
		*err = xstrdup("smtp.url is not configured");
		return NOTIFY_CONFIG;
	}
	if ((from = notify_addr_spec(cfg->smtp_from)) == NULL) {
		*err = xstrdup("smtp.from is missing or not an address");
		return NOTIFY_CONFIG;
	}
	if (nrcpt == 0) {
		free(from);
		*err = xstrdup("no recipients");
		return NOTIFY_CONFIG;
	}
	for (i = 0; i < nrcpt; i++) {
		char *a = notify_addr_spec(rcpt[i]), *r;

		if (a == NULL) {
			*err = xstrdup("a recipient is not an address");
			rc = NOTIFY_CONFIG;
			goto out;
		}
		r = xasprintf("<%s>", a);
		to = curl_slist_append(to, r);
		free(r);
		free(a);
	}
	if (cfg->smtp_user && cfg->smtp_password_file &&
	    config_read_secret(cfg->smtp_password_file, &pass, err) == -1) {
		rc = NOTIFY_CONFIG;
		goto out;
	}
	if ((h = curl_easy_init()) == NULL) {
		*err = xstrdup("curl_easy_init failed");
		rc = NOTIFY_TEMP;
		goto out;
	}
	handle_defaults(h, ebuf);
	curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* smtp:// must upgrade with STARTTLS; a silent downgrade is only
	 * tolerated towards a test server on this host. */
	if (strncmp(cfg->smtp_url, "smtp://", 7) == 0)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)(notify_url_is_loopback(
		    cfg->smtp_url) ? CURLUSESSL_TRY : CURLUSESSL_ALL));
	if (cfg->smtp_ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->smtp_ca_file);
	if (cfg->smtp_user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, cfg->smtp_user);
		if (pass)
			curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
	}
	env_from = xasprintf("<%s>", from);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, env_from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &up);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	free(env_from);
	if (cc != CURLE_OK) {
		char *e = curl_error(cc, ebuf);

		*err = xasprintf("%s (last SMTP reply %ld)", e, code);
		free(e);
		rc = cc == CURLE_LOGIN_DENIED || cc == CURLE_USE_SSL_FAILED ||
		    cc == CURLE_UNSUPPORTED_PROTOCOL ? NOTIFY_CONFIG : NOTIFY_TEMP;
	}
out:
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	curl_slist_free_all(to);
	free(from);
	return rc;
}

/* ---- building mail -------------------------------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
base64_add(struct buf *b, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		buf_addc(b, b64[p[i] >> 2]);
		buf_addc(b, b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		buf_addc(b, b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
		buf_addc(b, b64[p[i + 2] & 63]);
	}
	if (len - i == 1) {
		buf_addc(b, b64[p[i] >> 2]);
		buf_addc(b, b64[(p[i] & 3) << 4]);
		buf_addstr(b, "==");
	} else if (len - i == 2) {
		buf_addc(b, b64[p[i] >> 2]);
		buf_addc(b, b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		buf_addc(b, b64[(p[i + 1] & 15) << 2]);
		buf_addc(b, '=');
	}
}

void
notify_base64_lines(struct buf *b, const char *data, size_t len)
{
	size_t off, n;

	/* 57 input bytes = one 76-column line. */
	for (off = 0; off < len; off += n) {
		n = len - off < 57 ? len - off : 57;
		base64_add(b, (const unsigned char *)data + off, n);
		buf_addstr(b, "\r\n");
	}
}

static int
plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Length of the UTF-8 sequence at p (1 for a stray byte). */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
	size_t i;

	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

char *
notify_rfc2047(const char *s)
{
	struct buf b;
	size_t off, n, len = strlen(s), step;

	if (plain_ascii(s))
		return xstrdup(s);
	/* Encoded words of at most 45 bytes of text (60 of base64), split on
	 * character boundaries, folded onto continuation lines. */
	buf_init(&b, 0);
	for (off = 0; off < len; off += n) {
		n = 0;
		while (off + n < len) {
			step = utf8_len((const unsigned char *)s + off + n);
			if (n + step > 45)
				break;
			n += step;
		}
		if (off)
			buf_addstr(&b, "\r\n ");
		buf_addstr(&b, "=?UTF-8?B?");
		base64_add(&b, (const unsigned char *)s + off, n);
		buf_addstr(&b, "?=");
	}
	return buf_steal(&b);
}

static char *
message_id(const char *from_addr, time_t now)
{
	const char *dom = strrchr(from_addr, '@');

	return xasprintf("<intake.%lld.%08x%08x@%s>", (long long)now,
	    arc4random(), arc4random(), dom ? dom + 1 : "localhost");
}

int
notify_mail_head(struct buf *b, const char *from, char *const *to, size_t nto,
    const char *subject, const char *auto_submitted, const char *in_reply_to,
    time_t now, char **err)
{
	char date[64], *addr, *subj, *mid;
	struct tm tm;
	size_t i;

	*err = NULL;
	if (!notify_header_ok(from) || (addr = notify_addr_spec(from)) == NULL) {
		*err = xstrdup("sender is missing or not an address");
		return -1;
	}
	for (i = 0; i < nto; i++)
		if (!notify_header_ok(to[i])) {
			*err = xstrdup("a recipient holds a line break");
			free(addr);
			return -1;
		}
	if (!notify_header_ok(subject) || (in_reply_to &&
	    !notify_header_ok(in_reply_to))) {
		*err = xstrdup("a header value holds a line break");
		free(addr);
		return -1;
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	subj = notify_rfc2047(subject);
	mid = message_id(addr, now);
	buf_addf(b, "From: %s\r\nTo: ", from);
	for (i = 0; i < nto; i++)
		buf_addf(b, "%s%s", i ? ",\r\n " : "", to[i]);
	buf_addf(b, "\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n"
	    "MIME-Version: 1.0\r\nAuto-Submitted: %s\r\n", subj, date, mid,
	    auto_submitted);
	if (in_reply_to)
		buf_addf(b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n",
		    in_reply_to, in_reply_to);
	free(subj);
	free(mid);
	free(addr);
	return 0;
}

/* A single-part text/plain UTF-8 message body (headers included). */
static void
notify_mail_text(struct buf *b, const char *text)
{
	buf_addstr(b, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	notify_base64_lines(b, text, strlen(text));
}

/* ---- the outbox's rows ---------------------------------------------- */

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int
jbool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* Text of an alert or health mail; the subject into *subject. */
static char *
alert_mail_body(const struct outbox_row *r, json_t *p, char **subject)
{
	struct buf b;
	const char *type = jstr(p, "type"), *tag, *reason, *step;
	char flags[40], deftag[48], *head;
	long long ticket;
	json_t *ex;
	int fresh;

	buf_init(&b, 0);
	if (strcmp(r->kind, "health") == 0) {
		*subject = xasprintf("[intake] HEALTH source %s: %s",
		    jstr(p, "source"), jstr(p, "problem"));
		buf_addf(&b, "Source: %s\nProblem: %s\nDetail: %s\nAt: %s\n\n"
		    "Mail fetching needs attention: run 'intake status'.\n",
		    jstr(p, "source"), jstr(p, "problem"), jstr(p, "detail"),
		    jstr(p, "at"));
		return buf_steal(&b);
	}
	ticket = (long long)json_integer_value(json_object_get(p, "ticket"));
	tag = jstr(p, "tag");
	if (*tag == '\0') {
		snprintf(deftag, sizeof(deftag), "[intake #%lld]", ticket);
		tag = deftag;
	}
	snprintf(flags, sizeof(flags), "%s%s%s", jbool(p, "minor") ? " MINOR" :
	    "", jbool(p, "danger") ? " DANGER" : "",
	    jbool(p, "needs_interpreter") ? " INTERPRETER" : "");
	reason = jstr(p, "reason");
	step = jstr(p, "step");
	fresh = strcmp(reason, "message") == 0 || strcmp(reason, "raised") == 0;
	if (strncmp(step, "escalation", 10) == 0)
		head = xasprintf("%s URGENT %s: #%lld %s ticket%s not "
		    "acknowledged", tag, step, ticket, type, flags);
	else if (fresh)
		head = xasprintf("%s URGENT new message on #%lld: %s ticket%s",
		    tag, ticket, type, flags);
	else
		head = xasprintf("%s URGENT %s ticket%s", tag, type, flags);
	/* acknowledging by mail: the first alert as every step */
	if (*jstr(p, "ack_token")) {
		*subject = xasprintf("%s [ack %s]", head, jstr(p, "ack_token"));
		free(head);
	} else
		*subject = head;
	buf_addf(&b, "Ticket:        #%lld %s\nWhy:           %s\n"
	    "Step:          %s\nType:          %s\nUrgency:       %s\n"
	    "Flags:         %s\nReceived:      %s\n",
	    ticket, tag, fresh ? "new message on the ticket" : reason, step,
	    type, jstr(p, "urgency"), *flags ? flags + 1 : "none",
	    jstr(p, "received"));
	if (*jstr(p, "message_received"))
		buf_addf(&b, "Message:       %s (%lld message%s on the ticket)\n",
		    jstr(p, "message_received"), (long long)json_integer_value(
		    json_object_get(p, "messages")), json_integer_value(
		    json_object_get(p, "messages")) == 1 ? "" : "s");
	buf_addf(&b, "Response due:  %s\nBreach at:     %s\n",
	    jstr(p, "response_due"), jstr(p, "breach_at"));
	/* Present only when alerts.include_excerpt was on when queued. */
	if ((ex = json_object_get(p, "excerpt")) != NULL && json_is_string(ex))
		buf_addf(&b, "\nExcerpt:\n%s\n", json_string_value(ex));
	buf_addf(&b, "\nAcknowledge: intake ack %lld --by NAME\n"
	    "Read it:     intake show %lld\n", ticket, ticket);
	if (*jstr(p, "ack_token"))
		buf_addf(&b, "From a phone: reply to this mail with \"ack\" (or "
		    "\"ack NAME\") as its first word.\n");
	return buf_steal(&b);
}

char *
notify_crlf(const char *s)
{
	struct buf b;
	char prev = '\0';

	buf_init(&b, 0);
	for (; *s; prev = *s++) {
		if (*s == '\n' && prev != '\r')
			buf_addc(&b, '\r');
		buf_addc(&b, *s);
	}
	return buf_steal(&b);
}

static const char ack_text[] =
    "Thank you for your message. It has been received and a member of our\n"
    "team will answer it.\n\n"
    "If you are in immediate danger, call 911.\n\n"
    "Please keep the reference in the subject line when you write again.\n";

static int
deliver_email(const struct config *cfg, const struct outbox_row *r, json_t *p,
    char **err)
{
	struct buf m;
	char *subject = NULL, *body = NULL, *lf, *to1[1], tag[TAG_MAX];
	char *const *to;
	const char *from = cfg->smtp_from, *auto_sub = "auto-generated";
	const char *irt = NULL;
	char **own = NULL;
	json_t *list;
	size_t nto, k;
	int rc;

	if (strcmp(r->kind, "ack") == 0) {
		to1[0] = (char *)jstr(p, "to");
		to = to1;
		nto = 1;
		if (cfg->ack_from)
			from = cfg->ack_from;
		auto_sub = "auto-replied";
		irt = json_string_value(json_object_get(p, "in_reply_to"));
		/* The keyed tag: the reply threads, a guess does not. */
		tag_format(cfg, r->ticket, tag, sizeof(tag));
		subject = xasprintf("%s We received your message", tag);
		body = notify_crlf(ack_text);
	} else if ((list = json_object_get(p, "notify")) != NULL) {
		/* An escalation step names whom it pages (escalate.h). */
		nto = json_array_size(list);
		own = xcalloc(nto + 1, sizeof(*own));
		for (k = 0; k < nto; k++)
			own[k] = (char *)json_string_value(json_array_get(list,
			    k));
		for (k = 0; k < nto; k++)
			if (own[k] == NULL) {
				free(own);
				*err = xstrdup("escalation: notify is not a "
				    "list of addresses");
				return NOTIFY_CONFIG;
			}
		to = own;
		if (nto == 0) {
			free(own);
			*err = xstrdup("escalation: nobody to notify");
			return NOTIFY_CONFIG;
		}
		lf = alert_mail_body(r, p, &subject);
		body = notify_crlf(lf);
		free(lf);
	} else {
		to = cfg->alerts_to;
		nto = cfg->alerts_nto;
		if (nto == 0) {
			*err = xstrdup("alerts.to is empty");
			return NOTIFY_CONFIG;
		}
		lf = alert_mail_body(r, p, &subject);
		body = notify_crlf(lf);
		free(lf);
	}
	if (from == NULL) {
		*err = xstrdup("smtp.from is not configured");
		rc = NOTIFY_CONFIG;
		goto out;
	}
	buf_init(&m, 0);
	if (notify_mail_head(&m, from, to, nto, subject, auto_sub, irt,
	    time(NULL), err) == -1)
		rc = NOTIFY_CONFIG;
	else if (*jstr(p, "reply_to") && !notify_header_ok(jstr(p, "reply_to"))) {
		*err = xstrdup("reply_to holds a line break");
		rc = NOTIFY_CONFIG;
	} else {
		/* acknowledging by mail: the reply goes to the intake */
		if (*jstr(p, "reply_to"))
			buf_addf(&m, "Reply-To: %s\r\n", jstr(p, "reply_to"));
		notify_mail_text(&m, body);
		rc = notify_send_mail(cfg, to, nto, m.data, m.len, err);
	}
	buf_free(&m);
out:
	free(own);
	free(subject);
	free(body);
	return rc;
}

static int
deliver_row(const struct config *cfg, const struct outbox_row *r, char **err)
{
	json_error_t jerr;
	json_t *p;
	char key[128];
	int rc;

	*err = NULL;
	p = json_loads(r->payload, 0, &jerr);
	if (p == NULL || !json_is_object(p)) {
		json_decref(p);
		*err = xasprintf("payload is not a JSON object");
		return NOTIFY_CONFIG;
	}
	if (strcmp(r->channel, "webhook") == 0) {
		/* An escalation step has its own key (ticket, message, step),
		 * so a receiver folds a repeat of the same page. */
		if (*jstr(p, "key"))
			snprintf(key, sizeof(key), "%s", jstr(p, "key"));
		else
			snprintf(key, sizeof(key), "intake-outbox-%lld", r->id);
		/* An on-call person's own webhook (escalate.c) names its url;
		 * it was taken from the configuration when queued. */
		rc = notify_post_json(cfg, *jstr(p, "url") ? jstr(p, "url") :
		    cfg->alerts_webhook, r->payload, key, err);
	} else if (strcmp(r->channel, "email") == 0)
		rc = deliver_email(cfg, r, p, err);
	else {
		*err = xasprintf("unknown channel");
		rc = NOTIFY_CONFIG;
	}
	json_decref(p);
	return rc;
}

static void
row_free(struct outbox_row *r)
{
	free(r->kind);
	free(r->channel);
	free(r->payload);
}

static char *
col_dup(struct stmt *s, int i)
{
	const char *t = store_col_text(s, i, NULL);

	return xstrdup(t ? t : "");
}

/* Alerts first: an acknowledgement can wait, a crisis cannot. */
static const struct query q_due = {
	"SELECT id, kind, channel, ticket_id, payload, attempts FROM outbox "
	"WHERE delivered_at IS NULL AND next_attempt_at <= ?1 ORDER BY "
	"CASE kind WHEN 'alert' THEN 0 WHEN 'health' THEN 1 ELSE 2 END, "
	"next_attempt_at, id LIMIT ?2", NULL
};

static const struct query q_ticket_alerts = {
	"SELECT id, kind, channel, ticket_id, payload, attempts FROM outbox "
	"WHERE delivered_at IS NULL AND next_attempt_at <= ?1 AND "
	"kind = 'alert' AND ticket_id = ?2 ORDER BY id", NULL
};

static const struct query q_delivered = {
	"UPDATE outbox SET delivered_at = ?1, attempts = attempts + 1, "
	"last_error = NULL WHERE id = ?2 AND delivered_at IS NULL", NULL
};

static const struct query q_failed = {
	"UPDATE outbox SET next_attempt_at = ?1 + ?2, attempts = attempts + 1, "
	"last_error = ?3 WHERE id = ?4",
	"UPDATE outbox SET next_attempt_at = $1::bigint + $2::bigint, "
	"attempts = attempts + 1, last_error = $3 WHERE id = $4"
};

/*
 * PostgreSQL, two nodes: the claim of a row before its send.  A row
 * another node's claim holds is skipped, not waited for (SKIP LOCKED);
 * one it claimed already is no longer due (next_attempt_at moved on), nor
 * one it sent.  PostgreSQL only: SQLite has one writer on one machine.
 */
static const struct query q_claim = {
	"SELECT attempts FROM outbox WHERE id = ?1 AND delivered_at IS NULL "
	"AND next_attempt_at <= ?2 FOR UPDATE SKIP LOCKED", NULL
};

static const struct query q_claim_mark = {
	"UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1", NULL
};

int
notify_claim(struct store *st, long long id, time_t now, int *attempts)
{
	struct stmt *s;
	int rc;

	if (!store_on_postgresql(st))
		return 1;
	if ((s = store_prepare(st, &q_claim, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, id)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)now)) == STORE_OK)
		rc = store_step(s);
	if (rc == STORE_ROW)
		*attempts = (int)store_col_int64(s, 0);
	store_done(s);
	if (rc != STORE_ROW)
		return rc == STORE_DONE ? 0 : rc;
	if ((s = store_prepare(st, &q_claim_mark, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, id)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, (long long)now +
	    NOTIFY_CLAIM_SECS)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? 1 : rc;
}

/* The claim in its own transaction: 1 claimed (r->attempts as it is
 * now), 0 another node's, or a negative store_rc. */
static int
claim(struct store *st, struct outbox_row *r, time_t now)
{
	int rc, attempts = r->attempts;

	if (!store_on_postgresql(st))
		return 1;
	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	if ((rc = notify_claim(st, r->id, now, &attempts)) != 1) {
		store_rollback(st);
		return rc;
	}
	if ((rc = store_commit(st)) != STORE_OK)
		return rc;
	r->attempts = attempts;
	return 1;
}

static int	load_rows(struct stmt *, struct outbox_row **, size_t *);

/* Copy the due rows out, so no statement stays open across transfers. */
static int
load_due(struct store *st, time_t now, int max, struct outbox_row **out,
    size_t *n)
{
	struct stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if ((s = store_prepare(st, &q_due, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)now)) != STORE_OK ||
	    (rc = store_bind_int64(s, 2, max)) != STORE_OK) {
		store_done(s);
		return rc;
	}
	return load_rows(s, out, n);
}

/* The rows of s appended to *out (*n of them); s done. */
static int
load_rows(struct stmt *s, struct outbox_row **out, size_t *n)
{
	struct outbox_row *v = *out;
	size_t cap = *n;
	int rc;

	while ((rc = store_step(s)) == STORE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[*n].id = store_col_int64(s, 0);
		v[*n].kind = col_dup(s, 1);
		v[*n].channel = col_dup(s, 2);
		v[*n].ticket = store_col_int64(s, 3);
		v[*n].payload = col_dup(s, 4);
		v[*n].attempts = (int)store_col_int64(s, 5);
		(*n)++;
	}
	store_done(s);
	*out = v;
	return rc == STORE_DONE ? STORE_OK : rc;
}

static int
mark_delivered(struct store *st, const struct outbox_row *r, time_t now)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_delivered, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)now)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, r->id)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

static int
mark_failed(struct store *st, const struct outbox_row *r, time_t now,
    const char *error)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, &q_failed, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_int64(s, 1, (long long)now)) == STORE_OK &&
	    (rc = store_bind_int64(s, 2, notify_backoff(r->attempts))) ==
	    STORE_OK &&
	    (rc = store_bind_text(s, 3, error, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 4, r->id)) == STORE_OK)
		rc = store_step(s);
	store_done(s);
	return rc == STORE_DONE ? STORE_OK : rc;
}

/* Record the outcome of one attempt in its own transaction. */
static int
record(struct store *st, const struct outbox_row *r, int ok,
    const char *error, time_t now)
{
	char *detail;
	int rc;

	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	if (ok) {
		rc = mark_delivered(st, r, now);
		if (rc == STORE_OK && r->ticket > 0 &&
		    strcmp(r->kind, "alert") == 0) {
			detail = xasprintf("{\"outbox\":%lld,\"channel\":\"%s\"}",
			    r->id, strcmp(r->channel, "email") == 0 ? "email" :
			    "webhook");
			rc = store_event(st, r->ticket, (long long)now, "intaked",
			    "alert", detail);
			free(detail);
		}
	} else
		rc = mark_failed(st, r, now, error);
	if (rc != STORE_OK) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st);
}

/* The due alerts of these tickets (crisis first), appended to *out. */
static int
load_ticket_alerts(struct store *st, time_t now, const long long *tickets,
    size_t ntickets, struct outbox_row **out, size_t *n)
{
	struct stmt *s;
	size_t i;
	int rc = STORE_OK;

	*out = NULL;
	*n = 0;
	for (i = 0; i < ntickets && rc == STORE_OK; i++) {
		if ((s = store_prepare(st, &q_ticket_alerts, &rc)) == NULL)
			return rc;
		if ((rc = store_bind_int64(s, 1, (long long)now)) != STORE_OK ||
		    (rc = store_bind_int64(s, 2, tickets[i])) != STORE_OK) {
			store_done(s);
			return rc;
		}
		rc = load_rows(s, out, n);
	}
	return rc;
}

static int	deliver_rows(struct store *, const struct config *, time_t,
		    struct outbox_row *, size_t);

int
notify_deliver_due(struct store *st, const struct config *cfg, time_t now,
    int max)
{
	struct outbox_row *rows;
	size_t n;
	int rc;

	if ((rc = load_due(st, now, max, &rows, &n)) != STORE_OK) {
		log_err("outbox: %s", store_errmsg(st));
		return rc;
	}
	return deliver_rows(st, cfg, now, rows, n);
}

int
notify_deliver_tickets(struct store *st, const struct config *cfg,
    time_t now, const long long *tickets, size_t ntickets)
{
	struct outbox_row *rows;
	size_t n, i;
	int rc;

	if ((rc = load_ticket_alerts(st, now, tickets, ntickets, &rows, &n)) !=
	    STORE_OK) {
		log_err("outbox: %s", store_errmsg(st));
		for (i = 0; i < n; i++)
			row_free(&rows[i]);
		free(rows);
		return rc;
	}
	return deliver_rows(st, cfg, now, rows, n);
}

/* Try rows[0..n) and record each outcome; the rows are freed. */
static int
deliver_rows(struct store *st, const struct config *cfg, time_t now,
    struct outbox_row *rows, size_t n)
{
	size_t i;
	char *err, *short_err;
	uint64_t start;
	int rc = STORE_OK, delivered = 0, sent;

	start = now_ms_monotonic();
	for (i = 0; i < n; i++) {
		struct outbox_row *r = &rows[i];

		/* The rest stays due for the next round. */
		if (now_ms_monotonic() - start > ROUND_BUDGET_MS)
			break;
		/* PostgreSQL: another node may be sending it, or have sent it */
		if ((rc = claim(st, r, now)) == 0)
			continue;
		if (rc < 0) {
			log_err("outbox %lld: cannot claim it: %s", r->id,
			    store_errmsg(st));
			break;
		}
		rc = STORE_OK;
		sent = deliver_row(cfg, r, &err);
		short_err = err ? utf8_truncate(err, ERROR_MAX) : NULL;
		if (sent == NOTIFY_OK)
			log_info("outbox %lld: %s delivered by %s", r->id, r->kind,
			    r->channel);
		else
			log_msg(sent == NOTIFY_CONFIG ? LOG_PRI_ERR :
			    LOG_PRI_WARNING, "outbox %lld: %s by %s failed "
			    "(attempt %d): %s", r->id, r->kind, r->channel,
			    r->attempts + 1, short_err ? short_err : "?");
		/* time(NULL): a slow transfer must not mark the row as
		 * delivered before it was. */
		rc = record(st, r, sent == NOTIFY_OK, short_err, sent ==
		    NOTIFY_OK ? time(NULL) : now);
		free(err);
		free(short_err);
		if (rc != STORE_OK) {
			log_err("outbox %lld: cannot record the outcome: %s",
			    r->id, store_errmsg(st));
			break;
		}
		delivered += sent == NOTIFY_OK;
	}
	for (i = 0; i < n; i++)
		row_free(&rows[i]);
	free(rows);
	return rc != STORE_OK ? rc : delivered;
}
