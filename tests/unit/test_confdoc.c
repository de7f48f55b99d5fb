/* SPDX-License-Identifier: MIT */
/*
 * test_confdoc: doc/intake.conf.5 tells the truth about the configuration.
 * Every key of the key table (daemon/conftab.c) is documented there and in
 * doc/interfaces.md, and every key they document is in the table; each
 * documented numeric or string default is the one config_defaults() sets;
 * the EXAMPLE section loads without an error.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "config.h"
#include "conftab.h"
#include "log.h"
#include "util.h"

static char *
man_page(void)
{
	const char *top = getenv("INTAKE_TOP");
	char *path, *text = NULL;
	size_t len;

	path = xasprintf("%s/doc/intake.conf.5", top && *top ? top : ".");
	ck_assert_msg(read_file(path, 1 << 20, &text, &len) == 0,
	    "cannot read %s", path);
	free(path);
	return text;
}

/* not inlined: GCC 12 then sees a dangling pointer that is not there */
static __attribute__((noinline)) char *
interfaces_md(void)
{
	const char *top = getenv("INTAKE_TOP");
	char *path, *text = NULL;
	size_t len;

	path = xasprintf("%s/doc/interfaces.md", top && *top ? top : ".");
	ck_assert_msg(read_file(path, 1 << 22, &text, &len) == 0,
	    "cannot read %s", path);
	free(path);
	return text;
}

/* Is name the documentation name of a row of the key table? */
static int
is_table_key(const char *name)
{
	size_t i;
	int found = 0;

	for (i = 0; i < conf_nkeys && !found; i++) {
		char *doc;

		if (conf_keys[i].flags & CF_UNDER)
			continue;
		doc = conf_key_docname(&conf_keys[i]);
		found = strcmp(doc, name) == 0;
		free(doc);
	}
	return found;
}

/* Every row of the key table (daemon/conftab.c) has its own tagged
 * paragraph: ".BR key " (...". */
START_TEST(test_every_key_documented)
{
	char *text = man_page(), *want, *doc;
	size_t i;

	for (i = 0; i < conf_nkeys; i++) {
		if (conf_keys[i].flags & CF_UNDER)
			continue;	/* in its parent's paragraph */
		doc = conf_key_docname(&conf_keys[i]);
		want = xasprintf("\n.BR %s \" (", doc);
		ck_assert_msg(strstr(text, want) != NULL,
		    "intake.conf.5 does not document '%s'", doc);
		free(want);
		free(doc);
	}
	free(text);
}
END_TEST

/* ... and the other way round: every key intake.conf.5 documents is a
 * row of the table (a key the loader would refuse is not documented). */
START_TEST(test_every_documented_key_exists)
{
	char *text = man_page(), *p, *name;
	size_t n, count = 0;

	for (p = text; (p = strstr(p, "\n.BR ")) != NULL; p += 5) {
		n = strcspn(p + 5, " \n");
		if (strncmp(p + 5 + n, " \" (", 4) != 0)
			continue;	/* ".BR intaked (8)" and the like */
		name = xasprintf("%.*s", (int)n, p + 5);
		ck_assert_msg(is_table_key(name), "intake.conf.5 documents "
		    "'%s', which is not a key of daemon/conftab.c", name);
		free(name);
		count++;
	}
	ck_assert_uint_ge(count, 60);
	free(text);
}
END_TEST

/*
 * doc/interfaces.md, "## Configuration": the first cell of each row of
 * its tables names keys in backquotes ("`smtp.user`, `smtp.from`");
 * `business_hours.{sun..sat}` is business_hours.  Each is a row of the
 * key table and each row of the table is one of them.
 */
START_TEST(test_interfaces_md_keys)
{
	char *text = interfaces_md(), *sect, *line, *doc;
	const char *start, *end, *q, *close, *cend;
	struct buf names;
	size_t i, n;

	start = strstr(text, "\n## Configuration\n");
	ck_assert_ptr_nonnull(start);
	end = strstr(start + 1, "\n## ");
	ck_assert_ptr_nonnull(end);
	sect = xasprintf("%.*s", (int)(end - start), start);
	buf_init(&names, 0);
	buf_addc(&names, '\n');
	for (line = sect; (line = strstr(line, "\n| `")) != NULL; line++) {
		n = strcspn(line + 2, "|");
		cend = line + 2 + n;	/* the first cell */
		for (q = line + 2; (q = memchr(q, '`', (size_t)(cend - q))) != NULL;
		    q = close + 1) {
			char *name, *brace;

			close = memchr(q + 1, '`', (size_t)(cend - q - 1));
			ck_assert_ptr_nonnull(close);
			name = xasprintf("%.*s", (int)(close - q - 1), q + 1);
			if ((brace = strstr(name, ".{")) != NULL)
				*brace = '\0';
			ck_assert_msg(is_table_key(name), "interfaces.md "
			    "documents '%s', which is not a key of "
			    "daemon/conftab.c", name);
			buf_addf(&names, "%s\n", name);
			free(name);
		}
	}
	buf_addc(&names, '\0');
	for (i = 0; i < conf_nkeys; i++) {
		char *want;

		if (conf_keys[i].flags & CF_UNDER)
			continue;
		doc = conf_key_docname(&conf_keys[i]);
		want = xasprintf("\n%s\n", doc);
		ck_assert_msg(strstr(names.data, want) != NULL, "interfaces.md, "
		    "Configuration, does not document '%s'", doc);
		free(want);
		free(doc);
	}
	buf_free(&names);
	free(sect);
	free(text);
}
END_TEST

/* ".BR key " (integer, default N" with N what the code uses. */
static void
check_int_default(const char *text, const char *key, long long value)
{
	char *want = xasprintf("\n.BR %s \" (integer, default %lld", key,
	    value);

	ck_assert_msg(strstr(text, want) != NULL,
	    "intake.conf.5: '%s' is not documented with default %lld", key,
	    value);
	free(want);
}

START_TEST(test_defaults_match)
{
	struct config c;
	char *text = man_page(), *want;

	config_defaults(&c);
	check_int_default(text, "busy_timeout_ms", c.busy_timeout_ms);
	check_int_default(text, "listen.max_body_bytes",
	    (long long)c.listen_max_body);
	check_int_default(text, "listen.timeout", c.listen_timeout);
	check_int_default(text, "conversation_hours", c.conversation_hours);
	check_int_default(text, "listen.max_connections",
	    c.listen_max_connections);
	check_int_default(text, "sla.urgent_response_minutes",
	    c.urgent_response_minutes);
	check_int_default(text, "sla.urgent_breach_minutes",
	    c.urgent_breach_minutes);
	check_int_default(text, "sla.in_hours_response_business_minutes",
	    c.in_hours_response_business_minutes);
	check_int_default(text, "sla.in_hours_breach_business_minutes",
	    c.in_hours_breach_business_minutes);
	check_int_default(text, "limits.max_message_bytes",
	    (long long)c.max_message_bytes);
	check_int_default(text, "limits.max_mime_depth", c.max_mime_depth);
	check_int_default(text, "limits.max_mime_parts", c.max_mime_parts);
	check_int_default(text, "limits.max_headers", c.max_headers);
	check_int_default(text, "limits.max_header_bytes",
	    (long long)c.max_header_bytes);
	check_int_default(text, "limits.max_text_bytes",
	    (long long)c.max_text_bytes);
	check_int_default(text, "limits.max_decode_ratio", c.max_decode_ratio);
	check_int_default(text, "alerts.source_stale_minutes",
	    c.alerts_source_stale_minutes);
	check_int_default(text, "alerts.parse_error_run",
	    c.alerts_parse_error_run);
	check_int_default(text, "remind.lead_minutes", c.remind_lead_minutes);
	check_int_default(text, "retention.closed_days",
	    c.retention_closed_days);

	want = xasprintf("\n.BR database \" (string, default \" \\(dq%s\\(dq",
	    c.database);
	ck_assert_msg(strstr(text, want) != NULL, "database default");
	free(want);
	want = xasprintf("\n.BR timezone \" (string, default \" \\(dq%s\\(dq",
	    c.timezone);
	ck_assert_msg(strstr(text, want) != NULL, "timezone default");
	free(want);
	ck_assert_int_eq(c.log_level, LOG_PRI_INFO);
	ck_assert_ptr_nonnull(strstr(text,
	    "\n.BR log_level \" (string, default \" \\(dqinfo\\(dq"));
	ck_assert_int_eq(c.holidays_federal, 1);
	ck_assert_ptr_nonnull(strstr(text,
	    "\n.BR holidays.federal \" (boolean, default true"));
	ck_assert_int_eq(c.alerts_include_excerpt, 0);
	ck_assert_ptr_nonnull(strstr(text,
	    "\n.BR alerts.include_excerpt \" (boolean, default false"));
	ck_assert_int_eq(c.ack_enabled, 0);
	ck_assert_ptr_nonnull(strstr(text,
	    "\n.BR ack.enabled \" (boolean, default false"));
	/* remind.at: 08:30 and 17:00. */
	ck_assert_int_eq((int)c.remind_nat, 2);
	ck_assert_int_eq(c.remind_at[0], 8 * 60 + 30);
	ck_assert_int_eq(c.remind_at[1], 17 * 60);
	ck_assert_ptr_nonnull(strstr(text,
	    "default \" \"[\\(dq08:30\\(dq, \\(dq17:00\\(dq]\""));
	/* Business hours Mon-Fri 09:00-19:00, weekend closed. */
	ck_assert_int_eq(c.week[1].open, 9 * 60);
	ck_assert_int_eq(c.week[5].close, 19 * 60);
	ck_assert_int_ge(c.week[0].open, c.week[0].close);
	ck_assert_int_ge(c.week[6].open, c.week[6].close);
	ck_assert_ptr_nonnull(strstr(text,
	    "default Monday to Friday 09:00\\(en19:00"));
	/* Tip meetings Mon, Wed, Fri 10:00. */
	ck_assert_int_eq((int)c.ntip_meetings, 3);
	ck_assert_int_eq(c.tip_meetings[0].wday, 1);
	ck_assert_int_eq(c.tip_meetings[1].wday, 3);
	ck_assert_int_eq(c.tip_meetings[2].wday, 5);
	ck_assert_int_eq(c.tip_meetings[0].minute, 600);
	ck_assert_ptr_nonnull(strstr(text, "\\(dqmon 10:00\\(dq, "
	    "\\(dqwed 10:00\\(dq, \\(dqfri 10:00\\(dq]"));
	config_free(&c);
	free(text);
}
END_TEST

/* The EXAMPLE section, roff escapes undone. */
static char *
example(const char *text)
{
	const char *start, *end, *p;
	struct buf b;

	start = strstr(text, "\n.SH EXAMPLE\n.EX\n");
	ck_assert_ptr_nonnull(start);
	start += strlen("\n.SH EXAMPLE\n.EX\n");
	end = strstr(start, "\n.EE\n");
	ck_assert_ptr_nonnull(end);
	buf_init(&b, 0);
	for (p = start; p < end; p++) {
		if (p[0] == '\\' && p + 1 < end && p[1] == '-') {
			buf_addc(&b, '-');
			p++;
		} else if (p[0] == '\\' && p + 1 < end && p[1] == 'e') {
			buf_addc(&b, '\\');
			p++;
		} else {
			ck_assert_msg(p[0] != '\\', "unhandled roff escape in "
			    "the EXAMPLE: %.10s", p);
			buf_addc(&b, p[0]);
		}
	}
	buf_addc(&b, '\n');
	return buf_steal(&b);
}

static void
write_file(const char *dir, const char *name, const char *text, int mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, (mode_t)mode), 0);
	free(path);
}

START_TEST(test_example_loads)
{
	char dir[] = "/tmp/intake-confdoc-XXXXXX";
	char *text = man_page(), *ex, *path, *err = NULL;
	struct config c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ex = example(text);
	write_file(dir, "intake.conf", ex, 0640);
	/* The files it names, relative to its directory. */
	write_file(dir, "imap.pass", "secret\n", 0600);
	write_file(dir, "sms.token", "token\n", 0600);
	write_file(dir, "smtp.pass", "secret\n", 0600);
	write_file(dir, "twilio.token", "secret\n", 0600);
	write_file(dir, "triage.conf", "# lexicon\n", 0644);
	path = xasprintf("%s/intake.conf", dir);
	ck_assert_msg(config_load(path, 0, &c, &err) == 0,
	    "the EXAMPLE of intake.conf.5 does not load:\n%s", err ? err : "");
	ck_assert_int_eq((int)c.nsources, 3);
	ck_assert_str_eq(c.sources[0].name, "hotline");
	ck_assert_int_eq(c.sources[0].type, SOURCE_IMAP);
	ck_assert_int_eq(c.sources[0].port, 993);
	ck_assert_int_eq(c.sources[0].after, IMAP_AFTER_MOVE);
	ck_assert_str_eq(c.sources[0].move_to, "Processed");
	/* Relative paths are resolved against the file's directory. */
	ck_assert_ptr_nonnull(strstr(c.sources[0].password_file, dir));
	ck_assert_int_eq(c.sources[1].type, SOURCE_HTTP);
	ck_assert_int_eq(c.sources[1].poll_interval, 30);
	ck_assert_int_eq(c.sources[2].type, SOURCE_TWILIO);
	ck_assert_int_eq(c.listen_port, 8025);
	ck_assert_str_eq(c.database_group, "intake");
	ck_assert_int_eq((int)c.holidays_nextra, 1);
	config_free(&c);
	free(path);
	free(ex);
	free(text);
	path = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(path), 0);
	free(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("confdoc");
	TCase *tc = tcase_create("confdoc");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_every_key_documented);
	tcase_add_test(tc, test_every_documented_key_exists);
	tcase_add_test(tc, test_interfaces_md_keys);
	tcase_add_test(tc, test_defaults_match);
	tcase_add_test(tc, test_example_loads);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
