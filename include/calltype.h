/* SPDX-License-Identifier: MIT */
/* calltype.h: the hotline's call types and urgencies, and their names. */
#ifndef INTAKE_CALLTYPE_H
#define INTAKE_CALLTYPE_H

enum call_type {
	CT_CRISIS,
	CT_TIP,
	CT_TTA,
	CT_REFERRAL,
	CT_INFO,
	CT_RELATED,
	CT_AUTOMATED,
	CT_UNCLASSIFIED,
	CT__COUNT
};

enum urgency {
	URG_NONE,	/* automated mail: no deadlines */
	URG_ROUTINE,
	URG_URGENT,
};

/* "crisis", "tip", "tta", "referral", "info", "related", "automated",
 * "unclassified". */
const char	*call_type_name(enum call_type);
/* -1 when unknown. */
int		 call_type_parse(const char *, enum call_type *);
const char	*urgency_name(enum urgency);	/* "none", "routine", "urgent" */
int		 urgency_parse(const char *, enum urgency *);
/* The contract: crisis is always urgent; info and related always routine;
 * automated and unclassified have none. */
enum urgency	 urgency_effective(enum call_type, enum urgency asked);

#endif
