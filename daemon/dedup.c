/* SPDX-License-Identifier: MIT */
/*
 * dedup.c: the normalised form of a message (dedup.h).  Only what an MTA
 * or LDA adds in front of a message is dropped: a sender's own header
 * fields below the first other field count, so two messages that differ
 * in anything the sender wrote stay two.  No database here: the SQLite
 * driver offers dedup_info() to SQL as intake_norm_sha256() and
 * intake_recipient() (store_sqlite.c); sql/pg/006 computes its own.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dedup.h"
#include "util.h"

static const char *const trace_fields[] = {
	"Received", "Return-Path", "Delivered-To", "X-Original-To",
	"Envelope-To",
};

/* The end of the line starting at p (after its LF), bounded by end. */
static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* Index in trace_fields of the field the line at p names, or -1. */
static int
trace_field(const char *p, const char *end)
{
	size_t i, n;
	const char *q;

	for (i = 0; i < NELEM(trace_fields); i++) {
		n = strlen(trace_fields[i]);
		if ((size_t)(end - p) <= n || strncasecmp(p, trace_fields[i], n))
			continue;
		for (q = p + n; q < end && (*q == ' ' || *q == '\t'); q++)
			;
		if (q < end && *q == ':')
			return (int)i;
	}
	return -1;
}

/* The field's value (from the colon to the end of its last continuation
 * line) into out, unfolded and trimmed, without control characters. */
static void
field_value(const char *p, const char *fend, char *out, size_t outsz)
{
	size_t n = 0;
	const char *c = memchr(p, ':', (size_t)(fend - p));

	for (c = c ? c + 1 : fend; c < fend && n + 1 < outsz; c++) {
		unsigned char ch = (unsigned char)*c;

		if (ch == '\r' || ch == '\n' || ch == '\t')
			ch = ' ';
		if (ch < 0x20 || ch == 0x7f)
			continue;
		if (ch == ' ' && (n == 0 || out[n - 1] == ' '))
			continue;
		out[n++] = (char)ch;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

void
dedup_info(const char *raw, size_t len, struct dedup_info *out)
{
	const char *p = raw, *end = raw + len, *fend;
	char orig[DEDUP_RECIPIENT_MAX + 1] = "", deliv[DEDUP_RECIPIENT_MAX + 1] = "";
	char *norm;
	size_t n = 0;
	int f;

	if (len >= 5 && memcmp(p, "From ", 5) == 0)
		p = line_end(p, end);
	while (p < end && (f = trace_field(p, end)) != -1) {
		fend = line_end(p, end);
		while (fend < end && (*fend == ' ' || *fend == '\t'))
			fend = line_end(fend, end);
		if (f == 3 && orig[0] == '\0')
			field_value(p, fend, orig, sizeof(orig));
		else if (f == 2 && deliv[0] == '\0')
			field_value(p, fend, deliv, sizeof(deliv));
		p = fend;
	}
	norm = xmalloc(end - p + 1);
	for (; p < end; p++) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		norm[n++] = *p;
	}
	while (n > 0 && (norm[n - 1] == '\n' || norm[n - 1] == '\r'))
		n--;
	sha256_hex(norm, n, out->norm_sha256);
	free(norm);
	memcpy(out->recipient, orig[0] ? orig : deliv, sizeof(out->recipient));
}
