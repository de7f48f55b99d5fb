/* SPDX-License-Identifier: MIT */
/*
 * oauth.c: SASL OAUTHBEARER for IMAP and the access-token refresh (oauth.h).
 */
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

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
