/* SPDX-License-Identifier: MIT */
/*
 * sla.h: the deadline rules of doc/sla.md (the contract), over a calendar.
 * Pure functions.
 */
#ifndef INTAKE_SLA_H
#define INTAKE_SLA_H

#include <time.h>

#include "calendar.h"
#include "calltype.h"
#include "config.h"

struct deadlines {
	enum urgency	urgency;	/* effective, after the contract's rule */
	int		in_business_hours;
	time_t		response_due;	/* 0 for automated/unclassified */
	time_t		breach_at;
};

/* 0, or -1 when the rules cannot be met (e.g. no business day at all). */
int	sla_compute(const struct calendar *, const struct config *,
	    enum call_type, enum urgency, time_t received, struct deadlines *out);

#endif
