/* SPDX-License-Identifier: MIT */
/*
 * triage_p.h: private to the triage_* family (triage.c, the rules;
 * triage_model.c, the learned model).  What the rules hand the model: the
 * normalised text, the signal sums, the rules' own decision, and whether
 * the language is one the lexicon reads well.
 */
#ifndef INTAKE_TRIAGE_P_H
#define INTAKE_TRIAGE_P_H

#include <stddef.h>
#include <stdint.h>

#include "triage.h"

struct fvec;

struct triage_evidence {
	const char		*subj;		/* normalised */
	const char		*body;		/* normalised, masks applied */
	const int		*sig;		/* signal sums, nsig of them */
	const char *const	*sig_names;
	int			 nsig;
	const char *const	*hits;		/* labels of the rules that fired */
	size_t			 nhits;
	int			 hdr;		/* 2 machine headers, 1 list, 0 */
	int			 lang_full;	/* a language the lexicon reads */
	int			 decisive;	/* a rule safety override: crisis */
	const struct triage_result *rules;	/* the rules' decision */
};

/* The lexicon's model (NULL: rules only). */
const struct triage_model *lexicon_model(const struct lexicon *);

/* Rules + model: rewrites res (the rules' decision) in place. */
void	 triage_model_apply(const struct triage_model *,
	    const struct triage_evidence *, struct triage_result *res);

/*
 * The rules run over m, the evidence handed to cb (with the rules'
 * decision in ev->rules), no model applied.  For the trainer.
 */
int	 triage_evidence_of(const struct lexicon *, const struct message *,
	    void (*cb)(const struct triage_evidence *, void *), void *arg);

/* Test hook: the model file's bucket of a feature ('w' word, 'b' word
 * pair, 'c' character gram, 'h' header); the same on every machine. */
uint32_t triage_model_bucket(char kind, const char *, size_t);

#endif
