/* SPDX-License-Identifier: MIT */
/*
 * dedup.h: what makes two deliveries one message (doc/interfaces.md, "The
 * same message").  The normalised message is the raw bytes without a
 * leading mbox "From " line, without the trace header fields a transfer or
 * delivery agent prepends (Received, Return-Path, Delivered-To,
 * X-Original-To, Envelope-To, as long as they lead the header), with CRLF
 * as LF and without trailing line breaks.  Two copies with the same
 * Message-ID and the same normalised SHA-256 are one message.
 */
#ifndef INTAKE_DEDUP_H
#define INTAKE_DEDUP_H

#include <stddef.h>

#define DEDUP_RECIPIENT_MAX	300

struct dedup_info {
	char	norm_sha256[65];
	/* The first X-Original-To, else the first Delivered-To, of the
	 * leading trace fields: the hotline address this copy was for.
	 * Unfolded, trimmed, control characters dropped; "" when none. */
	char	recipient[DEDUP_RECIPIENT_MAX + 1];
};

void	 dedup_info(const char *raw, size_t len, struct dedup_info *out);

#endif
