/* SPDX-License-Identifier: MIT */
/*
 * tag.c: keyed subject tags (tag.h).  The key stays in memory for the
 * process's life; nothing derived from it is logged.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "log.h"
#include "store.h"
#include "tag.h"
#include "tag_p.h"
#include "util.h"

/* The one key of this process (one database per process). */
static struct {
	int		 loaded;
	int		 warned;
	unsigned char	 key[TAG_KEY_BYTES];
} tagkey;

char *
tag_key_path(const struct config *cfg)
{
	const char *db = cfg->database ? cfg->database : "intake.db";
	const char *slash = strrchr(db, '/');

	if (cfg->tag_key_file)
		return xstrdup(cfg->tag_key_file);
	/* a connection string is no directory, and may hold a password */
	if (store_is_postgresql(db))
		return xstrdup(TAG_KEY_PG_DEFAULT);
	if (slash == NULL)
		return xstrdup("tag.key");
	return xasprintf("%.*s/tag.key", (int)(slash - db), db);
}

static int
read_key(const char *path, unsigned char *key, char **err)
{
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 027) != 0) {
		*err = xasprintf("%s: not a regular file of mode 0600 (or "
		    "0640 with database_group)", path);
		close(fd);
		return -2;
	}
	n = read(fd, key, TAG_KEY_BYTES);
	close(fd);
	if (n != TAG_KEY_BYTES) {
		*err = xasprintf("%s: not %d bytes", path, TAG_KEY_BYTES);
		return -2;
	}
	return 0;
}

/* A complete temporary file, then link(): a concurrent reader sees no
 * file or the whole key, and the first of two creators wins. */
static int
create_key(const char *path, const char *group, char **err)
{
	unsigned char key[TAG_KEY_BYTES];
	struct group *gr = NULL;
	char *tmp;
	int fd, rc = -1;

	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		*err = xasprintf("getrandom: %s", strerror(errno));
		return -1;
	}
	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		*err = xasprintf("%s: %s", tmp, strerror(errno));
	/* Like the database: the group (the staff, the MTA) may read it. */
	else if (group && ((gr = getgrnam(group)) == NULL ||
	    fchown(fd, (uid_t)-1, gr->gr_gid) == -1 || fchmod(fd, 0640) == -1))
		*err = xasprintf("%s: database_group %s: %s", tmp, group,
		    gr ? strerror(errno) : "no such group");
	else if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
	    fsync(fd) == -1)
		*err = xasprintf("%s: %s", tmp, strerror(errno));
	else if (link(tmp, path) == -1 && errno != EEXIST)
		*err = xasprintf("%s: %s", path, strerror(errno));
	else
		rc = 0;
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	explicit_bzero(key, sizeof(key));
	return rc;
}

int
tag_key_init(const struct config *cfg, char **err)
{
	char *path;
	int rc;

	*err = NULL;
	if (tagkey.loaded)
		return 0;
	path = tag_key_path(cfg);
	rc = read_key(path, tagkey.key, err);
	if (rc == -1 && errno == ENOENT) {
		if (create_key(path, cfg->database_group, err) == 0)
			rc = read_key(path, tagkey.key, err);
	} else if (rc == -1)
		*err = xasprintf("%s: %s", path, strerror(errno));
	if (rc != 0 && *err == NULL)
		*err = xasprintf("%s: cannot read the tag key", path);
	free(path);
	if (rc != 0)
		return -1;
	tagkey.loaded = 1;
	return 0;
}

/* The MAC part of ticket's tag into out (TAG_MAC_CHARS + 1).  -1 when no
 * key could be had (the error is logged once). */
static int
tag_mac(const struct config *cfg, long long ticket, char *out, size_t len)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char mac[32];
	char msg[48], *err;
	unsigned long long bits;
	int i, n;

	if (len < TAG_MAC_CHARS + 1)
		return -1;
	if (tag_key_init(cfg, &err) == -1) {
		if (!tagkey.warned)
			log_err("subject tags: %s", err);
		tagkey.warned = 1;
		free(err);
		return -1;
	}
	/* Domain-separated, so the same key can sign other things later. */
	n = snprintf(msg, sizeof(msg), "intake-ticket:%lld", ticket);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, tagkey.key, sizeof(tagkey.key),
	    msg, (size_t)n, mac) != 0)
		return -1;
	bits = 0;
	for (i = 0; i < 5; i++)
		bits = bits << 8 | mac[i];
	for (i = 0; i < TAG_MAC_CHARS; i++)
		out[i] = b32[(bits >> (35 - 5 * i)) & 31];
	out[TAG_MAC_CHARS] = '\0';
	return 0;
}

void
tag_format(const struct config *cfg, long long ticket, char *out, size_t len)
{
	char mac[TAG_MAC_CHARS + 1];

	if (tag_mac(cfg, ticket, mac, sizeof(mac)) == 0)
		snprintf(out, len, "[intake #%lld-%s]", ticket, mac);
	else
		snprintf(out, len, "[intake #%lld]", ticket);
}

/* Constant time: the comparison must not tell how much of a guess is
 * right. */
static int
mac_equal(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)(tolower((unsigned char)a[i]) ^ b[i]);
	return d == 0;
}

long long
tag_find(const struct config *cfg, const char *subject)
{
	char want[TAG_MAC_CHARS + 1];
	const char *p, *q;
	long long n;
	int i;

	if (subject == NULL)
		return 0;
	for (p = subject; (p = strstr(p, "[intake #")) != NULL; p++) {
		q = p + 9;
		n = 0;
		while (isdigit((unsigned char)*q) && n < 1000000000000LL)
			n = n * 10 + (*q++ - '0');
		if (n <= 0 || *q++ != '-')
			continue;
		for (i = 0; i < TAG_MAC_CHARS && isalnum((unsigned char)q[i]);
		    i++)
			;
		if (i != TAG_MAC_CHARS || q[i] != ']')
			continue;
		if (tag_mac(cfg, n, want, sizeof(want)) == 0 &&
		    mac_equal(q, want, TAG_MAC_CHARS))
			return n;
	}
	return 0;
}

/* ---- acknowledgement tokens ---------------------------------------- */

static void
lower_addr(const char *addr, char *out, size_t len)
{
	size_t i;

	for (i = 0; addr[i] && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)addr[i]);
	out[i] = '\0';
}

/* The MAC part of a token for (what, recipient) into out. */
static int
ack_mac(const struct config *cfg, const char *what, const char *addr,
    char *out)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char mac[32];
	char low[320], *msg, *err;
	unsigned long long bits;
	int i, rc;

	if (tag_key_init(cfg, &err) == -1) {
		free(err);
		return -1;
	}
	lower_addr(addr, low, sizeof(low));
	msg = xasprintf("intake-ack:%s:%s", what, low);
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, tagkey.key, sizeof(tagkey.key),
	    msg, strlen(msg), mac);
	free(msg);
	if (rc != 0)
		return -1;
	bits = 0;
	for (i = 0; i < 8; i++)
		bits = bits << 8 | mac[i];
	for (i = 0; i < TAG_ACK_MAC_CHARS; i++)
		out[i] = b32[(bits >> (59 - 5 * i)) & 31];
	out[TAG_ACK_MAC_CHARS] = '\0';
	return 0;
}

int
tag_ack_token(const struct config *cfg, long long ticket, long long message,
    long step, long seq, const char *addr, char *out, size_t len)
{
	char what[96], mac[TAG_ACK_MAC_CHARS + 1];

	/* "a": the first alert, apart from every escalation step's token */
	if (step < 0)
		snprintf(what, sizeof(what), "%lld-%lld-a-%ld", ticket,
		    message, seq);
	else
		snprintf(what, sizeof(what), "%lld-%lld-%ld-%ld", ticket,
		    message, step, seq);
	if (ack_mac(cfg, what, addr, mac) == -1)
		return -1;
	if ((size_t)snprintf(out, len, "%s-%s", what, mac) >= len)
		return -1;
	return 0;
}

long long
tag_ack_find(const struct config *cfg, const char *subject, const char *addr,
    char *token, size_t len, int *forged)
{
	char what[96], want[TAG_ACK_MAC_CHARS + 1];
	const char *p, *q, *dash;
	long long ticket;
	size_t n;

	*forged = 0;
	if (subject == NULL || (p = strstr(subject, "[ack ")) == NULL)
		return 0;
	p += 5;
	for (q = p; *q && *q != ']' && (isalnum((unsigned char)*q) || *q == '-');
	    q++)
		;
	if (*q != ']' || (n = (size_t)(q - p)) >= len || n < 8 + TAG_ACK_MAC_CHARS)
		return 0;
	*forged = 1;
	dash = p + n - TAG_ACK_MAC_CHARS - 1;
	if (*dash != '-' || (size_t)(dash - p) >= sizeof(what))
		return 0;
	memcpy(what, p, (size_t)(dash - p));
	what[dash - p] = '\0';
	if (addr == NULL || ack_mac(cfg, what, addr, want) == -1 ||
	    !mac_equal(dash + 1, want, TAG_ACK_MAC_CHARS))
		return 0;
	ticket = strtoll(what, NULL, 10);
	if (ticket <= 0)
		return 0;
	*forged = 0;
	memcpy(token, p, n);
	token[n] = '\0';
	return ticket;
}
