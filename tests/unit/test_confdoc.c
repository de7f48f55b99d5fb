/* SPDX-License-Identifier: MIT */
/*
 * test_confdoc: doc/intake.conf.5 tells the truth about the configuration.
 * Every key the loader accepts is documented; each documented numeric or
 * string default is the one config_defaults() sets; the EXAMPLE section
 * loads without an error.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "config.h"
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

/* Every key of include/config.h, as written in the file. */
static const char *const keys[] = {
	"database", "database_group", "timezone", "allow_fixed_zone",
	"log_level",
	"busy_timeout_ms", "business_hours", "holidays.federal",
	"holidays.extra", "holidays.ics", "sla.urgent_response_minutes",
	"sla.urgent_breach_minutes", "sla.in_hours_response_business_minutes",
	"sla.in_hours_breach_business_minutes", "sla.tip_meetings", "sources",
	"name", "type", "path", "host", "port", "tls", "ca_file", "tls_verify",
	"pin_sha256", "user", "auth", "password_file", "token_file",
	"token_command", "mailbox", "after", "idle", "poll_interval", "timeout",
	"url", "limits.max_message_bytes", "limits.max_mime_depth",
	"limits.max_mime_parts", "limits.max_headers",
	"limits.max_header_bytes", "limits.max_text_bytes",
	"limits.max_decode_ratio", "limits.parse_timeout", "triage.lexicon",
	"alerts.webhook", "alerts.to", "alerts.source_stale_minutes",
	"alerts.parse_error_run", "alerts.include_excerpt", "smtp.url",
	"smtp.user", "smtp.password_file", "smtp.from", "smtp.ca_file",
	"remind.at", "remind.lead_minutes", "remind.to", "remind.webhook",
	"ack.enabled", "ack.from", "retention.closed_days", "escalation",
	"secret_file", "public_url", "verify_token_file", "listen",
	"listen.address", "listen.port", "listen.max_body_bytes",
	"listen.timeout", "listen.max_connections", "conversation_hours",
	"oncall.rota", "oncall.people", "oncall.reply_to",
};

START_TEST(test_every_key_documented)
{
	char *text = man_page(), *want;
	size_t i;

	for (i = 0; i < NELEM(keys); i++) {
		/* Each key has its own tagged paragraph: ".BR key " (...". */
		want = xasprintf("\n.BR %s \" (", keys[i]);
		ck_assert_msg(strstr(text, want) != NULL,
		    "intake.conf.5 does not document '%s'", keys[i]);
		free(want);
	}
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
	tcase_add_test(tc, test_defaults_match);
	tcase_add_test(tc, test_example_loads);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
