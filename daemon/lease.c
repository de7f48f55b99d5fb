/* SPDX-License-Identifier: MIT */
/*
 * lease.c: source leases and fencing (lease.h).  Every time is the
 * database's clock_timestamp(): never a node's clock, which may be wrong
 * or stepped, nor now(), which is its transaction's start and would make
 * a lease checked late in a long transaction look younger than it is.
 * The statements are PostgreSQL's; on SQLite none runs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lease.h"
#include "util.h"

/* ttl as an interval: the bound milliseconds times one millisecond */
#define TTL(n)	"clock_timestamp() + ?" #n "::bigint * interval '1 millisecond'"

static const struct query q_acquire = {
	"INSERT INTO source_leases (source, holder, epoch, acquired_at, "
	"renewed_at, expires_at) VALUES (?1, ?2, 1, clock_timestamp(), "
	"clock_timestamp(), " TTL(3) ") "
	"ON CONFLICT (source) DO UPDATE SET holder = excluded.holder, "
	"epoch = source_leases.epoch + 1, acquired_at = clock_timestamp(), "
	"renewed_at = clock_timestamp(), expires_at = " TTL(3) " "
	"WHERE source_leases.expires_at < clock_timestamp() "
	"RETURNING epoch", NULL
};

static const struct query q_renew = {
	"UPDATE source_leases SET renewed_at = clock_timestamp(), "
	"expires_at = " TTL(4) " "
	"WHERE source = ?1 AND holder = ?2 AND epoch = ?3 "
	"AND expires_at > clock_timestamp() RETURNING epoch", NULL
};

static const struct query q_fence = {
	"SELECT epoch FROM source_leases WHERE source = ?1 AND holder = ?2 "
	"AND epoch = ?3 AND expires_at > clock_timestamp() FOR SHARE", NULL
};

static const struct query q_release = {
	"UPDATE source_leases SET expires_at = clock_timestamp() "
	"WHERE source = ?1 AND holder = ?2 AND epoch = ?3 RETURNING epoch", NULL
};

const char *
lease_node_id(char *buf, size_t len)
{
	char host[256] = "?", boot[40] = "?";
	ssize_t n;
	int fd;

	if (gethostname(host, sizeof(host) - 1) == -1)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
	    O_CLOEXEC)) != -1) {
		n = read(fd, boot, 8);
		boot[n > 0 ? n : 0] = '\0';
		close(fd);
		if (boot[0] == '\0')
			snprintf(boot, sizeof(boot), "?");
	}
	snprintf(buf, len, "%s/%s/%ld", host, boot, (long)getpid());
	return buf;
}

/* Run q with (source, node, a, b) (b < 0: not bound): LEASE_HELD with
 * *epoch when it returned a row, LEASE_LOST when none. */
static int
run(struct store *st, const struct query *q, const char *source,
    const char *node, long long a, long long b, long long *epoch)
{
	struct stmt *s;
	int rc;

	if ((s = store_prepare(st, q, &rc)) == NULL)
		return rc;
	if ((rc = store_bind_text(s, 1, source, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_text(s, 2, node, (size_t)-1)) == STORE_OK &&
	    (rc = store_bind_int64(s, 3, a)) == STORE_OK &&
	    (b < 0 || (rc = store_bind_int64(s, 4, b)) == STORE_OK))
		rc = store_step(s);
	if (rc == STORE_ROW && epoch)
		*epoch = store_col_int64(s, 0);
	store_done(s);
	if (rc == STORE_ROW)
		return LEASE_HELD;
	return rc == STORE_DONE ? LEASE_LOST : rc;
}

int
lease_acquire(struct store *st, const char *source, const char *node,
    long long ttl_ms, long long *epoch)
{
	*epoch = 0;
	if (!store_on_postgresql(st))
		return LEASE_HELD;
	return run(st, &q_acquire, source, node, ttl_ms, -1, epoch);
}

int
lease_renew(struct store *st, const char *source, const char *node,
    long long epoch, long long ttl_ms)
{
	if (!store_on_postgresql(st))
		return LEASE_HELD;
	return run(st, &q_renew, source, node, epoch, ttl_ms, NULL);
}

int
lease_fence(struct store *st, const char *source, const char *node,
    long long epoch)
{
	if (!store_on_postgresql(st))
		return LEASE_HELD;
	return run(st, &q_fence, source, node, epoch, -1, NULL);
}

int
lease_release(struct store *st, const char *source, const char *node,
    long long epoch)
{
	if (!store_on_postgresql(st))
		return LEASE_HELD;
	return run(st, &q_release, source, node, epoch, -1, NULL);
}
