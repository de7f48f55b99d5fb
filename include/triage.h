/* SPDX-License-Identifier: MIT */
/*
 * triage.h: a parsed message -> {type, urgency, flags, language, rationale}.
 * The rules live in a lexicon file (conf/triage.conf, libconfig) that staff
 * edit without recompiling; a copy of conf/triage.conf is built in for when
 * no file is configured.  triage_classify() is pure (no I/O, no globals;
 * one lexicon may serve several threads).  Format and rules:
 * doc/interfaces.md, "intake classify and the triage lexicon".
 */
#ifndef INTAKE_TRIAGE_H
#define INTAKE_TRIAGE_H

#include <stddef.h>
#include <stdio.h>

#include "calltype.h"
#include "message.h"

struct lexicon;

struct triage_result {
	enum call_type	 type;
	enum urgency	 urgency;
	int		 minor;
	int		 danger;
	int		 automated;
	int		 needs_interpreter;
	char		 lang[4];	/* ISO 639-1 or "und" */
	char		**rationale;	/* short strings, owned */
	size_t		 nrationale;
};

/* NULL with err "FILE:LINE: ..." on a bad file. */
struct lexicon	*lexicon_load(const char *path, char *err, size_t errlen);
struct lexicon	*lexicon_builtin(void);
void		 lexicon_free(struct lexicon *);

int	 triage_classify(const struct lexicon *, const struct message *,
	    struct triage_result *out);
void	 triage_result_free(struct triage_result *);

/*
 * The learned model (doc/interfaces.md, "the triage model"): a file
 * written by triage_train() (`intake triage train`), attached to a lexicon,
 * which then owns it; triage_classify() combines rules and model.  NULL
 * with err "FILE[:LINE]: ..." on a missing or bad file.
 * triage_model_builtin() is the copy of conf/triage.model built in (NULL
 * if the build carries none).
 */
struct triage_model;
struct triage_model *triage_model_load(const char *path, char *err,
	    size_t errlen);
struct triage_model *triage_model_from_text(const char *text,
	    const char *name, char *err, size_t errlen);
struct triage_model *triage_model_builtin(char *err, size_t errlen);
void	 triage_model_free(struct triage_model *);
void	 lexicon_set_model(struct lexicon *, struct triage_model *);
/* The config's triage.model (a path, "none", NULL for the built-in) onto
 * lex: -1 with err when it does not load, lex then has the rules alone. */
int	 triage_model_attach(struct lexicon *, const char *model, char *err,
	    size_t errlen);
/* Train from labeled sets (DIR/labels.tsv + DIR/FILE) with lex's rules as
 * features; the model file to out.  -1 with err. */
int	 triage_train(const struct lexicon *, char *const *dirs, size_t ndirs,
	    FILE *out, char *err, size_t errlen);

#endif
