/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the triage unit tests (test_triage.c, test_triage_lexicon.c):
 * the built-in lexicon as a fixture, a message built from a subject, a
 * text and up to two headers, and the checks on a result.  Static: each
 * test program includes it once.  Needs <check.h>, <string.h>, "message.h",
 * "triage.h" and "util.h" first.
 */
#ifndef INTAKE_TRIAGELIB_H
#define INTAKE_TRIAGELIB_H

static struct lexicon *lex;

static void
setup(void)
{
	lex = lexicon_builtin();
	ck_assert_ptr_nonnull(lex);
}

static void
teardown(void)
{
	lexicon_free(lex);
	lex = NULL;
}

/* A message with subject, body and up to two headers ("Name", "value"). */
static void
classify_h(const char *subject, const char *text, const char *h1,
    const char *v1, const char *h2, const char *v2, const char *ctype,
    struct triage_result *res)
{
	struct message m;
	struct header h[2];

	memset(&m, 0, sizeof(m));
	m.subject = (char *)subject;
	m.text = (char *)text;
	m.text_len = strlen(text);
	m.from_addr = (char *)"someone@example.net";
	m.content_type = (char *)(ctype ? ctype : "text/plain");
	h[0].name = (char *)h1;
	h[0].value = (char *)v1;
	h[1].name = (char *)h2;
	h[1].value = (char *)v2;
	m.headers = h;
	m.nheaders = h1 == NULL ? 0 : h2 == NULL ? 1 : 2;
	ck_assert_int_eq(triage_classify(lex, &m, res), 0);
}

static void
classify(const char *subject, const char *text, struct triage_result *res)
{
	classify_h(subject, text, NULL, NULL, NULL, NULL, NULL, res);
}

static int
has_rationale(const struct triage_result *res, const char *needle)
{
	size_t i;

	for (i = 0; i < res->nrationale; i++)
		if (strstr(res->rationale[i], needle) != NULL)
			return 1;
	return 0;
}

#define EXPECT(res, t, u) do {						\
	ck_assert_msg((res).type == (t), "type %s, wanted %s",		\
	    call_type_name((res).type), call_type_name(t));		\
	ck_assert_msg((res).urgency == (u), "urgency %s, wanted %s",	\
	    urgency_name((res).urgency), urgency_name(u));		\
} while (0)

#endif
