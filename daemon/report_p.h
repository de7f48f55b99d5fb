/* SPDX-License-Identifier: MIT */
/*
 * report_p.h: private to report.c and its tests (test_report.c).
 */
#ifndef INTAKE_REPORT_P_H
#define INTAKE_REPORT_P_H

#include <stddef.h>
#include <time.h>

#include "report.h"

/* "overdue by 3h 20m" when response_due <= now, else "3h 20m left";
 * "breached, overdue by ..." is not used: the group says it.
 * "acknowledged" for acknowledged rows, "-" without a deadline. */
void	 report_time_left(const struct report_row *, time_t now, char *out,
	    size_t outlen);

#endif
