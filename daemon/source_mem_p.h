/* SPDX-License-Identifier: MIT */
/*
 * source_mem_p.h: private to source_mem.c and the engine's unit tests
 * (tests/unit/test_source.c): a source driver over messages in memory,
 * with knobs that make it fail where a real source can (isync's
 * drv_proxy.c idea).  Never linked into a configured source.
 */
#ifndef INTAKE_SOURCE_MEM_P_H
#define INTAKE_SOURCE_MEM_P_H

#include "source.h"

struct mem_message {
	const char	*key;
	const char	*data;		/* NULL: fetch fails (FETCH_FAILED) */
	int		 not_message;
	int		 marked;	/* how often marked */
	int		 held;		/* prefetched, not yet fetched */
	int		 fail_temp;	/* fetch: FETCH_FAILED_TEMP */
};
struct mem_source {
	struct mem_message	*v;
	size_t			 n;
	int			 use_cursor;	/* last_uid = index + 1 */
	int			 use_marked;	/* SRCDRV_MARKED: list from
						   the watermark */
	long long		 regress_to;	/* >0: end cursor this low */
	int			 fail_mark;	/* mark() refuses (MARK_REFUSED) */
	int			 break_mark;	/* mark() breaks (MARK_BROKEN) */
	int			 mark_alert;	/* SRCDRV_MARK_ALERT */
	int			 abort_in_mark;	/* mark() calls abort() */
	int			 clock_step_ms;	/* fetch advances *clock */
	long long		*clock;
	int			 fetches;
	int			 use_prefetch;	/* a driver with prefetch */
	int			 fail_prefetch;	/* prefetch() fails (SRC_TEMP) */
	int			 prefetches;	/* prefetch() calls */
	int			 prefetched;	/* items handed to them */
	int			 prefetch_max;	/* most items in one call */
	int			 from_prefetch;	/* fetches served from them */
	int			 save_failures;	/* SRCDRV_FAILURES_SAVED */
	int			 use_record;	/* record(): keeps a header */
	int			 fail_record;	/* record() fails (FETCH_TEMP) */
	int			 use_poll_end;	/* poll_end(): */
	int			 end_arrivals;	/* ... this often a message
						   more arrives (n++): 1 */
	int			 end_calls;	/* poll_end() calls */
	int			 end_rc;	/* ... the last one's rc */
	struct source_driver	 drv;	/* source_mem_init's */
};
void	 source_mem_init(struct source *, const struct source_config *,
	    struct mem_source *);

#endif
