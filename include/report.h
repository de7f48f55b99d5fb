/* SPDX-License-Identifier: MIT */
/*
 * report.h: the follow-up list of open tickets, queried once and rendered
 * as text (terminal, fits 100 columns), CSV (RFC 4180), JSON or a
 * self-contained HTML page.  `intake followups` prints it; `intake remind`
 * mails the same rows as text + HTML.  Formats: doc/interfaces.md,
 * "intake followups".
 *
 * Typical use:
 *
 *	struct report_filter f;
 *	struct report_rows rows;
 *	struct report_opts o;
 *	struct buf out;
 *
 *	report_filter_init(&f, time(NULL));		// the default list
 *	if (report_query(store, cal, &f, &rows) != STORE_OK) ...
 *	report_opts_init(&o);
 *	buf_init(&out, 0);
 *	report_render_html(&rows, &out, &o);		// or _text/_csv/_json
 *	... use out.data / out.len ...
 *	buf_free(&out);
 *	report_rows_free(&rows);
 *
 * Times are rendered in the process's local zone, which cli_env_open() and
 * the daemon set to the office zone.  Every string that comes from a
 * message (sender, subject, rationale, assignee) is treated as hostile:
 * control characters never reach a terminal, CSV cells that a spreadsheet
 * would run as a formula are defused, HTML is escaped.
 */
#ifndef INTAKE_REPORT_H
#define INTAKE_REPORT_H

#include <stddef.h>
#include <time.h>

#include "calendar.h"
#include "store.h"
#include "util.h"

/* Which open tickets a list holds. */
enum report_scope {
	/* "Unacknowledged" below: not acknowledged, or a contact message
	 * came after the acknowledgement and is not answered yet. */
	/* Unacknowledged, with response_due or breach_at before the end of
	 * the next business day (this covers everything overdue), plus open
	 * tickets that have no deadline at all (they need a human). */
	REPORT_DEFAULT,
	/* Unacknowledged, with response_due or breach_at <= now. */
	REPORT_OVERDUE,
	/* Unacknowledged, with response_due or breach_at < due_before. */
	REPORT_DUE_BEFORE,
	/* Every open ticket, acknowledged ones included. */
	REPORT_ALL_OPEN,
};

struct report_filter {
	enum report_scope scope;
	time_t		 now;		/* the list's "now" */
	time_t		 due_before;	/* REPORT_DUE_BEFORE only */
	const char	*type;		/* call type name, or NULL for any */
	int		 urgent_only;	/* urgency = 'urgent' */
	const char	*assignee;	/* exact match, or NULL for any */
	int		 include_automated;	/* automated tickets too */
	/* Bound on rows returned (0 = no bound); remind may use it. */
	size_t		 limit;
};

/* The heading a row is listed under, in list order. */
enum report_group {
	RG_BREACHED,		/* breach_at <= now */
	RG_DUE_TODAY,		/* response_due (or breach_at) passed or before
				   the end of today (office local date) */
	RG_DUE_NEXT,		/* before the end of the next business day */
	RG_LATER,		/* after that (--due-before, --all-open) */
	RG_NO_DEADLINE,		/* open, no deadline (unclassified, no SLA) */
	RG_ACKNOWLEDGED,	/* first response given; --all-open only */
	RG__COUNT
};

/* One ticket of the list.  Strings are owned by the row (report_rows_free);
 * NULL when the column is NULL.  Instants are 0 when absent. */
struct report_row {
	long long	 id;
	char		*type;
	char		*urgency;
	int		 minor, danger, needs_interpreter, needs_human;
	int		 automated;
	time_t		 received_at;
	time_t		 response_due;
	time_t		 breach_at;
	time_t		 acknowledged_at;
	char		*assignee;
	char		*sender;
	char		*subject;
	char		*rationale;	/* first words of the rationale, joined
					   with "; ", at most REPORT_RATIONALE_MAX
					   bytes (UTF-8 safe) */
	enum report_group group;
	int		 breached;	/* breach_at <= now */
	int		 overdue;	/* response_due <= now */
	/* Every contact message answered: acknowledged and nothing new
	 * since (doc/sla.md, "Every contact message has its own clock"). */
	int		 answered;
	/* The contact wrote again after a response (an acknowledgement or a
	 * close): the received time of the earliest unanswered message. */
	time_t		 wrote_again;
};

#define REPORT_RATIONALE_MAX	160

struct report_rows {
	struct report_row *v;
	size_t		 n;
	time_t		 now;		/* the filter's now, for "time left" */
};

/* Rendering choices. */
struct report_opts {
	int		 color;		/* text: ANSI colours (caller decides:
					   isatty(1) && NO_COLOR unset) */
	int		 width;		/* text: columns, default 100 */
	const char	*title;		/* text/HTML heading; NULL = default */
	int		 intake_tags;	/* ids as "[intake #N]" (mailed
					   reports: the subject tag staff
					   know), else "#N" */
};

/* The default list at `now`; everything else zero. */
void	 report_filter_init(struct report_filter *, time_t now);
void	 report_opts_init(struct report_opts *);

/*
 * Run the query.  Rows come in list order: breached first, then by
 * breach_at, then response_due, then id (tickets without deadlines last,
 * acknowledged ones after them).  The calendar gives the end of the next
 * business day.  STORE_OK and *out filled (caller frees with
 * report_rows_free), or a STORE_* error code.
 */
int	 report_query(struct store *, const struct calendar *,
	    const struct report_filter *, struct report_rows *out);
void	 report_rows_free(struct report_rows *);
/* Frees the strings one row owns (not the row itself): for a caller that
 * drops a row it took out of a list. */
void	 report_row_free(struct report_row *);

/*
 * Renderers: append to out (which must be initialised; unbounded or large
 * enough).  0, or -1 when out's bound was hit.
 *
 * text: one block per group under its heading (Breached, Due today, Due next
 *	business day, Later, No deadline, Acknowledged); each ticket is two to
 *	four lines, none wider than opts->width display columns.
 * csv:	 RFC 4180: header row, CRLF line ends, fields quoted when they hold a
 *	comma, quote, CR or LF, quotes doubled; UTF-8 without BOM.  Columns:
 *	id,group,type,urgency,flags,received,response_due,breach_at,time_left,
 *	assignee,sender,subject,rationale.  Times are office-local
 *	"YYYY-MM-DD HH:MM".  Message-derived cells starting with = + - @ TAB
 *	or CR get a leading apostrophe (no formula runs in a spreadsheet).
 * json: one array of objects (keys in doc/interfaces.md), ISO 8601 instants
 *	with the office offset, one object per row, compact, newline at end.
 * html: one whole page: inline CSS, no scripts, no remote resources, every
 *	string escaped; readable in a mail client.
 */
int	 report_render_text(const struct report_rows *, struct buf *out,
	    const struct report_opts *);
int	 report_render_csv(const struct report_rows *, struct buf *out,
	    const struct report_opts *);
int	 report_render_json(const struct report_rows *, struct buf *out,
	    const struct report_opts *);
int	 report_render_html(const struct report_rows *, struct buf *out,
	    const struct report_opts *);

/* Pieces of a row (report_time_left: report_p.h). */

/* The heading of a group: "Breached", "Due today", ... */
const char *report_group_title(enum report_group);
/* Flags of a row, space-separated: "MINOR DANGER INTERPRETER HUMAN" or "". */
void	 report_flags(const struct report_row *, char *out, size_t outlen);

#endif
