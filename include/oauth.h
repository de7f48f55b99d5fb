/* SPDX-License-Identifier: MIT */
/*
 * oauth.h: OAuth 2.0 for mailboxes that refuse passwords (Microsoft 365,
 * Google Workspace).  Two halves: the SASL OAUTHBEARER exchange (RFC 7628)
 * that libetpan 1.9.4 does not have (its mailimap_oauth2_authenticate is
 * XOAUTH2 only), and intake's own access-token refresh through libcurl
 * (RFC 6749 refresh-token and client-credentials grants).
 */
#ifndef INTAKE_OAUTH_H
#define INTAKE_OAUTH_H

#include <stddef.h>

struct mailimap;

/* The client's first message of RFC 7628 section 3.1 (gs2 header with the
 * authorization identity, host, port, "auth=Bearer TOKEN"), base64. */
char	*oauth_bearer_ir(const char *user, const char *host, int port,
	    const char *token);

/* AUTHENTICATE OAUTHBEARER with the initial response (SASL-IR); on the
 * server's error challenge, the dummy %x01 reply the RFC asks for.  A
 * MAILIMAP_ERROR_* / MAILIMAP_NO_ERROR code like mailimap_login's
 * (MAILIMAP_ERROR_LOGIN: refused). */
int	 oauth_imap_bearer(struct mailimap *, const char *user,
	    const char *host, int port, const char *token);

/* oauth = { ... } of an IMAP source: intake gets the access token itself. */
struct oauth_config {
	char	*token_url;		/* https://, or http:// to loopback */
	char	*client_id;
	char	*client_secret_file;	/* NULL: a public client */
	char	*refresh_token_file;	/* NULL: client-credentials grant */
	char	*scope;			/* NULL: none sent */
};

/* An access token for cfg: the one cached in this process while it has
 * more than 60 s left, else a new one from token_url (force: always a new
 * one, after the server refused the cached one).  When the server rotates
 * the refresh token, refresh_token_file is replaced atomically (mode 0600).
 * 0 with *token (caller wipes and frees), or -1 with *err (never holding a
 * secret). */
int	 oauth_access_token(const struct oauth_config *, int timeout, int force,
	    char **token, char **err);

void	 oauth_config_free(struct oauth_config *);

/* base64 (RFC 4648, with padding) of len bytes; caller frees. */
char	*oauth_base64(const void *, size_t len);

#endif
