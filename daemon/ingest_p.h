/* SPDX-License-Identifier: MIT */
/*
 * ingest_p.h: what ingest.c lends to reply.c (private to the two).
 */
#ifndef INTAKE_INGEST_P_H
#define INTAKE_INGEST_P_H

#include <jansson.h>
#include <sqlite3.h>

#include "dedup.h"
#include "ingest.h"

/* Insert the messages row of raw/msg on ticket (direction 'in'), with the
 * source's claimed received time when it was not believed (claimed != 0).
 * STORE_OK with *id, or a STORE_* code. */
int	 ingest_store_message(struct ingest_ctx *, const struct raw_input *,
	    const struct message *, const char *sha, const struct dedup_info *,
	    long long ticket, time_t now, time_t claimed, long long *id);

/* An events row (store_event) with detail as compact JSON; takes detail. */
int	 ingest_event(struct ingest_ctx *, long long ticket, time_t now,
	    const char *actor, const char *kind, json_t *detail);

#endif
