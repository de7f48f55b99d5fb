/* SPDX-License-Identifier: MIT */
/*
 * lease.h: one node polls a source at a time (doc/interfaces.md, "Leases
 * and fencing").  A lease row per polled source (source_leases, migration
 * 013) names its holder (a node id), an epoch (+1 at every change of
 * holder) and an expiry, always by the database clock.  A node takes an
 * unheld or expired lease (acquire), keeps it by renewing before it
 * expires (renew), and re-checks it as the first statement of every batch
 * transaction (fence): the check locks the lease row FOR SHARE, so a
 * takeover waits for that commit; when the check fails the caller rolls
 * back and marks nothing.
 *
 * PostgreSQL only: on a SQLite store (one writer on one machine) every
 * call answers LEASE_HELD with epoch 0 and touches nothing.
 */
#ifndef INTAKE_LEASE_H
#define INTAKE_LEASE_H

#include <stddef.h>

#include "store.h"

enum lease_rc {
	LEASE_HELD = 1,		/* this node holds the lease (epoch as given) */
	LEASE_LOST = 2,		/* another node holds it, or ours expired */
	/* else < 0: an enum store_rc (STORE_TEMP: retry later) */
};

/* This node's id: "HOST/BOOTID/PID" (the boot id's first 8 hex digits),
 * unique per process across machines and reboots.  Into buf. */
const char *lease_node_id(char *buf, size_t len);
/*
 * Take the source's lease for ttl_ms if nobody holds it or it expired:
 * LEASE_HELD and *epoch (1 for a new row, +1 over the last holder's), or
 * LEASE_LOST while another node's (or this node's own) lease runs.  One
 * statement; outside a transaction.
 */
int	 lease_acquire(struct store *, const char *source, const char *node,
	    long long ttl_ms, long long *epoch);
/* Extend the lease held with epoch to ttl_ms from now: LEASE_HELD, or
 * LEASE_LOST (expired, or taken over): stop that source at once. */
int	 lease_renew(struct store *, const char *source, const char *node,
	    long long epoch, long long ttl_ms);
/*
 * Inside the caller's batch transaction, as its first statement: does this
 * node still hold the lease with epoch, unexpired?  LEASE_HELD (the row is
 * now locked FOR SHARE until the transaction ends: no takeover can commit
 * in between), or LEASE_LOST: roll back, commit nothing, mark nothing.
 */
int	 lease_fence(struct store *, const char *source, const char *node,
	    long long epoch);
/* Give the lease up now (a clean stop): another node may take it at once.
 * LEASE_HELD when it was ours, LEASE_LOST when not. */
int	 lease_release(struct store *, const char *source, const char *node,
	    long long epoch);

#endif
