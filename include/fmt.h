/* SPDX-License-Identifier: MIT */
/*
 * fmt.h: output helpers shared by every program's renderers (the follow-up
 * report, search, changes, status, workflow, the outbox): UTF-8 display
 * width and clipping, terminal-safe text, CSV fields, HTML escapes, JSON
 * strings and instants, durations and dates.
 *
 * Every string that comes from a message is hostile: C0/C1 controls, DEL
 * and the bidirectional overrides and isolates never reach a terminal, a
 * page, a spreadsheet or a JSON reader as themselves (one rule, cp_unsafe()
 * in fmt.c).
 */
#ifndef INTAKE_FMT_H
#define INTAKE_FMT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "util.h"

/* "3h 20m", "2d 4h", "45m", "0m" (seconds rounded down to minutes; a
 * negative value is taken as its absolute value). */
void	 fmt_duration(long long secs, char *out, size_t outlen);
/* Append s HTML-escaped (& < > " ' and control characters). */
int	 fmt_html_escape(struct buf *, const char *s);
/* Append one table cell: <td style="BASE;STYLE">TEXT</td>, text escaped
 * (NULL as empty), style optional.  label, when not NULL, becomes a data-l
 * attribute (the column's name on a narrow screen; ours, never
 * message-derived). */
int	 fmt_html_cell(struct buf *, const char *text, const char *base,
	    const char *style, const char *label);
/* The cell style of the search and changes pages. */
#define FMT_CSS_CELL	"border-bottom:1px solid #ddd;padding:4px 6px;" \
			"vertical-align:top;text-align:left;" \
			"overflow-wrap:anywhere;word-break:break-word"
/* Append s as one CSV field (quoted as needed); `defuse` adds the
 * apostrophe before a formula-like start.  Controls but TAB, CR and LF,
 * and bidirectional overrides and isolates, become U+FFFD. */
int	 fmt_csv_field(struct buf *, const char *s, int defuse);
/* Copy of s safe for a terminal: C0/C1 controls (but \n and \t when
 * keep_newlines) and invalid UTF-8 become U+FFFD.  Caller frees. */
char	*fmt_terminal_safe(const char *s, int keep_newlines);
/* Display columns of UTF-8 s (East Asian wide = 2, combining = 0). */
size_t	 fmt_display_width(const char *s);
/* Append s cut to at most cols display columns ("…" when cut). */
int	 fmt_add_clipped(struct buf *, const char *s, size_t cols);
/* json_dumps() for every JSON the programs print or post: DEL, C1 controls
 * (U+0080-U+009F) and the bidirectional overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069) as \u escapes (Jansson escapes C0).
 * Caller frees; NULL on failure. */
char	*fmt_json_dumps(const json_t *, size_t flags);
/* JSON string of s, or null when s is NULL (or not valid UTF-8).  New
 * reference for the caller. */
json_t	*fmt_json_str(const char *s);
/* JSON string of t as local ISO 8601, or null when t is 0.  New reference
 * for the caller. */
json_t	*fmt_json_time(time_t t);
/* "YYYY-MM-DD" (office-local midnight) or a full ISO 8601 instant:
 * 0 with *out, or -1. */
int	 fmt_parse_date(const char *, time_t *out);

#endif
