/* SPDX-License-Identifier: MIT */
/*
 * sla.c: the deadline rules of doc/sla.md over a calendar.  Every branch
 * below is one numbered rule of the contract.
 */
#include "sla.h"

int
sla_compute(const struct calendar *cal, const struct config *cfg,
    enum call_type type, enum urgency asked, time_t received,
    struct deadlines *out)
{
	time_t due, breach;

	out->urgency = urgency_effective(type, asked);
	out->in_business_hours = calendar_in_business_hours(cal, received);
	out->response_due = 0;
	out->breach_at = 0;
	switch (out->urgency) {
	case URG_NONE:
		/* automated / unclassified: no deadlines */
		return 0;
	case URG_URGENT:
		/* Rule 1: elapsed time, the calendar is ignored. */
		out->response_due = received +
		    (time_t)cfg->urgent_response_minutes * 60;
		out->breach_at = received + (time_t)cfg->urgent_breach_minutes * 60;
		return 0;
	case URG_ROUTINE:
		break;
	}
	if (type == CT_TIP) {
		/* Rule 2: the first and second held meetings strictly after. */
		due = calendar_next_meeting(cal, cfg->tip_meetings,
		    cfg->ntip_meetings, received);
		if (due == (time_t)-1)
			return -1;
		breach = calendar_next_meeting(cal, cfg->tip_meetings,
		    cfg->ntip_meetings, due);
	} else if (out->in_business_hours) {
		/* Rule 3a: business minutes. */
		due = calendar_add_business_seconds(cal, received,
		    (long)cfg->in_hours_response_business_minutes * 60);
		breach = calendar_add_business_seconds(cal, received,
		    (long)cfg->in_hours_breach_business_minutes * 60);
	} else {
		/* Rule 3b: close of business days 2 and 3. */
		due = calendar_close_of_business_day(cal, received, 2);
		breach = calendar_close_of_business_day(cal, received, 3);
	}
	if (due == (time_t)-1 || breach == (time_t)-1)
		return -1;
	out->response_due = due;
	out->breach_at = breach;
	return 0;
}
