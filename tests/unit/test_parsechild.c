/* SPDX-License-Identifier: MIT */
/*
 * parsechild.c: the wire format round-trips every fixture message and
 * rejects damaged replies; the sandboxed child gives the same result as
 * in-process parsing, survives being killed or timed out (that message
 * becomes a parse error, the next one parses), really runs under seccomp
 * with no_new_privs and nothing but its socket, and converts every charset
 * without opening a file.
 */
#include <check.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "message.h"
#include "parsechild.h"
#include "util.h"

#include "../../daemon/parsechild_p.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *
top(void)
{
	const char *t = getenv("INTAKE_TOP");

	return t ? t : ".";
}

static int
sanitizer_run(void)
{
	const char *e = getenv("INTAKE_SANITIZER");

	return e && *e && strcmp(e, "0") != 0;
}

static void
assert_str_same(const char *a, const char *b, const char *what)
{
	if (a == NULL || b == NULL)
		ck_assert_msg(a == b, "%s: one NULL", what);
	else
		ck_assert_msg(strcmp(a, b) == 0, "%s differs", what);
}

static void
assert_same(const struct message *a, const struct message *b)
{
	size_t i;

	assert_str_same(a->message_id, b->message_id, "message_id");
	assert_str_same(a->from_addr, b->from_addr, "from_addr");
	assert_str_same(a->from_name, b->from_name, "from_name");
	assert_str_same(a->reply_to, b->reply_to, "reply_to");
	assert_str_same(a->to, b->to, "to");
	assert_str_same(a->subject, b->subject, "subject");
	assert_str_same(a->in_reply_to, b->in_reply_to, "in_reply_to");
	assert_str_same(a->references, b->references, "references");
	ck_assert(a->date == b->date);
	assert_str_same(a->content_type, b->content_type, "content_type");
	assert_str_same(a->report_type, b->report_type, "report_type");
	ck_assert_uint_eq(a->text_len, b->text_len);
	ck_assert_mem_eq(a->text, b->text, a->text_len);
	ck_assert_int_eq(a->text_from_html, b->text_from_html);
	ck_assert_int_eq(a->status, b->status);
	assert_str_same(a->parse_error, b->parse_error, "parse_error");
	ck_assert_uint_eq(a->nheaders, b->nheaders);
	for (i = 0; i < a->nheaders; i++) {
		assert_str_same(a->headers[i].name, b->headers[i].name, "hname");
		assert_str_same(a->headers[i].value, b->headers[i].value, "hvalue");
	}
	ck_assert_uint_eq(a->nattachments, b->nattachments);
	for (i = 0; i < a->nattachments; i++) {
		assert_str_same(a->attachments[i].filename,
		    b->attachments[i].filename, "filename");
		assert_str_same(a->attachments[i].content_type,
		    b->attachments[i].content_type, "att type");
		ck_assert_uint_eq(a->attachments[i].size, b->attachments[i].size);
	}
}

/* Every regular file of the fixture directories that exist. */
struct fixtures {
	char	**path;
	size_t	  n;
};

/* Every message file under dir, recursively (not the index files). */
static void
add_dir(struct fixtures *f, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *p;
	size_t n;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n = strlen(e->d_name);
		if (strcmp(e->d_name, "INDEX.tsv") == 0 ||
		    (n > 3 && strcmp(e->d_name + n - 3, ".md") == 0))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			add_dir(f, p);
			free(p);
			continue;
		}
		f->path = xreallocarray(f->path, f->n + 1, sizeof(char *));
		f->path[f->n++] = p;
	}
	closedir(d);
}

static void
fixtures_load(struct fixtures *f)
{
	char *d;

	memset(f, 0, sizeof(*f));
	d = xasprintf("%s/tests/fixtures/mime", top());
	add_dir(f, d);
	free(d);
	d = xasprintf("%s/tests/fixtures/sample-maildir/new", top());
	add_dir(f, d);
	free(d);
}

static void
fixtures_free(struct fixtures *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->path[i]);
	free(f->path);
}

START_TEST(test_roundtrip_fixtures)
{
	struct fixtures f;
	struct message m, back;
	char *raw, *ser;
	size_t len, slen, i;

	fixtures_load(&f);
	ck_assert_msg(f.n >= 1000, "only %zu fixture messages", f.n);
	for (i = 0; i < f.n; i++) {
		ck_assert_int_eq(read_file(f.path[i], 1 << 26, &raw, &len), 0);
		message_parse(raw, len, NULL, &m);
		ck_assert_int_eq(message_serialize(&m, &ser, &slen), 0);
		ck_assert_msg(message_deserialize(ser, slen, &back) == 0,
		    "%s does not round-trip", f.path[i]);
		assert_same(&m, &back);
		message_free(&back);
		/* one byte short, one byte more: both rejected */
		ck_assert_int_eq(message_deserialize(ser, slen - 1, &back), -1);
		ser = xrealloc(ser, slen + 1);
		ser[slen] = 0;
		ck_assert_int_eq(message_deserialize(ser, slen + 1, &back), -1);
		free(ser);
		message_free(&m);
		free(raw);
	}
	fixtures_free(&f);
}
END_TEST

static const char simple[] =
    "From: Ana <ana@example.org>\n"
    "To: help@example.org\n"
    "Subject: =?UTF-8?Q?necesito_ayuda_=C3=A1?=\n"
    "Message-ID: <x1@example.org>\n"
    "Date: Mon, 2 Mar 2026 10:00:00 -0500\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=b\n\n"
    "--b\nContent-Type: text/plain; charset=utf-8\n\nhola\n"
    "--b\nContent-Type: application/pdf; name=a.pdf\n"
    "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n";

START_TEST(test_truncations_rejected)
{
	struct message m, back;
	char *ser;
	size_t slen, n;

	message_parse(simple, strlen(simple), NULL, &m);
	ck_assert_int_eq(message_serialize(&m, &ser, &slen), 0);
	for (n = 0; n < slen; n++)
		ck_assert_msg(message_deserialize(ser, n, &back) == -1,
		    "prefix %zu accepted", n);
	/* a huge header count must not allocate, just fail */
	ck_assert_int_eq(message_deserialize(ser, slen, &back), 0);
	message_free(&back);
	message_free(&m);
	free(ser);
}
END_TEST

/* intake attachment: the child hands back the bytes of the one attachment
 * asked for, binary and all, and a reply naming a part that does not
 * exist is refused. */
START_TEST(test_attachment_bytes)
{
	static const char raw[] = "From: a@example.org\r\nSubject: s\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b"
	    "\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
	    "Content-Type: application/octet-stream\r\nContent-Disposition: "
	    "attachment; filename=\"a.bin\"\r\nContent-Transfer-Encoding: "
	    "base64\r\n\r\nAP8AAQ==\r\n--b\r\nContent-Type: image/png\r\n"
	    "Content-Disposition: attachment; filename=\"b.png\"\r\n\r\n"
	    "second\r\n--b--\r\n";
	struct parse_limits lim;
	struct parsechild *pc;
	struct message m, back;
	char *err = NULL, *ser;
	size_t slen;

	pc = parsechild_start(&err);
	ck_assert_msg(pc != NULL, "%s", err ? err : "");
	parse_limits_default(&lim);
	lim.want_attachment = 1;
	ck_assert_int_eq(parsechild_parse(pc, raw, sizeof(raw) - 1, &lim, &m), 0);
	ck_assert_uint_eq(m.nattachments, 2);
	ck_assert_uint_eq(m.attachments[0].data_len, 4);
	ck_assert(memcmp(m.attachments[0].data, "\0\377\0\1", 4) == 0);
	ck_assert_ptr_null(m.attachments[1].data);
	message_free(&m);
	lim.want_attachment = 2;
	ck_assert_int_eq(parsechild_parse(pc, raw, sizeof(raw) - 1, &lim, &m), 0);
	ck_assert_ptr_null(m.attachments[0].data);
	ck_assert_uint_eq(m.attachments[1].data_len, 6);
	ck_assert(memcmp(m.attachments[1].data, "second", 6) == 0);
	/* the index on the wire points past the list: refused */
	ck_assert_int_eq(message_serialize(&m, &ser, &slen), 0);
	ser[slen - 6 - 4 - 4] = 2;
	ck_assert_int_eq(message_deserialize(ser, slen, &back), -1);
	free(ser);
	message_free(&m);
	lim.want_attachment = 0;
	ck_assert_int_eq(parsechild_parse(pc, raw, sizeof(raw) - 1, &lim, &m), 0);
	ck_assert_ptr_null(m.attachments[0].data);
	ck_assert_ptr_null(m.attachments[1].data);
	message_free(&m);
	parsechild_stop(pc);
}
END_TEST

START_TEST(test_bad_fields_rejected)
{
	struct message m, back;
	struct header h;
	char *ser, *p;
	size_t slen;

	memset(&m, 0, sizeof(m));
	m.text = xstrdup("abc");
	m.text_len = 3;
	m.content_type = xstrdup("text/plain");
	m.subject = xstrdup("Zzzz");
	h.name = xstrdup("X-Y");
	h.value = xstrdup("v");
	m.headers = &h;
	m.nheaders = 1;
	ck_assert_int_eq(message_serialize(&m, &ser, &slen), 0);
	ck_assert_int_eq(message_deserialize(ser, slen, &back), 0);
	message_free(&back);
	/* invalid UTF-8 in a string */
	p = memmem(ser, slen, "Zzzz", 4);
	ck_assert_ptr_nonnull(p);
	p[1] = (char)0xff;
	ck_assert_int_eq(message_deserialize(ser, slen, &back), -1);
	/* a NUL inside a string */
	p[1] = '\0';
	ck_assert_int_eq(message_deserialize(ser, slen, &back), -1);
	p[1] = 'z';
	ck_assert_int_eq(message_deserialize(ser, slen, &back), 0);
	message_free(&back);
	/* bad magic */
	ser[0] ^= 1;
	ck_assert_int_eq(message_deserialize(ser, slen, &back), -1);
	ck_assert_ptr_null(back.text);
	free(ser);
	free(h.name);
	free(h.value);
	m.headers = NULL;
	m.nheaders = 0;
	message_free(&m);
}
END_TEST

START_TEST(test_child_matches_in_process)
{
	struct fixtures f;
	struct parsechild *pc;
	struct message a, b;
	char *raw, *err = NULL;
	size_t len, i, changes = 0;
	pid_t pid;

	pc = parsechild_start(&err);
	ck_assert_msg(pc != NULL, "%s", err ? err : "");
	pid = parsechild_pid(pc);
	ck_assert_int_gt(pid, 0);
	fixtures_load(&f);
	for (i = 0; i < f.n; i++) {
		ck_assert_int_eq(read_file(f.path[i], 1 << 26, &raw, &len), 0);
		message_parse(raw, len, NULL, &a);
		parsechild_parse(pc, raw, len, NULL, &b);
		assert_same(&a, &b);
		message_free(&a);
		message_free(&b);
		free(raw);
		if (parsechild_pid(pc) != pid) {
			pid = parsechild_pid(pc);
			changes++;
		}
	}
	/* nothing crashed or was killed: a new child only every
	 * PARSECHILD_MAX_MESSAGES */
	ck_assert_uint_eq(changes, (f.n - 1) / PARSECHILD_MAX_MESSAGES);
	fixtures_free(&f);
	parsechild_stop(pc);
}
END_TEST

/* The child is replaced after PARSECHILD_MAX_MESSAGES, between two
 * messages: none of them is lost, the old child is reaped. */
START_TEST(test_child_recycled)
{
	struct parsechild *pc;
	struct message m;
	char *err = NULL, msg[128];
	pid_t first;
	int i, n;

	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	first = parsechild_pid(pc);
	for (i = 0; i < PARSECHILD_MAX_MESSAGES; i++) {
		n = snprintf(msg, sizeof(msg), "Message-ID: <r%d@example.org>\n"
		    "Subject: n%d\n\nbody %d\n", i, i, i);
		ck_assert_int_eq(parsechild_parse(pc, msg, (size_t)n, NULL, &m), 0);
		ck_assert_int_eq((int)strtol(m.subject + 1, NULL, 10), i);
		message_free(&m);
	}
	ck_assert_int_eq(parsechild_pid(pc), first);
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), NULL, &m), 0);
	ck_assert_str_eq(m.message_id, "x1@example.org");
	message_free(&m);
	ck_assert_int_gt(parsechild_pid(pc), 0);
	ck_assert_int_ne(parsechild_pid(pc), first);
	/* reaped: not even a zombie left */
	ck_assert_int_eq(kill(first, 0), -1);
	parsechild_stop(pc);
}
END_TEST

/* The hand-off runs on one CPU: after a message the child is bound to a
 * single CPU, and our own affinity is what it was before. */
START_TEST(test_child_colocated)
{
	struct parsechild *pc;
	struct message m;
	cpu_set_t before, after, child;
	char *err = NULL;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;		/* nothing to choose between */
	ck_assert_int_eq(sched_getaffinity(0, sizeof(before), &before), 0);
	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), NULL, &m), 0);
	message_free(&m);
	ck_assert_int_eq(sched_getaffinity(parsechild_pid(pc), sizeof(child),
	    &child), 0);
	ck_assert_int_eq(CPU_COUNT(&child), 1);
	ck_assert_int_eq(sched_getaffinity(0, sizeof(after), &after), 0);
	ck_assert(CPU_EQUAL(&before, &after));
	parsechild_stop(pc);
}
END_TEST

/*
 * In a forked helper: SIGKILL pid once it has spent 20 ms of CPU, i.e. in
 * the middle of reading or parsing the message below (150 ms or more),
 * whatever the machine's load; a fixed delay would race the parser.
 */
static void __attribute__((noreturn))
kill_when_busy(pid_t pid)
{
	struct timespec t0, t;
	clockid_t id;
	int i;

	if (clock_getcpuclockid(pid, &id) != 0 || clock_gettime(id, &t0) == -1)
		_exit(1);
	for (i = 0; i < 20000; i++) {
		if (clock_gettime(id, &t) == -1)
			_exit(1);
		if ((t.tv_sec - t0.tv_sec) * 1000000000L +
		    (t.tv_nsec - t0.tv_nsec) >= 20000000L)
			break;
		usleep(500);
	}
	kill(pid, SIGKILL);
	_exit(0);
}

/* 40 MB of HTML: 150 ms or more of work for the child. */
static void
slow_message(struct buf *b)
{
	int i;

	buf_init(b, 0);
	buf_addstr(b, "Subject: big\nContent-Type: text/html\n\n");
	for (i = 0; i < 1000000; i++)
		buf_addstr(b, "<p>abc &amp; def <b>ghi</b> jklmnopq</p>\n");
}

static void
wait_zombie(pid_t pid)
{
	char path[64], *data;
	size_t len;
	int i, z = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < 500 && !z; i++) {
		if (read_file(path, 4096, &data, &len) == -1)
			break;
		z = strstr(data, ") Z ") != NULL;
		free(data);
		if (!z)
			usleep(10000);
	}
}

START_TEST(test_killed_child_restarts)
{
	struct parsechild *pc;
	struct parse_limits lim;
	struct message m;
	struct buf big;
	char *err = NULL;
	pid_t pid, killer;

	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), NULL, &m), 0);
	ck_assert_str_eq(m.subject, "necesito ayuda \xc3\xa1");
	message_free(&m);

	/* killed while parsing: that message is a parse error */
	pid = parsechild_pid(pc);
	slow_message(&big);
	parse_limits_default(&lim);
	lim.max_message_bytes = 64 << 20;
	killer = fork();
	ck_assert_int_ne(killer, -1);
	if (killer == 0)
		kill_when_busy(pid);
	ck_assert_int_eq(parsechild_parse(pc, big.data, big.len, &lim, &m), -1);
	waitpid(killer, NULL, 0);
	ck_assert_int_eq(m.status, MSG_PARSE_ERROR);
	ck_assert_str_eq(m.parse_error, "parser crashed");
	ck_assert_ptr_nonnull(m.text);
	ck_assert_ptr_null(m.subject);
	message_free(&m);
	buf_free(&big);
	ck_assert_int_eq(parsechild_pid(pc), -1);
	/* the next message gets a new child and parses */
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), NULL, &m), 0);
	ck_assert_str_eq(m.from_addr, "ana@example.org");
	ck_assert_uint_eq(m.nattachments, 1);
	message_free(&m);
	ck_assert_int_gt(parsechild_pid(pc), 0);
	ck_assert_int_ne(parsechild_pid(pc), pid);

	/* killed while idle: not the next message's fault */
	pid = parsechild_pid(pc);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	wait_zombie(pid);
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), NULL, &m), 0);
	ck_assert_str_eq(m.message_id, "x1@example.org");
	message_free(&m);
	ck_assert_int_ne(parsechild_pid(pc), pid);
	parsechild_stop(pc);
}
END_TEST

START_TEST(test_timeout_restarts)
{
	struct parsechild *pc;
	struct parse_limits lim;
	struct message m;
	struct buf b;
	char *err = NULL;
	pid_t pid;
	int i;

	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	pid = parsechild_pid(pc);
	/* 16 MB of short lines: far more than a millisecond's work */
	buf_init(&b, 0);
	buf_addstr(&b, "Subject: big\nContent-Type: text/html\n\n");
	for (i = 0; i < 400000; i++)
		buf_addstr(&b, "<p>abc &amp; def <b>ghi</b> jklmnopq</p>\n");
	parse_limits_default(&lim);
	lim.max_message_bytes = 64 << 20;
	lim.timeout_ms = 1;
	ck_assert_int_eq(parsechild_parse(pc, b.data, b.len, &lim, &m), -1);
	ck_assert_int_eq(m.status, MSG_PARSE_ERROR);
	ck_assert_str_eq(m.parse_error, "parser timed out");
	message_free(&m);
	ck_assert_int_eq(parsechild_pid(pc), -1);
	/* the old child is gone (reaped), the next message parses */
	ck_assert_int_eq(kill(pid, 0), -1);
	lim.timeout_ms = 10000;
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), &lim, &m), 0);
	ck_assert_str_eq(m.message_id, "x1@example.org");
	message_free(&m);
	buf_free(&b);
	parsechild_stop(pc);
}
END_TEST

static int
status_field(pid_t pid, const char *name)
{
	char path[64], *data, *p;
	size_t len;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_file(path, 1 << 16, &data, &len) == -1)
		return -1;
	p = strstr(data, name);
	if (p)
		v = (int)strtol(p + strlen(name), NULL, 10);
	free(data);
	return v;
}

START_TEST(test_sandbox_active)
{
	struct parsechild *pc;
	struct message m;
	char *err = NULL, path[64], *data;
	size_t len;
	DIR *d;
	struct dirent *e;
	int nfd = 0;
	pid_t pid;

	setenv("INTAKE_TEST_SECRET", "hunter2", 1);
	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	pid = parsechild_pid(pc);
	/* after one exchange the filter is surely installed */
	parsechild_parse(pc, simple, strlen(simple), NULL, &m);
	message_free(&m);
	ck_assert_int_eq(status_field(pid, "NoNewPrivs:"), 1);
	if (sanitizer_run()) {
		ck_assert_int_eq(parsechild_sandboxed(pc), 0);
		ck_assert_int_eq(status_field(pid, "Seccomp:"), 0);
	} else {
		ck_assert_int_eq(parsechild_sandboxed(pc), 1);
		ck_assert_int_eq(status_field(pid, "Seccomp:"), 2);
	}
	/* nothing inherited: 0-2 (/dev/null) and the socket */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		ck_assert_msg(strtol(e->d_name, NULL, 10) <= 3, "fd %s inherited", e->d_name);
		nfd++;
	}
	closedir(d);
	ck_assert_int_eq(nfd, 4);
	/* a fresh program image (exec), with none of our environment */
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	ck_assert_int_eq(read_file(path, 4096, &data, &len), 0);
	ck_assert_str_eq(data, "intake-parser");
	free(data);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	ck_assert_int_eq(read_file(path, 65536, &data, &len), 0);
	ck_assert_ptr_null(memmem(data, len, "hunter2", 7));
	ck_assert_ptr_nonnull(memmem(data, len, "INTAKE_PARSER_CHILD=", 20));
	free(data);
	parsechild_stop(pc);
}
END_TEST

/* Charsets whose converters iconv loads on demand: each must work inside
 * the filter (a file open would kill the child: "parser crashed"). */
static const struct {
	const char	*charset;
	const char	*body;		/* base64 */
	const char	*text;		/* expected UTF-8 */
} charsets[] = {
	{ "koi8-r", "0NLJ18XU", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	{ "windows-1251", "7/Do4uXy", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	{ "iso-8859-2", "rw==", "\xc5\xbb" },
	{ "iso-8859-7", "4es=", "\xce\xb1\xce\xbb" },
	{ "shift_jis", "gqA=", "\xe3\x81\x82" },
	{ "euc-jp", "pKI=", "\xe3\x81\x82" },
	{ "iso-2022-jp", "GyRCJCIbKEI=", "\xe3\x81\x82" },
	{ "gb2312", "xOO6ww==", "\xe4\xbd\xa0\xe5\xa5\xbd" },
	{ "gbk", "xOO6ww==", "\xe4\xbd\xa0\xe5\xa5\xbd" },
	{ "gb18030", "xOO6ww==", "\xe4\xbd\xa0\xe5\xa5\xbd" },
	{ "big5", "p0Gmbg==", "\xe4\xbd\xa0\xe5\xa5\xbd" },
	{ "euc-kr", "vsiz5w==", "\xec\x95\x88\xeb\x85\x95" },
	{ "utf-16", "//5BAA==", "A" },
	{ "utf-16le", "QQA=", "A" },
	{ "windows-1256", "x+E=", "\xd8\xa7\xd9\x84" },
	{ "x-no-such-charset", "Y2Fm6Q==", "caf\xc3\xa9" },	/* as cp1252 */
	{ "iso-8859-15", "pA==", "\xe2\x82\xac" },
};

START_TEST(test_charsets_inside_filter)
{
	struct parsechild *pc;
	struct message m;
	char *err = NULL, *raw;
	pid_t pid;
	size_t i;

	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	pid = parsechild_pid(pc);
	for (i = 0; i < NELEM(charsets); i++) {
		raw = xasprintf("Subject: cs\nMIME-Version: 1.0\n"
		    "Content-Type: text/plain; charset=%s\n"
		    "Content-Transfer-Encoding: base64\n\n%s\n",
		    charsets[i].charset, charsets[i].body);
		parsechild_parse(pc, raw, strlen(raw), NULL, &m);
		ck_assert_msg(m.status == MSG_PARSE_OK || m.status ==
		    MSG_PARSE_PARTIAL, "%s: %s", charsets[i].charset,
		    m.parse_error ? m.parse_error : "");
		ck_assert_msg(strstr(m.text, charsets[i].text) != NULL,
		    "%s: wrong text", charsets[i].charset);
		message_free(&m);
		free(raw);
		/* an RFC 2047 subject in the same charset */
		raw = xasprintf("Subject: =?%s?B?%s?=\n\nx\n",
		    charsets[i].charset, charsets[i].body);
		parsechild_parse(pc, raw, strlen(raw), NULL, &m);
		ck_assert_msg(m.status != MSG_PARSE_ERROR, "%s subject",
		    charsets[i].charset);
		message_free(&m);
		free(raw);
	}
	ck_assert_int_eq(parsechild_pid(pc), pid);
	parsechild_stop(pc);
}
END_TEST

START_TEST(test_libetpan_bug_input_survives)
{
	static const char bad[] =
	    "Subject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n--\"\nx\n";
	struct parsechild *pc;
	struct message m;
	char *err = NULL;

	pc = parsechild_start(&err);
	ck_assert_ptr_nonnull(pc);
	parsechild_parse(pc, bad, sizeof(bad) - 1, NULL, &m);
	ck_assert_int_eq(m.status, MSG_PARSE_ERROR);
	ck_assert_str_eq(m.subject, "x");
	message_free(&m);
	ck_assert_int_eq(parsechild_parse(pc, simple, strlen(simple), NULL, &m), 0);
	message_free(&m);
	parsechild_stop(pc);
}
END_TEST

static Suite *
parsechild_suite(void)
{
	Suite *s = suite_create("parsechild");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_roundtrip_fixtures);
	tcase_add_test(tc, test_truncations_rejected);
	tcase_add_test(tc, test_bad_fields_rejected);
	tcase_add_test(tc, test_attachment_bytes);
	tcase_add_test(tc, test_child_matches_in_process);
	tcase_add_test(tc, test_child_recycled);
	tcase_add_test(tc, test_killed_child_restarts);
	tcase_add_test(tc, test_timeout_restarts);
	tcase_add_test(tc, test_child_colocated);
	tcase_add_test(tc, test_sandbox_active);
	tcase_add_test(tc, test_charsets_inside_filter);
	tcase_add_test(tc, test_libetpan_bug_input_survives);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parsechild_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
