/* SPDX-License-Identifier: MIT */
/*
 * conftab.h: the one table of configuration keys (tmux's options-table.c).
 * Each key of intake.conf is one row: where it lives (section and name),
 * its type, where it goes (offsetof into struct config, struct
 * source_config, struct escalation_step or struct oncall_person), its
 * range or choices, its default and one line of documentation.  The table
 * drives config.c's unknown-key checks, range and enum checks and
 * defaults, the documentation test (tests/unit/test_confdoc.c) and
 * `intaked --dump-config`.  What a row cannot say (cross-key rules, file
 * checks, "move:FOLDER", times of day) stays in config.c's code.
 */
#ifndef INTAKE_CONFTAB_H
#define INTAKE_CONFTAB_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum conf_type {
	CT_INT,		/* int, min..max */
	CT_SIZE,	/* size_t, min..max */
	CT_BOOL,	/* int 0/1 */
	CT_STRING,	/* char * */
	CT_PATH,	/* char *, relative to the file's directory */
	CT_ENUM,	/* int, min + the index of the choice */
	CT_SECRET_FILE,	/* char *, a path; dumped as "<file>" */
	CT_SECRET_COMMAND,	/* char *, a command; dumped as "<command>" */
	CT_STRLIST,	/* char ** at off, size_t count at off_n */
	CT_SPECIAL,	/* read and dumped by code of its own */
};

/* Sections: "" (the top level), a group name ("limits"), "sources" (each
 * group of the list), "escalation" (each step), "oncall.people" (each
 * person), "business_hours", "listen" (its one group). */
#define CF_UNDER	0x01	/* documented in its parent's paragraph */

/* types: a mask of (1 << enum source_type); 0: every type */
#define ST(t)		(1u << (t))
#define ST_PUSH		(ST(SOURCE_TWILIO) | ST(SOURCE_WHATSAPP) | \
			 ST(SOURCE_WEBHOOK))

struct conf_key {
	const char	*section;
	const char	*name;
	enum conf_type	 type;
	size_t		 off;		/* offsetof(), or CONF_NOFF */
	size_t		 off_n;		/* CT_STRLIST: the count's offset */
	long long	 min, max;	/* CT_INT, CT_SIZE; CT_ENUM: min */
	const char	*choices;	/* CT_ENUM: "a|b|c" */
	const char	*def;		/* as written in the file; NULL: unset */
	unsigned	 types;		/* sources: ST() mask, 0: all */
	int		 flags;		/* CF_* */
	const char	*doc;
};
#define CONF_NOFF	((size_t)-1)

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

/* The row of section.name, or NULL. */
const struct conf_key *conf_key_find(const char *section, const char *name);
/* The name a key is documented under: "limits.max_headers", "host". */
char	*conf_key_docname(const struct conf_key *);
/* CT_ENUM: the index of value in choices, or -1; conf_enum_name() the
 * reverse (NULL when out of range). */
int	 conf_enum_index(const struct conf_key *, const char *value);
const char *conf_enum_name(const struct conf_key *, int index, size_t *len);
/* Is k a member of struct config (else of a source, step or person)? */
int	 conf_in_config(const struct conf_key *);
/* Apply the table's defaults of section to base (a struct of it); section
 * NULL: every row of struct config. */
void	 conf_defaults(const char *section, void *base);

/* The effective configuration in libconfig syntax, one "key = value;" a
 * line; secrets as "<file>" or "<command>".  Read back, it dumps the
 * same.  0, or -1 when f could not be written. */
int	 config_dump(const struct config *, FILE *f);
/* intaked --dump-config: load path (as the daemon does) and dump it to
 * stdout.  0, 78 (errors logged as FILE:LINE: ...) or 74. */
int	 config_dump_main(const char *path);

#endif
