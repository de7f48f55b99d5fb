/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "calltype.h"

static const char *const type_names[CT__COUNT] = {
	[CT_CRISIS] = "crisis",
	[CT_TIP] = "tip",
	[CT_TTA] = "tta",
	[CT_REFERRAL] = "referral",
	[CT_INFO] = "info",
	[CT_RELATED] = "related",
	[CT_AUTOMATED] = "automated",
	[CT_UNCLASSIFIED] = "unclassified",
};

const char *
call_type_name(enum call_type t)
{
	if ((unsigned)t >= CT__COUNT)
		return "unclassified";
	return type_names[t];
}

int
call_type_parse(const char *s, enum call_type *out)
{
	int i;

	for (i = 0; i < CT__COUNT; i++) {
		if (strcmp(s, type_names[i]) == 0) {
			*out = (enum call_type)i;
			return 0;
		}
	}
	return -1;
}

const char *
urgency_name(enum urgency u)
{
	switch (u) {
	case URG_URGENT:
		return "urgent";
	case URG_ROUTINE:
		return "routine";
	default:
		return "none";
	}
}

int
urgency_parse(const char *s, enum urgency *out)
{
	if (strcmp(s, "urgent") == 0)
		*out = URG_URGENT;
	else if (strcmp(s, "routine") == 0)
		*out = URG_ROUTINE;
	else if (strcmp(s, "none") == 0)
		*out = URG_NONE;
	else
		return -1;
	return 0;
}

enum urgency
urgency_effective(enum call_type t, enum urgency asked)
{
	switch (t) {
	case CT_CRISIS:
		return URG_URGENT;
	case CT_INFO:
	case CT_RELATED:
		return URG_ROUTINE;
	case CT_AUTOMATED:
	case CT_UNCLASSIFIED:
		return URG_NONE;
	default:
		return asked == URG_URGENT ? URG_URGENT : URG_ROUTINE;
	}
}
