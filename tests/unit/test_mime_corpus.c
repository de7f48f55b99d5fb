/* SPDX-License-Identifier: MIT */
/*
 * Every message of tests/fixtures/mime/INDEX.tsv (other projects' test
 * mail, see SOURCES.md there) parses without crash, with valid UTF-8 out,
 * in its own forked test; in LF and in CRLF form.  Where a source ships
 * expectation files (stalwart mail-parser JSON, libetpan JSON, mime4j
 * decoded XML and bodies, Thunderbird .out bodies) the decoded subject,
 * From and text are compared and the agreement rate printed.  The floors
 * below sit a little under what was measured, so a regression fails.
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "message.h"
#include "util.h"

#define FLOOR_SUBJECT	95.0
#define FLOOR_FROM	95.0
#define FLOOR_TEXT	60.0

struct entry {
	char	*path;		/* relative to the corpus directory */
	char	*notes;
};

static struct entry *entries;
static size_t nentries;
static char corpus[4096];

static void
load_index(void)
{
	char *data, *line, *next, *tab, *notes;
	size_t len;
	char path[4200];
	int col;

	snprintf(corpus, sizeof(corpus), "%s/tests/fixtures/mime",
	    getenv("INTAKE_TOP") ? getenv("INTAKE_TOP") : ".");
	snprintf(path, sizeof(path), "%s/INDEX.tsv", corpus);
	if (read_file(path, 16 << 20, &data, &len) == -1) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	for (line = data; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "path\t", 5) == 0)
			continue;
		notes = line;
		for (col = 0; col < 6 && notes; col++) {
			tab = strchr(notes, '\t');
			notes = tab ? tab + 1 : NULL;
		}
		tab = strchr(line, '\t');
		if (tab == NULL)
			continue;
		*tab = '\0';
		if (notes && (strstr(notes, "kind:mbox") ||
		    strstr(notes, "kind:raw-tnef")))
			continue;
		entries = xreallocarray(entries, nentries + 1, sizeof(*entries));
		entries[nentries].path = xstrdup(line);
		entries[nentries].notes = xstrdup(notes ? notes : "");
		nentries++;
	}
	free(data);
}

static int
read_corpus_file(const char *rel, char **out, size_t *len)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", corpus, rel);
	return read_file(path, 64 << 20, out, len);
}

static int
str_ok(const char *s)
{
	return s == NULL || utf8_valid(s, strlen(s));
}

static void
check_invariants(const struct message *m, const char *name)
{
	size_t i;

	ck_assert_msg(m->text != NULL, "%s: no text", name);
	ck_assert_msg(strlen(m->text) == m->text_len, "%s: text_len", name);
	ck_assert_msg(utf8_valid(m->text, m->text_len), "%s: text utf8", name);
	ck_assert_msg(m->content_type != NULL, "%s: content type", name);
	ck_assert_msg(str_ok(m->subject) && str_ok(m->from_addr) &&
	    str_ok(m->from_name) && str_ok(m->to) && str_ok(m->reply_to) &&
	    str_ok(m->message_id) && str_ok(m->in_reply_to) &&
	    str_ok(m->references) && str_ok(m->content_type) &&
	    str_ok(m->report_type) && str_ok(m->parse_error),
	    "%s: field not UTF-8", name);
	for (i = 0; i < m->nheaders; i++)
		ck_assert_msg(str_ok(m->headers[i].name) &&
		    str_ok(m->headers[i].value), "%s: header utf8", name);
	for (i = 0; i < m->nattachments; i++)
		ck_assert_msg(str_ok(m->attachments[i].filename) &&
		    m->attachments[i].content_type != NULL, "%s: attachment",
		    name);
	ck_assert_msg((m->status == MSG_PARSE_OK) == (m->parse_error == NULL) ||
	    m->status == MSG_PARSE_OK, "%s: status/reason", name);
}

/* The same bytes with every line end as LF, or as CRLF. */
static char *
convert_eol(const char *s, size_t n, int crlf, size_t *outlen)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (i = 0; i < n; i++) {
		if (s[i] == '\r')
			continue;
		if (s[i] == '\n' && crlf)
			buf_addc(&b, '\r');
		buf_addc(&b, s[i]);
	}
	*outlen = b.len;
	return buf_steal(&b);
}

START_TEST(test_corpus_message)
{
	const struct entry *e = &entries[_i];
	struct message m;
	char *raw, *conv;
	size_t len, clen;
	int crlf;

	ck_assert_msg(read_corpus_file(e->path, &raw, &len) == 0,
	    "%s: unreadable", e->path);
	message_parse(raw, len, NULL, &m);
	check_invariants(&m, e->path);
	message_free(&m);
	for (crlf = 0; crlf < 2; crlf++) {
		conv = convert_eol(raw, len, crlf, &clen);
		message_parse(conv, clen, NULL, &m);
		check_invariants(&m, e->path);
		message_free(&m);
		free(conv);
	}
	free(raw);
}
END_TEST

/* ---- agreement ----------------------------------------------------------- */

struct score {
	int	subj_n, subj_ok;
	int	from_n, from_ok;
	int	text_n, text_ok;
	int	messages;
	int	verbose;
};

/* Whitespace runs to one space, trimmed, so layout differences vanish. */
static char *
norm_ws(const char *s)
{
	struct buf b;
	int sp = 0;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (; s && *s; s++) {
		if (isspace((unsigned char)*s)) {
			sp = 1;
			continue;
		}
		if (sp && b.len)
			buf_addc(&b, ' ');
		sp = 0;
		buf_addc(&b, *s);
	}
	return buf_steal(&b);
}

static int
same_text(const char *a, const char *b)
{
	char *x = norm_ws(a), *y = norm_ws(b);
	int r = strcmp(x, y) == 0;

	free(x);
	free(y);
	return r;
}

static void
count(struct score *sc, const char *what, const char *path, int ok,
    const char *want, const char *got)
{
	if (strcmp(what, "subject") == 0) {
		sc->subj_n++;
		sc->subj_ok += ok;
	} else if (strcmp(what, "from") == 0) {
		sc->from_n++;
		sc->from_ok += ok;
	} else {
		sc->text_n++;
		sc->text_ok += ok;
	}
	if (!ok && sc->verbose)
		printf("mismatch %s %s\n  want: %.300s\n  got:  %.300s\n", what,
		    path, want ? want : "(none)", got ? got : "(none)");
}

static int
parse_file(const char *rel, struct message *m)
{
	char *raw;
	size_t len;

	if (read_corpus_file(rel, &raw, &len) == -1)
		return -1;
	message_parse(raw, len, NULL, m);
	free(raw);
	return 0;
}

static json_t *
load_json(const char *rel)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", corpus, rel);
	return json_load_file(path, 0, NULL);
}

static int
has_nested_message(const struct message *m)
{
	size_t i;

	for (i = 0; i < m->nattachments; i++)
		if (strcmp(m->attachments[i].content_type, "message/rfc822") == 0)
			return 1;
	return 0;
}

static void
compare_from(struct score *sc, const char *path, const struct message *m,
    const char *want_name, const char *want_addr)
{
	char want[1024], got[1024];
	int ok;

	snprintf(want, sizeof(want), "%s <%s>", want_name ? want_name : "",
	    want_addr ? want_addr : "");
	snprintf(got, sizeof(got), "%s <%s>", m->from_name ? m->from_name : "",
	    m->from_addr ? m->from_addr : "");
	ok = same_text(want_name ? want_name : "",
	    m->from_name ? m->from_name : "") &&
	    strcasecmp(want_addr ? want_addr : "",
	    m->from_addr ? m->from_addr : "") == 0;
	count(sc, "from", path, ok, want, got);
}

/* stalwart mail-parser: parts[0] headers, text_body parts. */
static void
oracle_stalwart(struct score *sc, const char *path)
{
	char rel[4096];
	json_t *j, *parts, *hdrs, *h, *v, *tb, *idx, *body, *t, *list, *a;
	struct message m;
	struct buf want;
	size_t i;
	int all_text = 1;

	snprintf(rel, sizeof(rel), "%.*s.json", (int)(strlen(path) - 4), path);
	j = load_json(rel);
	if (j == NULL || parse_file(path, &m) == -1) {
		json_decref(j);
		return;
	}
	sc->messages++;
	parts = json_object_get(j, "parts");
	hdrs = json_object_get(json_array_get(parts, 0), "headers");
	json_array_foreach(hdrs, i, h) {
		const char *name = json_string_value(json_object_get(h, "name"));

		v = json_object_get(h, "value");
		if (name && strcmp(name, "subject") == 0 &&
		    json_is_string(json_object_get(v, "Text"))) {
			const char *w = json_string_value(json_object_get(v, "Text"));

			count(sc, "subject", path, m.subject &&
			    same_text(w, m.subject), w, m.subject);
		}
		if (name && strcmp(name, "from") == 0 &&
		    (list = json_object_get(json_object_get(v, "Address"),
		    "List")) != NULL && (a = json_array_get(list, 0)) != NULL)
			compare_from(sc, path, &m,
			    json_string_value(json_object_get(a, "name")),
			    json_string_value(json_object_get(a, "address")));
	}
	tb = json_object_get(j, "text_body");
	buf_init(&want, 0);
	buf_add(&want, "", 0);
	json_array_foreach(tb, i, idx) {
		body = json_object_get(json_array_get(parts,
		    (size_t)json_integer_value(idx)), "body");
		t = json_object_get(body, "Text");
		if (!json_is_string(t)) {
			all_text = 0;
			break;
		}
		buf_addstr(&want, json_string_value(t));
		buf_addc(&want, '\n');
	}
	if (all_text && json_array_size(json_object_get(j, "html_body")) <=
	    json_array_size(tb) && !has_nested_message(&m))
		count(sc, "text", path, same_text(want.data, m.text),
		    want.data, m.text);
	buf_free(&want);
	message_free(&m);
	json_decref(j);
}

/* libetpan's own serializer: header.subject, header.from. */
static void
oracle_libetpan(struct score *sc, const char *path)
{
	char rel[4096];
	json_t *j, *hdr, *from;
	struct message m;
	const char *w;

	if (strncmp(path, "libetpan/input/", 15) != 0)
		return;
	snprintf(rel, sizeof(rel), "libetpan/output/%s", path + 15);
	j = load_json(rel);
	if (j == NULL || parse_file(path, &m) == -1) {
		json_decref(j);
		return;
	}
	sc->messages++;
	hdr = json_object_get(j, "header");
	w = json_string_value(json_object_get(hdr, "subject"));
	if (w)
		count(sc, "subject", path, m.subject && same_text(w, m.subject),
		    w, m.subject);
	from = json_object_get(hdr, "from");
	if (from)
		compare_from(sc, path, &m,
		    json_string_value(json_object_get(from, "displayName")),
		    json_string_value(json_object_get(from, "mailbox")));
	message_free(&m);
	json_decref(j);
}

static int
all_ascii_no_ew(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == '&' ||
		    (s[i] == '=' && i + 1 < n && s[i + 1] == '?'))
			return 0;
	return 1;
}

/*
 * mime4j: X_decoded.xml lists the top-level fields as written and names
 * the decoded body files.  Compared: a plain ASCII Subject (unfolding),
 * and the text of a single-part text/plain message in UTF-8 or ASCII.
 */
static void
oracle_mime4j(struct score *sc, const char *path)
{
	char rel[4096], *xml, *body, *p, *e, *want;
	size_t len, blen, plen = strlen(path);
	struct message m;

	if (plen < 4 || strcmp(path + plen - 4, ".msg") != 0)
		return;
	snprintf(rel, sizeof(rel), "%.*s_decoded.xml", (int)(plen - 4), path);
	if (read_corpus_file(rel, &xml, &len) == -1)
		return;
	if (parse_file(path, &m) == -1) {
		free(xml);
		return;
	}
	sc->messages++;
	p = strstr(xml, "<field>\nSubject:");
	if (p && strstr(xml, "<message>") < p) {
		e = strstr(p, "</field>");
		p += strlen("<field>\nSubject:");
		if (e && all_ascii_no_ew(p, (size_t)(e - p))) {
			want = xstrndup(p, (size_t)(e - p));
			count(sc, "subject", path, m.subject &&
			    same_text(want, m.subject), want, m.subject);
			free(want);
		}
	}
	snprintf(rel, sizeof(rel), "%.*s_decoded_1.txt", (int)(plen - 4), path);
	if (strstr(xml, "<multipart>") == NULL && strstr(xml,
	    "<text-body") != NULL && !has_nested_message(&m) &&
	    strcmp(m.content_type, "text/plain") == 0 &&
	    read_corpus_file(rel, &body, &blen) == 0) {
		if (utf8_valid(body, blen) && memchr(body, 0, blen) == NULL)
			count(sc, "text", path, same_text(body, m.text), body,
			    m.text);
		free(body);
	}
	message_free(&m);
	free(xml);
}

/* Thunderbird: NAME.out is the expected body text. */
static void
oracle_thunderbird(struct score *sc, const char *path, const char *notes)
{
	const char *o = strstr(notes, "oracle:thunderbird/");
	char rel[4096], *body;
	size_t n, blen;
	struct message m;

	if (o == NULL)
		return;
	o += 7;
	n = strcspn(o, ";|\t");
	snprintf(rel, sizeof(rel), "%.*s", (int)n, o);
	if (n < 4 || strcmp(rel + n - 4, ".out") != 0)
		return;
	if (read_corpus_file(rel, &body, &blen) == -1)
		return;
	if (parse_file(path, &m) == 0) {
		sc->messages++;
		/*
		 * Some of Thunderbird's expectations keep the HTML source;
		 * we show HTML as text, so compare with its text form.
		 */
		if (utf8_valid(body, blen) && strncasecmp(body, "<html", 5) == 0) {
			char *t = html_to_text(body, blen, 0, NULL);

			count(sc, "text", path, same_text(t, m.text), t, m.text);
			free(t);
		} else if (utf8_valid(body, blen))
			count(sc, "text", path, same_text(body, m.text), body,
			    m.text);
		message_free(&m);
	}
	free(body);
}

static double
pct(int ok, int n)
{
	return n ? 100.0 * ok / n : 100.0;
}

START_TEST(test_agreement)
{
	struct score sc;
	size_t i;

	memset(&sc, 0, sizeof(sc));
	sc.verbose = getenv("INTAKE_CORPUS_VERBOSE") != NULL;
	for (i = 0; i < nentries; i++) {
		const char *p = entries[i].path;

		if (strncmp(p, "stalwart-mail-parser/", 21) == 0)
			oracle_stalwart(&sc, p);
		else if (strncmp(p, "libetpan/", 9) == 0)
			oracle_libetpan(&sc, p);
		else if (strncmp(p, "james-mime4j/", 13) == 0)
			oracle_mime4j(&sc, p);
		else if (strncmp(p, "thunderbird/", 12) == 0)
			oracle_thunderbird(&sc, p, entries[i].notes);
	}
	printf("agreement: subject %.1f%% from %.1f%% text %.1f%% over %d "
	    "messages\n", pct(sc.subj_ok, sc.subj_n), pct(sc.from_ok, sc.from_n),
	    pct(sc.text_ok, sc.text_n), sc.messages);
	printf("info: agreement counts: subject %d/%d from %d/%d text %d/%d\n",
	    sc.subj_ok, sc.subj_n, sc.from_ok, sc.from_n, sc.text_ok, sc.text_n);
	fflush(stdout);
	ck_assert_int_gt(sc.messages, 100);
	ck_assert_msg(pct(sc.subj_ok, sc.subj_n) >= FLOOR_SUBJECT,
	    "subject agreement under floor");
	ck_assert_msg(pct(sc.from_ok, sc.from_n) >= FLOOR_FROM,
	    "from agreement under floor");
	ck_assert_msg(pct(sc.text_ok, sc.text_n) >= FLOOR_TEXT,
	    "text agreement under floor");
}
END_TEST

int
main(void)
{
	Suite *s;
	TCase *tc, *ta;
	SRunner *sr;
	int failed;

	load_index();
	s = suite_create("mime_corpus");
	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_corpus_message, 0, (int)nentries);
	suite_add_tcase(s, tc);
	ta = tcase_create("agreement");
	tcase_set_timeout(ta, 300);
	tcase_add_test(ta, test_agreement);
	suite_add_tcase(s, ta);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	while (nentries > 0) {
		nentries--;
		free(entries[nentries].path);
		free(entries[nentries].notes);
	}
	free(entries);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
