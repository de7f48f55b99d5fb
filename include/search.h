/* SPDX-License-Identifier: MIT */
/*
 * search.h: full-text search over the FTS5 indexes of sql/005_search.sql
 * (messages: subject, sender, text, attachment names; staff notes), ranked
 * by bm25, one hit per ticket with a short snippet.  `intake search`
 * (cmd_search.c) renders the hits.
 */
#ifndef INTAKE_SEARCH_H
#define INTAKE_SEARCH_H

#include <stddef.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"
#include "util.h"

/* The snippet's highlight markers (never in stored text: utf8_sanitize
 * leaves C0 controls, so renderers treat a stray one as plain). */
#define SEARCH_MARK_ON	'\002'
#define SEARCH_MARK_OFF	'\003'

/* Phone numbers: a run of at least this many digits is indexed as one. */
#define SEARCH_DIGITS_MIN	7
#define SEARCH_DIGITS_MAX	15

/* Register intake_digits() on a connection (the 005 views call it). */
int	 search_register(sqlite3 *);

/* The FTS5 MATCH expression for what a person typed: words quoted (a
 * trailing * kept as a prefix search), phone numbers as digit tokens, all
 * required.  NULL when nothing searchable is left. */
char	*search_match_expr(const char *query);

struct search_filter {
	const char	*type;		/* call type or NULL */
	const char	*status;	/* "open", "closed" or NULL for all */
	time_t		 since, until;	/* ticket received_at in [since, until) */
	const char	*assignee;	/* exact, or NULL */
	const char	*sender;	/* an address of one of its messages */
	long long	 limit;		/* > 0 */
};

struct search_hit {
	long long	 id;
	char		*status, *type, *urgency, *disposition;
	time_t		 received_at;
	char		*assignee, *sender, *subject;
	double		 score;		/* bm25: lower is better */
	char		*where;		/* "message" or "note" */
	char		*snippet;	/* with SEARCH_MARK_ON/OFF, may be "" */
};

struct search_hits {
	struct search_hit *v;
	size_t		 n;
};

/* STORE_OK with *out (search_hits_free), or a STORE_* code. */
int	 search_run(struct store *, const char *match,
	    const struct search_filter *, struct search_hits *out);
void	 search_hits_free(struct search_hits *);

/* The snippet for a terminal or CSV: markers as [ ], white space runs as
 * one space, control characters dropped.  Caller frees. */
char	*search_snippet_plain(const char *snippet);
/* The snippet HTML-escaped with <mark> around the matches. */
int	 search_snippet_html(struct buf *, const char *snippet);

#endif
