/* SPDX-License-Identifier: MIT */
/*
 * oauth.c: SASL OAUTHBEARER for IMAP and the access-token refresh (oauth.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libetpan/libetpan.h>

#include "config.h"

#include "oauth.h"
#include "util.h"

char *
oauth_base64(const void *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = tab[p[i + 2] & 63];
	}
	if (i < len) {
		*o++ = tab[p[i] >> 2];
		if (i + 1 < len) {
			*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*o++ = tab[(p[i + 1] & 15) << 2];
		} else {
			*o++ = tab[(p[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static void
wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

char *
oauth_bearer_ir(const char *user, const char *host, int port,
    const char *token)
{
	struct buf b;
	const char *u;
	char *raw, *out;

	/* gs2 "a=" saslname: ',' and '=' are escaped (RFC 5801). */
	buf_init(&b, 0);
	buf_addstr(&b, "n,a=");
	for (u = user; *u; u++) {
		if (*u == ',')
			buf_addstr(&b, "=2C");
		else if (*u == '=')
			buf_addstr(&b, "=3D");
		else
			buf_addc(&b, *u);
	}
	buf_addf(&b, ",\001host=%s\001port=%d\001auth=Bearer %s\001\001",
	    host, port, token);
	raw = buf_steal(&b);
	out = oauth_base64(raw, strlen(raw));
	wipe_free(raw);
	return out;
}

/* Write all of s to the session's stream. */
static int
send_str(mailimap *imap, const char *s)
{
	size_t len = strlen(s);

	return mailstream_write(imap->imap_stream, s, len) == (ssize_t)len ?
	    MAILIMAP_NO_ERROR : MAILIMAP_ERROR_STREAM;
}

/*
 * Built from libetpan's own public pieces the way its XOAUTH2 is
 * (mailimap_oauth2.c): tag, command and initial response, one line read;
 * a "+" line is the server's error challenge (a JSON status), answered
 * with %x01 ("AQ==") so the server sends its tagged NO.
 */
int
oauth_imap_bearer(mailimap *imap, const char *user, const char *host,
    int port, const char *token)
{
	struct mailimap_response *resp;
	char *ir, *line;
	int r, state;

	if (imap->imap_state != MAILIMAP_STATE_NON_AUTHENTICATED)
		return MAILIMAP_ERROR_BAD_STATE;
	ir = oauth_bearer_ir(user, host, port, token);
	line = xasprintf("AUTHENTICATE OAUTHBEARER %s\r\n", ir);
	wipe_free(ir);
	mailstream_set_privacy(imap->imap_stream, 0);
	r = mailimap_send_current_tag(imap);
	if (r == MAILIMAP_NO_ERROR)
		r = send_str(imap, line);
	if (r == MAILIMAP_NO_ERROR && mailstream_flush(imap->imap_stream) == -1)
		r = MAILIMAP_ERROR_STREAM;
	mailstream_set_privacy(imap->imap_stream, 1);
	wipe_free(line);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	if (mailimap_read_line(imap) == NULL)
		return MAILIMAP_ERROR_STREAM;
	if (imap->imap_stream_buffer->len > 0 &&
	    imap->imap_stream_buffer->str[0] == '+') {
		if (send_str(imap, "AQ==\r\n") != MAILIMAP_NO_ERROR ||
		    mailstream_flush(imap->imap_stream) == -1)
			return MAILIMAP_ERROR_STREAM;
	}
	r = mailimap_parse_response(imap, &resp);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	state = resp->rsp_resp_done->rsp_type == MAILIMAP_RESP_DONE_TYPE_TAGGED ?
	    resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->rsp_type :
	    MAILIMAP_RESP_COND_STATE_BAD;
	mailimap_response_free(resp);
	if (state != MAILIMAP_RESP_COND_STATE_OK)
		return MAILIMAP_ERROR_LOGIN;
	imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
	return MAILIMAP_NO_ERROR;
}

/* ---- the access-token refresh (RFC 6749 sections 4.4 and 6) ------------ */

#define TOKEN_REPLY_MAX	(64 * 1024)
#define EXPIRY_MARGIN	60	/* seconds: refresh this long before expiry */
#define DEFAULT_LIFE	3600	/* a reply without expires_in */

/*
 * The cache, one entry per distinct oauth = { } (by content, not by
 * pointer: a reloaded configuration keeps the token of an unchanged
 * source).  In memory only; a process-wide list because the IMAP
 * connection state comes and goes with every reconnect.
 */
struct cached {
	struct cached	*next;
	char		*key;
	char		*token;
	time_t		 expires;
};
static struct cached *cache;

static char *
cache_key(const struct oauth_config *o)
{
	return xasprintf("%s\n%s\n%s\n%s", o->token_url, o->client_id,
	    o->refresh_token_file ? o->refresh_token_file : "",
	    o->scope ? o->scope : "");
}

static struct cached *
cache_get(const struct oauth_config *o)
{
	struct cached *c;
	char *key = cache_key(o);

	for (c = cache; c; c = c->next)
		if (strcmp(c->key, key) == 0)
			break;
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->key = key;
		c->next = cache;
		cache = c;
	} else
		free(key);
	return c;
}

static size_t
reply_write(char *ptr, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_add(b, ptr, size * n) == -1 ? 0 : size * n;
}

/* name=value& with value URL-encoded. */
static void
form_add(struct buf *b, CURL *h, const char *name, const char *value)
{
	char *e = curl_easy_escape(h, value, 0);

	buf_addf(b, "%s%s=%s", b->len ? "&" : "", name, e ? e : "");
	if (e) {
		explicit_bzero(e, strlen(e));
		curl_free(e);
	}
}

/* Replace path's contents with line + "\n": a temporary file in the same
 * directory, mode 0600, fsync, rename, fsync of the directory. */
static int
rewrite_secret(const char *path, const char *line, char **err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	char *dir = xstrdup(path), *slash;
	size_t len = strlen(line);
	int fd, dfd, ok;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		*err = xasprintf("refresh_token_file: %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		free(dir);
		return -1;
	}
	ok = write(fd, line, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
	    fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) == -1) {
		*err = xasprintf("refresh_token_file: cannot replace %s: %s",
		    path, strerror(errno));
		unlink(tmp);
		free(tmp);
		free(dir);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(tmp);
	free(dir);
	return 0;
}

/* The token endpoint's reply: access_token, expires_in, refresh_token. */
static int
parse_reply(const struct oauth_config *o, long status, const char *body,
    struct cached *c, char **err)
{
	json_error_t je;
	json_t *j = json_loads(body, 0, &je), *at, *ex, *rt, *er;
	char *old = NULL, *serr = NULL;
	int rc = -1;

	if (j == NULL || !json_is_object(j)) {
		*err = xasprintf("token_url: HTTP %ld, not a JSON object", status);
		goto out;
	}
	if (status != 200) {
		/* The error code is the server's fixed vocabulary; the
		 * description is escaped, it may echo what was sent. */
		char *e;

		er = json_object_get(j, "error");
		e = str_escape(json_is_string(er) ? json_string_value(er) : "",
		    64);
		*err = xasprintf("token_url: HTTP %ld %s", status, e);
		free(e);
		goto out;
	}
	at = json_object_get(j, "access_token");
	ex = json_object_get(j, "expires_in");
	rt = json_object_get(j, "refresh_token");
	if (!json_is_string(at) || *json_string_value(at) == '\0' ||
	    strcspn(json_string_value(at), "\r\n") !=
	    strlen(json_string_value(at))) {
		*err = xstrdup("token_url: reply without a usable access_token");
		goto out;
	}
	if (json_is_string(rt) && o->refresh_token_file &&
	    config_read_secret(o->refresh_token_file, &old, &serr) == 0 &&
	    strcmp(old, json_string_value(rt)) != 0 &&
	    rewrite_secret(o->refresh_token_file, json_string_value(rt),
	    err) == -1)
		goto out;
	wipe_free(c->token);
	c->token = xstrdup(json_string_value(at));
	c->expires = time(NULL) + (json_is_integer(ex) &&
	    json_integer_value(ex) > 0 ? (time_t)json_integer_value(ex) :
	    DEFAULT_LIFE);
	rc = 0;
out:
	free(serr);
	wipe_free(old);
	json_decref(j);
	return rc;
}

static int
fetch_token(const struct oauth_config *o, int timeout, struct cached *c,
    char **err)
{
	struct buf form, reply;
	char *secret = NULL, *refresh = NULL, *serr = NULL, cerr[CURL_ERROR_SIZE];
	long status = 0;
	CURL *h;
	CURLcode cc;
	int rc = -1;

	if (o->client_secret_file &&
	    config_read_secret(o->client_secret_file, &secret, &serr) == -1) {
		*err = xasprintf("client_secret_file: %s", serr);
		free(serr);
		return -1;
	}
	if (o->refresh_token_file &&
	    config_read_secret(o->refresh_token_file, &refresh, &serr) == -1) {
		*err = xasprintf("refresh_token_file: %s", serr);
		free(serr);
		wipe_free(secret);
		return -1;
	}
	if ((h = curl_easy_init()) == NULL) {
		*err = xstrdup("curl_easy_init failed");
		wipe_free(secret);
		wipe_free(refresh);
		return -1;
	}
	buf_init(&form, 0);
	buf_init(&reply, TOKEN_REPLY_MAX);
	if (refresh) {
		form_add(&form, h, "grant_type", "refresh_token");
		form_add(&form, h, "refresh_token", refresh);
	} else
		form_add(&form, h, "grant_type", "client_credentials");
	form_add(&form, h, "client_id", o->client_id);
	if (secret)
		form_add(&form, h, "client_secret", secret);
	if (o->scope)
		form_add(&form, h, "scope", o->scope);
	buf_addc(&form, '\0');
	cerr[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, o->token_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.data);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "intake");
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK)
		*err = xasprintf("token_url: %s", cerr[0] ? cerr :
		    curl_easy_strerror(cc));
	else {
		buf_addc(&reply, '\0');
		rc = parse_reply(o, status, reply.data ? reply.data : "", c, err);
	}
	curl_easy_cleanup(h);
	if (form.data)
		explicit_bzero(form.data, form.len);
	if (reply.data)
		explicit_bzero(reply.data, reply.len);
	buf_free(&form);
	buf_free(&reply);
	wipe_free(secret);
	wipe_free(refresh);
	return rc;
}

int
oauth_access_token(const struct oauth_config *o, int timeout, int force,
    char **token, char **err)
{
	struct cached *c = cache_get(o);

	*token = NULL;
	if (force || c->token == NULL || time(NULL) + EXPIRY_MARGIN >= c->expires)
		if (fetch_token(o, timeout, c, err) == -1)
			return -1;
	*token = xstrdup(c->token);
	return 0;
}

void
oauth_config_free(struct oauth_config *o)
{
	if (o == NULL)
		return;
	free(o->token_url);
	free(o->client_id);
	free(o->client_secret_file);
	free(o->refresh_token_file);
	free(o->scope);
	free(o);
}
