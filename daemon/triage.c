/* SPDX-License-Identifier: MIT */
/*
 * triage.c: a parsed message -> call type, urgency, flags, language and a
 * rationale, driven by the lexicon (conf/triage.conf, see
 * doc/interfaces.md "intake classify and the triage lexicon").  This file
 * is triage_classify() and the decision; the rest of the triage_* family
 * (daemon/triage_p.h) does the steps below: triage_norm.c, triage_lexicon.c
 * with triage_phrase.c and triage_regex.c, triage_lang.c, triage_match.c,
 * and triage_model.c the learned model.
 *
 * Text is first normalised (lower case, Latin accents stripped, Cyrillic
 * lower-cased, typographic quotes and dashes made ASCII, white space
 * collapsed, quoted reply lines dropped) so that lexicon phrases are written
 * once in folded form.  Phrases are translated to PCRE2 patterns (UTF, UCP,
 * caseless, no JIT: systemd's MemoryDenyWriteExecute forbids it) with match
 * and depth limits.  Each phrase also yields a short literal key; a bitmap
 * of the token prefixes of the message lets most phrases be skipped without
 * running the regex at all, which keeps classification fast.
 *
 * Rules feed signals (the six human types plus cues such as "indicator",
 * "self", "observer", "danger"); triage_decide() combines them with the
 * hotline's bias: between crisis and anything else, crisis; between urgent
 * and routine, urgent.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pcre2.h>

#include "triage.h"
#include "triage_p.h"
#include "util.h"

/* Signals' names (triage_p.h), in enum sig's order. */
const char *const sig_names[SIG__COUNT] = {
	"crisis", "tip", "tta", "referral", "info", "related", "indicator",
	"self", "behalf", "observer", "minor", "danger", "safe", "urgent",
	"not-urgent", "automated", "bulk", "age", "mask",
};

/* ---- decision ----------------------------------------------------------- */

static void
rationale_add(struct triage_result *res, char *s)
{
	if (res->nrationale >= RATIONALE_MAX) {
		free(s);
		return;
	}
	res->rationale = xreallocarray(res->rationale, res->nrationale + 1,
	    sizeof(char *));
	res->rationale[res->nrationale++] = s;
}

static char *
quote(const char *s, size_t len)
{
	char *q, *t;
	size_t i;

	if (len > RATIONALE_QUOTE) {
		len = RATIONALE_QUOTE;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	q = xstrndup(s, len);
	for (i = 0; q[i] != '\0'; i++)
		if (q[i] == '"')
			q[i] = '\'';
	t = utf8_sanitize(q, strlen(q));
	free(q);
	return t;
}

static const char *
header_get(const struct message *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nheaders; i++)
		if (m->headers[i].name != NULL &&
		    strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value ? m->headers[i].value : "";
	return NULL;
}

/* 2: machine-made for sure (RFC 3834, reports), 1: list or bulk mail,
 * 0: nothing.  *why names the header. */
static int
automated_headers(const struct message *m, char *why, size_t whylen)
{
	const char *v;

	if ((v = header_get(m, "Auto-Submitted")) != NULL &&
	    strncasecmp(v, "no", 2) != 0) {
		snprintf(why, whylen, "header Auto-Submitted: %.40s", v);
		return 2;
	}
	if (m->content_type != NULL &&
	    strcasecmp(m->content_type, "multipart/report") == 0) {
		snprintf(why, whylen, "multipart/report%s%.40s",
		    m->report_type ? "; report-type=" : "",
		    m->report_type ? m->report_type : "");
		return 2;
	}
	if (m->report_type != NULL && (strcasecmp(m->report_type,
	    "delivery-status") == 0 || strcasecmp(m->report_type,
	    "disposition-notification") == 0)) {
		snprintf(why, whylen, "report-type=%.40s", m->report_type);
		return 2;
	}
	if (header_get(m, "X-Autoreply") != NULL ||
	    header_get(m, "X-Autorespond") != NULL ||
	    header_get(m, "X-Autoresponder") != NULL) {
		snprintf(why, whylen, "header X-Autoreply");
		return 2;
	}
	if (m->from_addr != NULL && (strncasecmp(m->from_addr,
	    "mailer-daemon@", 14) == 0 || strncasecmp(m->from_addr,
	    "postmaster@", 11) == 0)) {
		snprintf(why, whylen, "from %.40s", m->from_addr);
		return 2;
	}
	if ((v = header_get(m, "Precedence")) != NULL &&
	    (strcasecmp(v, "bulk") == 0 || strcasecmp(v, "list") == 0 ||
	    strcasecmp(v, "junk") == 0)) {
		snprintf(why, whylen, "header Precedence: %s", v);
		return 1;
	}
	if (header_get(m, "List-Id") != NULL) {
		snprintf(why, whylen, "header List-Id");
		return 1;
	}
	if (header_get(m, "List-Unsubscribe") != NULL) {
		snprintf(why, whylen, "header List-Unsubscribe");
		return 1;
	}
	return 0;
}

static void
explain_hits(const struct scan *sc, struct triage_result *res, int route)
{
	size_t i;

	for (i = 0; i < sc->lex->nrules; i++) {
		const struct rule *r = &sc->lex->rules[i];
		const struct hit *h = &sc->hits[i];
		const char *name = sig_names[r->sig];
		char *q;

		if (h->score == 0 || r->sig == SIG_AGE)
			continue;
		if (r->sig == SIG_INDICATOR && route >= 0)
			name = call_type_name((enum call_type)route);
		q = quote((h->in_body ? sc->body : sc->subj) + h->off, h->len);
		rationale_add(res, xasprintf("%s: \"%s\" (%s)%s", name, q,
		    r->label, h->in_body ? "" : " [subject]"));
		free(q);
	}
}

/* Urgency from the type and flags, before the interpreter rule. */
static enum urgency
rules_urgency(const struct triage_result *res, int urgent_cues)
{
	switch (res->type) {
	case CT_CRISIS:
		return URG_URGENT;
	case CT_TIP:
		return res->danger || res->minor || urgent_cues >= 4 ?
		    URG_URGENT : URG_ROUTINE;
	case CT_REFERRAL:
		return urgent_cues >= 4 || res->danger ? URG_URGENT :
		    URG_ROUTINE;
	case CT_TTA:
		return urgent_cues >= 6 ? URG_URGENT : URG_ROUTINE;
	default:
		return URG_ROUTINE;
	}
}

static void
decide(struct scan *sc, const struct message *m, struct triage_result *res)
{
	int *s = sc->sig, voice, best, t, hdr, urgent_cues, human, route;
	const struct lang *lg = sc->li->best >= 0 ?
	    &sc->lex->langs[sc->li->best] : NULL;
	char why[128];

	/* Ages: a stated age under 18 is a minor; a stated adult age beats
	 * looks ("young girl") unless several strong cues say otherwise. */
	if (sc->min_age >= 0 && sc->min_age < 18) {
		s[SIG_MINOR] += 6;
		rationale_add(res, xasprintf("minor: stated age %d", sc->min_age));
	} else if (sc->max_age >= 18 && s[SIG_MINOR] < 16) {
		s[SIG_MINOR] = 0;
		rationale_add(res, xasprintf("adult: stated age %d", sc->max_age));
	}

	/* Automated mail.  Machine headers (RFC 3834, reports) always win:
	 * no human sends those.  List and bulk headers, or automated wording
	 * alone, lose to a human voice asking for help: first-person or
	 * on-behalf distress with trafficking or danger cues that outweigh the
	 * automated wording. */
	hdr = automated_headers(m, why, sizeof(why));
	if (hdr == 0 && s[SIG_BULK] >= 8) {
		hdr = 1;
		snprintf(why, sizeof(why), "a bulk-mail footer");
	}
	voice = s[SIG_SELF] + s[SIG_BEHALF];
	human = voice > 0 ? voice + s[SIG_INDICATOR] + s[SIG_DANGER] +
	    s[SIG_CRISIS] : 0;
	if (hdr == 2 || (hdr == 1 && human < 12 + s[SIG_AUTOMATED]) ||
	    (hdr == 0 && s[SIG_AUTOMATED] >= 8 &&
	    s[SIG_AUTOMATED] >= 2 * (human + s[SIG_TIP] + s[SIG_REFERRAL] +
	    s[SIG_TTA] + s[SIG_INFO] + s[SIG_RELATED] + s[SIG_CRISIS] +
	    s[SIG_OBSERVER] + s[SIG_INDICATOR] / 2))) {
		res->type = CT_AUTOMATED;
		res->automated = 1;
		res->urgency = URG_NONE;
		if (hdr)
			rationale_add(res, xasprintf("automated: %s", why));
		explain_hits(sc, res, -1);
		return;
	}
	if (hdr)
		rationale_add(res, xasprintf("not automated despite %s: a person "
		    "asking for help", why));

	/* Trafficking indicators: crisis when the writer is, or writes for,
	 * the person concerned; a tip from an observer.  Danger likewise. */
	route = CT_TIP;
	if (voice > 0 && voice >= s[SIG_OBSERVER])
		route = CT_CRISIS;
	if (route == CT_CRISIS && s[SIG_SAFE] > 0 && s[SIG_DANGER] == 0) {
		/* out and safe now: the indicators are history */
		s[SIG_CRISIS] += s[SIG_INDICATOR] / 3;
	} else if (voice == 0 && s[SIG_OBSERVER] == 0) {
		/* nobody seen and nobody speaking for anyone: a topic */
		s[CT_TIP] += s[SIG_INDICATOR] / 2;
	} else
		s[route] += s[SIG_INDICATOR];
	/* Danger makes trafficking more pressing; violence alone (domestic
	 * violence, assault) is out of scope. */
	if (s[SIG_DANGER] > s[SIG_SAFE] && s[SIG_INDICATOR] >= 6)
		s[route] += s[SIG_DANGER];
	/* An observer reporting danger to someone or a child at risk, with
	 * no trafficking words: still a tip, the definition's "suspicious
	 * behaviour". */
	if (s[SIG_INDICATOR] < 6 && s[SIG_OBSERVER] >= voice) {
		if (s[SIG_DANGER] > s[SIG_SAFE])
			s[CT_TIP] += s[SIG_DANGER];
		if (s[SIG_MINOR] >= 6)
			s[CT_TIP] += 4;
	}
	/* A specific child in an exploitative situation, told by someone
	 * responsible for them, is crisis even without an emergency. */
	if (s[SIG_MINOR] >= 6 && s[SIG_BEHALF] > 0 && s[SIG_INDICATOR] > 0)
		s[SIG_CRISIS] += 4;

	best = CT_RELATED;
	for (t = CT_CRISIS; t <= CT_RELATED; t++)
		if (s[t] > s[best])
			best = t;
	if (s[best] == 0 && voice > 0 && (s[SIG_URGENT] > 0 ||
	    s[SIG_DANGER] > s[SIG_SAFE])) {
		/* nothing typed, but a person in trouble now */
		res->type = CT_CRISIS;
		rationale_add(res, xstrdup("crisis: a person asking for help "
		    "now, nothing else recognised"));
	} else if (s[best] == 0) {
		res->type = CT_RELATED;
		rationale_add(res, xstrdup("related: no rule fired"));
	} else
		res->type = (enum call_type)best;
	/* Bias: a missed crisis is far worse than a false alarm. */
	if (res->type != CT_CRISIS && s[CT_CRISIS] >= 8 &&
	    s[CT_CRISIS] + 3 >= s[best]) {
		rationale_add(res, xasprintf("crisis: close to %s (%d vs %d), "
		    "crisis preferred", call_type_name(res->type), s[CT_CRISIS],
		    s[best]));
		res->type = CT_CRISIS;
	}

	/* Referrals are for trafficking survivors: an out-of-scope topic
	 * (domestic violence, assault, immigration) with no trafficking cue is
	 * related, even when the writer asks for a service. */
	if (res->type == CT_REFERRAL && s[SIG_INDICATOR] == 0 &&
	    s[SIG_SAFE] == 0 && s[CT_RELATED] >= 8) {
		rationale_add(res, xstrdup("related: a service outside "
		    "trafficking"));
		res->type = CT_RELATED;
	}
	/* a tie goes to danger: "I got away last month" does not outweigh
	 * "he is coming to get me tonight" */
	res->danger = s[SIG_DANGER] > 0 && s[SIG_DANGER] >= s[SIG_SAFE];
	res->minor = s[SIG_MINOR] >= 6 && res->type != CT_INFO &&
	    res->type != CT_TTA;

	urgent_cues = s[SIG_NOTURGENT] > 0 ? 0 : s[SIG_URGENT];
	/* what the rules say before the forcing below, for the model of a
	 * language it has enough training text in (triage_model.c) */
	sc->plain_type = (int)res->type;
	sc->plain_urgent = rules_urgency(res, urgent_cues) == URG_URGENT;

	/* A language no full lexicon reads: a person must read it soon. */
	if (lg == NULL || !lg->full) {
		res->needs_interpreter = 1;
		/* "clearly": a strong score, and a tip needs an observer
		 * (control words alone may be the writer's own story) */
		if (lg == NULL || s[best] < 8 || s[CT_CRISIS] >= s[best] ||
		    (res->type == CT_TIP && s[SIG_OBSERVER] == 0)) {
			if (res->type != CT_CRISIS)
				rationale_add(res, xasprintf("crisis: language "
				    "'%s' not read well, no clear other type",
				    sc->li->code));
			res->type = CT_CRISIS;
		}
	}

	res->urgency = rules_urgency(res, urgent_cues);
	if (res->needs_interpreter)
		res->urgency = URG_URGENT;
	res->urgency = urgency_effective(res->type, res->urgency);
	explain_hits(sc, res, route);
}

/* What the rules saw, for the model (triage_p.h). */
static void
evidence(const struct scan *sc, const struct triage_result *res,
    const struct message *m, const char **hits, struct triage_evidence *ev)
{
	const int *s = sc->sig;
	char why[128];
	size_t i;

	memset(ev, 0, sizeof(*ev));
	ev->subj = sc->subj;
	ev->body = sc->body;
	ev->sig = sc->sig;
	ev->sig_names = sig_names;
	ev->nsig = SIG_AGE;		/* age and mask are not evidence */
	for (i = 0; i < sc->lex->nrules; i++)
		if (sc->hits[i].score != 0 && sc->lex->rules[i].sig < SIG_AGE)
			hits[ev->nhits++] = sc->lex->rules[i].label;
	ev->hits = hits;
	ev->hdr = automated_headers(m, why, sizeof(why));
	ev->lang_full = sc->li->best >= 0 && sc->lex->langs[sc->li->best].full;
	/* The rules' safety override: a person in danger or confined who
	 * speaks for themselves, or for a child in their care. */
	ev->decisive = res->type == CT_CRISIS && (s[SIG_SELF] > 0 ||
	    (s[SIG_BEHALF] > 0 && s[SIG_MINOR] >= 6)) && (res->danger ||
	    s[SIG_INDICATOR] >= 6);
	ev->plain_type = sc->plain_type;
	ev->plain_urgent = sc->plain_urgent;
	ev->safety = ((s[SIG_SELF] > 0 || (s[SIG_BEHALF] > 0 &&
	    s[SIG_MINOR] >= 6)) && (res->danger || s[SIG_INDICATOR] >= 6)) ||
	    res->minor || res->danger;
	ev->rules = res;
}

static int
classify(const struct lexicon *lex, const struct message *m,
    struct triage_result *res,
    void (*cb)(const struct triage_evidence *, void *), void *arg)
{
	struct scan sc;
	struct buf body, subj;
	const char *text = m->text ? m->text : "";
	size_t tlen = m->text ? m->text_len : 0;

	memset(res, 0, sizeof(*res));
	res->type = CT_UNCLASSIFIED;
	snprintf(res->lang, sizeof(res->lang), "und");
	if (lex == NULL)
		return -1;
	memset(&sc, 0, sizeof(sc));
	sc.lex = lex;
	sc.min_age = -1;
	sc.max_age = -1;
	sc.md = pcre2_match_data_create(4, NULL);
	sc.md2 = pcre2_match_data_create(1, NULL);
	if (sc.md == NULL || sc.md2 == NULL) {
		pcre2_match_data_free(sc.md);
		pcre2_match_data_free(sc.md2);
		return -1;
	}
	sc.hits = xcalloc(lex->nrules + 1, sizeof(*sc.hits));
	buf_init(&body, 0);
	buf_init(&subj, 0);
	normalise(&body, text, tlen, lex->max_text, 1);
	normalise(&subj, m->subject ? m->subject : "",
	    m->subject ? strlen(m->subject) : 0, 4096, 0);

	{
		struct langinfo li;
		struct buf raw, both;
		size_t i;

		/* language from the subject and the start of the body */
		buf_init(&raw, 0);
		buf_init(&both, 0);
		buf_addstr(&raw, m->subject ? m->subject : "");
		buf_addc(&raw, '\n');
		buf_add(&raw, text, tlen > 16384 ? 16384 : tlen);
		buf_addstr(&both, subj.data);
		buf_addc(&both, ' ');
		buf_add(&both, body.data, body.len > 16384 ? 16384 : body.len);
		detect_lang(lex, raw.data, raw.len, both.data, both.len, &li);
		buf_free(&raw);
		buf_free(&both);
		sc.li = &li;
		sc.body = body.data;
		sc.subj = subj.data;
		scan_text(&sc, subj.data, subj.len, 0);
		scan_text(&sc, body.data, body.len, 1);
		for (i = 0; i < lex->nrules; i++)
			sc.sig[lex->rules[i].sig] += sc.hits[i].score;
		snprintf(res->lang, sizeof(res->lang), "%s", li.code);
		decide(&sc, m, res);
		if (cb != NULL || lex->model != NULL) {
			struct triage_evidence ev;
			const char **hits = xcalloc(lex->nrules + 1,
			    sizeof(*hits));

			evidence(&sc, res, m, hits, &ev);
			if (cb != NULL)
				cb(&ev, arg);
			else
				triage_model_apply(lex->model, &ev, res);
			free(hits);
		}
		sc.li = NULL;
	}
	buf_free(&body);
	buf_free(&subj);
	free(sc.hits);
	pcre2_match_data_free(sc.md);
	pcre2_match_data_free(sc.md2);
	free(sc.mark);
	return 0;
}

int
triage_classify(const struct lexicon *lex, const struct message *m,
    struct triage_result *res)
{
	return classify(lex, m, res, NULL, NULL);
}

int
triage_evidence_of(const struct lexicon *lex, const struct message *m,
    void (*cb)(const struct triage_evidence *, void *), void *arg)
{
	struct triage_result res;
	int rc;

	rc = classify(lex, m, &res, cb, arg);
	triage_result_free(&res);
	return rc;
}

void
triage_result_free(struct triage_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->nrationale; i++)
		free(res->rationale[i]);
	free(res->rationale);
	res->rationale = NULL;
	res->nrationale = 0;
}
