/* SPDX-License-Identifier: MIT */
/*
 * store_p.h: what store.c (the driver-neutral front) shares with the two
 * drivers, store_sqlite.c and store_pg.c (OpenSMTPD's <iface>_<impl>.c).
 * Each driver's store and statement start with these, so one pointer
 * serves the front and the driver.  Not for other modules: they use
 * store.h.
 */
#ifndef INTAKE_STORE_P_H
#define INTAKE_STORE_P_H

#include "store.h"

struct store {
	const struct store_ops	*ops;
};

struct stmt {
	const struct store_ops	*ops;
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

/* store_sqlite.c: the SQLite open behind store_open()/_readonly() and
 * the driver's open. */
int	 store_sqlite_open(const char *path, const char *group,
	    int busy_timeout_ms, int flags, struct store **out, char **err);

#endif
