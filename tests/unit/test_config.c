/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "conftab.h"
#include "log.h"
#include "util.h"

static char dir[] = "/tmp/intake-cfgtest-XXXXXX";

static char *
write_conf(const char *name, const char *text)
{
	char *path;
	FILE *f;

	path = malloc(strlen(dir) + strlen(name) + 2);
	snprintf(path, strlen(dir) + strlen(name) + 2, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

START_TEST(test_defaults_when_missing)
{
	struct config c;
	char *err;

	ck_assert_int_eq(config_load("/nonexistent/intake.conf", 1, &c, &err), 0);
	ck_assert_ptr_null(c.path);
	ck_assert_str_eq(c.timezone, "America/New_York");
	ck_assert_int_eq(c.week[1].open, 540);
	ck_assert_int_eq(c.week[5].close, 1140);
	ck_assert_int_eq(c.week[0].open, c.week[0].close);
	ck_assert_int_eq((int)c.ntip_meetings, 3);
	ck_assert_int_eq(c.urgent_response_minutes, 15);
	config_free(&c);
	ck_assert_int_eq(config_load("/nonexistent/intake.conf", 0, &c, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/intake.conf"));
	free(err);
}
END_TEST

START_TEST(test_full_file)
{
	struct config c;
	char *err = NULL, *p;

	free(write_conf("pw", "secret\n"));
	chmod(dir, 0700);
	p = write_conf("ok.conf",
	    "database = \"var/intake.db\";\n"
	    "timezone = \"America/Chicago\";\n"
	    "business_hours = { mon = [\"08:00\", \"17:00\"]; sat = [\"10:00\", \"12:00\"]; };\n"
	    "holidays = { federal = false; extra = [ \"2026-12-24\" ]; };\n"
	    "sla = { urgent_response_minutes = 10; urgent_breach_minutes = 30;\n"
	    "        tip_meetings = [ \"tue 11:30\" ]; };\n"
	    "sources = ( { name = \"box\"; type = \"maildir\"; path = \"mail\"; },\n"
	    "            { name = \"imap\"; type = \"imap\"; host = \"127.0.0.1\"; tls = \"none\";\n"
	    "              user = \"u\"; password_file = \"pw\"; after = \"move:Done\"; } );\n"
	    "remind = { at = [ \"07:45\" ]; };\n"
	    "log_level = \"debug\";\n");
	ck_assert_msg(config_load(p, 0, &c, &err) == 0, "errors: %s", err);
	ck_assert_str_eq(c.timezone, "America/Chicago");
	ck_assert_int_eq(c.week[1].open, 480);
	ck_assert_int_eq(c.week[2].open, c.week[2].close);	/* left out: closed */
	ck_assert_int_eq(c.week[6].open, 600);
	ck_assert_int_eq(c.holidays_federal, 0);
	ck_assert_int_eq((int)c.holidays_nextra, 1);
	ck_assert_int_eq(c.tip_meetings[0].wday, 2);
	ck_assert_int_eq(c.tip_meetings[0].minute, 690);
	ck_assert_int_eq((int)c.nsources, 2);
	{
		char expect[200];

		snprintf(expect, sizeof(expect), "%s/mail", dir);
		ck_assert_str_eq(c.sources[0].path, expect);
	}
	ck_assert_int_eq(c.sources[1].port, 143);
	ck_assert_int_eq(c.sources[1].after, IMAP_AFTER_MOVE);
	ck_assert_str_eq(c.sources[1].move_to, "Done");
	ck_assert_int_eq(c.remind_at[0], 465);
	ck_assert_int_eq(c.log_level, LOG_PRI_DEBUG);
	ck_assert_ptr_nonnull(strstr(c.database, "/var/intake.db"));
	ck_assert(c.database[0] == '/');
	config_free(&c);
	free(p);
}
END_TEST

/* Every mistake is reported, each with its file and line. */
START_TEST(test_errors_have_lines)
{
	struct config c;
	char *err = NULL, *p, *expect;

	p = write_conf("bad.conf",
	    "database = \"x.db\";\n"
	    "databse_group = \"staff\";\n"
	    "business_hours = { mon = [\"9:00\", \"19:00\"]; };\n"
	    "sla = { urgent_response_minutes = \"fifteen\"; };\n"
	    "sources = ( { name = \"far\"; type = \"imap\"; host = \"mail.example.org\";\n"
	    "              tls = \"none\"; user = \"u\"; password_file = \"/nonexistent\"; } );\n"
	    "timezone = \"Mars/Olympus\";\n");
	ck_assert_int_eq(config_load(p, 0, &c, &err), -1);
	expect = malloc(strlen(p) + 64);
	snprintf(expect, strlen(p) + 64, "%s:2: unknown setting 'databse_group'", p);
	ck_assert_msg(strstr(err, expect) != NULL, "got: %s", err);
	snprintf(expect, strlen(p) + 64, "%s:3:", p);
	ck_assert_msg(strstr(err, expect) != NULL, "got: %s", err);
	snprintf(expect, strlen(p) + 64, "%s:4:", p);
	ck_assert_msg(strstr(err, expect) != NULL, "got: %s", err);
	ck_assert_msg(strstr(err, "only allowed to 127.0.0.1") != NULL, "got: %s", err);
	ck_assert_msg(strstr(err, "cannot read /nonexistent") != NULL, "got: %s", err);
	snprintf(expect, strlen(p) + 64, "%s:7: timezone", p);
	ck_assert_msg(strstr(err, expect) != NULL, "got: %s", err);
	free(err);
	free(expect);
	free(p);
}
END_TEST

START_TEST(test_syntax_error)
{
	struct config c;
	char *err = NULL, *p;

	p = write_conf("syn.conf", "database = \"x.db\"\ntimezone = ;\n");
	ck_assert_int_eq(config_load(p, 0, &c, &err), -1);
	ck_assert_msg(strstr(err, ":2:") != NULL, "got: %s", err);
	free(err);
	free(p);
}
END_TEST

START_TEST(test_inline_password_refused)
{
	struct config c;
	char *err = NULL, *p;

	p = write_conf("pw.conf",
	    "sources = ( { name = \"m\"; type = \"imap\"; host = \"h.example.org\";\n"
	    "  user = \"u\"; password = \"hunter2\"; } );\n");
	ck_assert_int_eq(config_load(p, 0, &c, &err), -1);
	ck_assert_msg(strstr(err, "never inline") != NULL, "got: %s", err);
	ck_assert_msg(strstr(err, "hunter2") == NULL, "password echoed: %s", err);
	free(err);
	free(p);
}
END_TEST

START_TEST(test_secret_file_mode)
{
	char *p, *out, *err;

	p = write_conf("secret", "s3cret\nignored\n");
	chmod(p, 0644);
	ck_assert_int_eq(config_read_secret(p, &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "readable by others"));
	free(err);
	chmod(p, 0600);
	ck_assert_int_eq(config_read_secret(p, &out, &err), 0);
	ck_assert_str_eq(out, "s3cret");
	free(out);
	free(p);
}
END_TEST

/* issue 12 item 18: what --check-config used to pass. */
static char *
load_errors(const char *name, const char *text)
{
	struct config c;
	char *err = NULL, *p;

	p = write_conf(name, text);
	if (config_load(p, 0, &c, &err) == 0) {
		config_free(&c);
		err = NULL;
	}
	free(p);
	return err;
}

START_TEST(test_tls_none_needs_loopback_address)
{
	char *err, *pw, *conf;
	const char *hosts[] = { "127.mail.example.net", "127.example.net",
	    "mail.example.org" };
	size_t i;

	pw = write_conf("lb.pw", "x\n");
	chmod(pw, 0600);
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		conf = xasprintf("sources = ( { name = \"m\"; type = \"imap\"; "
		    "host = \"%s\"; tls = \"none\"; user = \"u\"; "
		    "password_file = \"lb.pw\"; } );\n", hosts[i]);
		err = load_errors("lb.conf", conf);
		ck_assert_msg(err != NULL && strstr(err, "tls = \"none\" is "
		    "only allowed") != NULL, "%s accepted: %s", hosts[i],
		    err ? err : "(no error)");
		free(err);
		free(conf);
	}
	err = load_errors("lb2.conf", "sources = ( { name = \"m\"; type = "
	    "\"imap\"; host = \"localhost\"; tls = \"none\"; user = \"u\"; "
	    "password_file = \"lb.pw\"; } );\n");
	ck_assert_msg(err == NULL, "localhost refused: %s", err);
	err = load_errors("lb3.conf", "sources = ( { name = \"h\"; type = "
	    "\"http\"; url = \"http://127.example.net/x\"; token_file = "
	    "\"lb.pw\"; } );\n");
	ck_assert_msg(err != NULL && strstr(err, "url must be https://"),
	    "plain http to 127.example.net accepted");
	free(err);
	err = load_errors("lb4.conf", "sources = ( { name = \"h\"; type = "
	    "\"http\"; url = \"http://[::1]:8080/x\"; token_file = "
	    "\"lb.pw\"; } );\n");
	ck_assert_msg(err == NULL, "plain http to [::1] refused: %s", err);
	free(pw);
}
END_TEST

/* The push channels: what each needs, one path each, a real address. */
START_TEST(test_push_sources)
{
	char *err, *sec;

	sec = write_conf("push.secret", "s3cret\n");
	ck_assert_int_eq(chmod(sec, 0600), 0);
	err = load_errors("p1.conf", "listen = ( { port = 8025; } );\n"
	    "sources = ( { name = \"t\"; type = \"twilio\"; path = \"/t\"; "
	    "secret_file = \"push.secret\"; public_url = "
	    "\"https://h.example.org/t\"; },\n"
	    "{ name = \"w\"; type = \"whatsapp\"; path = \"/w\"; "
	    "secret_file = \"push.secret\"; verify_token_file = "
	    "\"push.secret\"; },\n"
	    "{ name = \"f\"; type = \"webhook\"; path = \"/f\"; "
	    "secret_file = \"push.secret\"; } );\n");
	ck_assert_msg(err == NULL, "push sources refused: %s", err);
	err = load_errors("p9.conf", "sources = ( { name = \"f\"; type = "
	    "\"webhook\"; path = \"/f\"; secret_file = \"push.secret\"; } );\n");
	ck_assert_msg(err && strstr(err, "needs listen"), "%s", err);
	free(err);
	err = load_errors("p2.conf", "listen = ( { port = 1; } );\n"
	    "sources = ( { name = \"t\"; type = "
	    "\"twilio\"; path = \"/t\"; secret_file = \"push.secret\"; } );\n");
	ck_assert_msg(err && strstr(err, "twilio needs public_url"), "%s", err);
	free(err);
	err = load_errors("p3.conf", "listen = ( { port = 1; } );\n"
	    "sources = ( { name = \"w\"; type = "
	    "\"whatsapp\"; path = \"/w\"; secret_file = \"push.secret\"; } );\n");
	ck_assert_msg(err && strstr(err, "whatsapp needs verify_token_file"),
	    "%s", err);
	free(err);
	err = load_errors("p4.conf", "listen = ( { port = 1; } );\n"
	    "sources = ( { name = \"a\"; type = "
	    "\"webhook\"; path = \"/f\"; secret_file = \"push.secret\"; },\n"
	    "{ name = \"b\"; type = \"webhook\"; path = \"/f\"; "
	    "secret_file = \"push.secret\"; } );\n");
	ck_assert_msg(err && strstr(err, "path /f used twice"), "%s", err);
	free(err);
	err = load_errors("p5.conf", "sources = ( { name = \"a\"; type = "
	    "\"webhook\"; path = \"f?x\"; } );\n");
	ck_assert_msg(err && strstr(err, "path starting with /") &&
	    strstr(err, "needs secret_file"), "%s", err);
	free(err);
	err = load_errors("p6.conf", "listen = ( { address = \"localhost\"; "
	    "port = 8025; } );\n");
	ck_assert_msg(err && strstr(err, "not an IPv4 or IPv6 address"), "%s",
	    err);
	free(err);
	err = load_errors("p7.conf", "listen = ( { address = \"::1\"; } );\n");
	ck_assert_msg(err && strstr(err, "listen needs port"), "%s", err);
	free(err);
	/* a secret others can read is refused */
	ck_assert_int_eq(chmod(sec, 0644), 0);
	err = load_errors("p8.conf", "listen = ( { port = 1; } );\n"
	    "sources = ( { name = \"f\"; type = "
	    "\"webhook\"; path = \"/f\"; secret_file = \"push.secret\"; } );\n");
	if (err == NULL) {
		struct config c;
		char *p = write_conf("p8.conf", "listen = ( { port = 1; } );\n"
		    "sources = ( { name = \"f\"; "
		    "type = \"webhook\"; path = \"/f\"; secret_file = "
		    "\"push.secret\"; } );\n");

		ck_assert_int_eq(config_load(p, 0, &c, &err), 0);
		ck_assert_int_eq(config_check_secrets(&c, &err), -1);
		ck_assert_ptr_nonnull(strstr(err, "secret_file"));
		config_free(&c);
		free(p);
	}
	free(err);
	free(sec);
}
END_TEST

START_TEST(test_hours_close_before_open)
{
	char *err;

	err = load_errors("h.conf", "business_hours = { mon = [\"19:00\", "
	    "\"09:00\"]; tue = [\"09:00\", \"19:00\"]; };\n");
	ck_assert_msg(err != NULL && strstr(err, ":1: business_hours.mon: "
	    "closes at or before it opens"), "got: %s", err ? err : "(none)");
	free(err);
	err = load_errors("h2.conf", "business_hours = { mon = [\"09:00\", "
	    "\"09:00\"]; tue = [\"09:00\", \"19:00\"]; };\n");
	ck_assert_msg(err != NULL, "an empty day accepted");
	free(err);
}
END_TEST

START_TEST(test_fixed_zone_refused)
{
	char *err;

	err = load_errors("z.conf", "timezone = \"EST\";\n");
	ck_assert_msg(err != NULL && strstr(err, "not an Area/City zone"),
	    "got: %s", err ? err : "(none)");
	free(err);
	err = load_errors("z2.conf", "timezone = \"Etc/GMT+5\";\n");
	ck_assert_msg(err != NULL && strstr(err, "not an Area/City zone"),
	    "got: %s", err ? err : "(none)");
	free(err);
	err = load_errors("z3.conf", "timezone = \"EST\";\n"
	    "allow_fixed_zone = true;\n");
	ck_assert_msg(err == NULL, "allow_fixed_zone ignored: %s", err);
	err = load_errors("z4.conf", "timezone = \"America/Chicago\";\n");
	ck_assert_msg(err == NULL, "Area/City refused: %s", err);
}
END_TEST

/* --check-config and connecting apply one rule to a secret's mode. */
START_TEST(test_check_secrets)
{
	struct config c;
	char *err = NULL, *p, *pw;

	pw = write_conf("cs.pw", "x\n");
	p = write_conf("cs.conf", "sources = ( { name = \"m\"; type = \"imap\"; "
	    "host = \"localhost\"; tls = \"none\"; user = \"u\"; "
	    "password_file = \"cs.pw\"; } );\n");
	ck_assert_int_eq(config_load(p, 0, &c, &err), 0);
	chmod(pw, 0644);
	ck_assert_int_eq(config_check_secrets(&c, &err), -1);
	ck_assert_msg(strstr(err, "password_file: ") && strstr(err,
	    "readable by others"), "got: %s", err);
	free(err);
	chmod(pw, 0620);
	ck_assert_int_eq(config_check_secrets(&c, &err), -1);
	free(err);
	chmod(pw, 0640);
	ck_assert_int_eq(config_check_secrets(&c, &err), 0);
	ck_assert_ptr_null(err);
	config_free(&c);
	free(p);
	free(pw);
}
END_TEST

/*
 * The table's ranges, every integer row: just outside either end is an
 * error naming the file, the line and the range; the ends themselves load.
 */
static char *
range_conf(const struct conf_key *k, long long v)
{
	const char *suffix = v > 2147483647LL || v < -2147483647LL ? "L" : "";

	if (strcmp(k->section, "") == 0)
		return xasprintf("\n%s = %lld%s;\n", k->name, v, suffix);
	if (strcmp(k->section, "listen") == 0)
		return xasprintf("listen = ( { %s\n%s = %lld%s; } );\n",
		    strcmp(k->name, "port") ? "port = 8025;" : "", k->name, v,
		    suffix);
	if (strcmp(k->section, "sources") == 0 && k->types == ST(SOURCE_IMAP))
		return xasprintf("sources = ( { name = \"m\"; type = \"imap\"; "
		    "host = \"127.0.0.1\"; user = \"u\"; auth = \"xoauth2\"; "
		    "token_command = \"true\";\n%s = %lld%s; } );\n", k->name, v,
		    suffix);
	if (strcmp(k->section, "sources") == 0)
		return xasprintf("sources = ( { name = \"m\"; type = \"maildir\"; "
		    "path = \"m\";\n%s = %lld%s; } );\n", k->name, v, suffix);
	if (strcmp(k->section, "escalation") == 0)
		return xasprintf("escalation = ( { after = \"breach\"; notify = "
		    "\"oncall\"; }, { notify = \"oncall\";\n%s = %lld%s; } );\n",
		    k->name, v, suffix);
	return xasprintf("%s = {\n%s = %lld%s; };\n", k->section, k->name, v,
	    suffix);
}

START_TEST(test_table_ranges)
{
	size_t i, checked = 0;

	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		long long bad[2] = { k->min - 1, k->max + 1 };
		char *text, *err, *want, *doc;
		int j;

		if (k->type != CT_INT && k->type != CT_SIZE)
			continue;
		/* sla: the breach must not be less than the response */
		if (strcmp(k->section, "sla") == 0)
			continue;
		doc = conf_key_docname(k);
		for (j = 0; j < 2; j++) {
			text = range_conf(k, bad[j]);
			err = load_errors("range.conf", text);
			ck_assert_msg(err != NULL, "%s = %lld loaded", doc, bad[j]);
			want = xasprintf("range.conf:2: ");
			ck_assert_msg(strstr(err, want) != NULL, "%s: %s", doc, err);
			free(want);
			want = xasprintf("%s must be between %lld and %lld", k->name,
			    k->min, k->max);
			ck_assert_msg(strstr(err, want) != NULL, "%s: %s", doc, err);
			free(want);
			free(err);
			free(text);
		}
		text = range_conf(k, k->max);
		err = load_errors("range.conf", text);
		ck_assert_msg(err == NULL, "%s = %lld refused: %s", doc, k->max, err);
		free(text);
		checked++;
		free(doc);
	}
	ck_assert_uint_ge(checked, 20);
	/* and the sla ones, which need their pair */
	{
		char *err = load_errors("range.conf", "sla = {\n"
		    "urgent_response_minutes = 0; };\n");

		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_nonnull(strstr(err, "range.conf:2: sla."
		    "urgent_response_minutes must be between 1 and 100000"));
		free(err);
	}
}
END_TEST

/* Enums: a value not among the choices names them, word for word as
 * before the table; the choices load and land as the enum's values. */
START_TEST(test_table_enums)
{
	char *err, *pw, *conf;
	struct config c;

	err = load_errors("enum.conf", "\nlog_level = \"loud\";\n");
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "enum.conf:2: log_level must be one of err, "
	    "warning, notice, info, debug") != NULL, "got: %s", err);
	free(err);
	err = load_errors("enum.conf", "log_level = 3;\n");
	ck_assert_msg(err && strstr(err, "log_level must be a string"),
	    "got: %s", err);
	free(err);
	pw = write_conf("enum.pw", "pw\n");
	chmod(pw, 0600);
	conf = xasprintf("sources = ( { name = \"m\"; type = \"imap\"; "
	    "host = \"127.0.0.1\"; user = \"u\"; password_file = \"%s\";\n"
	    "tls = \"ssl\";\nauth = \"plain\"; } );\n", pw);
	err = load_errors("enum.conf", conf);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "enum.conf:2: source 'm': tls must be "
	    "\"implicit\", \"starttls\" or \"none\"") != NULL, "got: %s", err);
	ck_assert_msg(strstr(err, "enum.conf:3: source 'm': auth must be "
	    "\"login\", \"xoauth2\" or \"oauthbearer\"") != NULL, "got: %s", err);
	free(err);
	free(conf);
	conf = xasprintf("sources = ( { name = \"m\"; type = \"imap\"; "
	    "host = \"127.0.0.1\"; user = \"u\"; password_file = \"%s\"; "
	    "tls = \"starttls\"; } );\nlog_level = \"warning\";\n", pw);
	free(write_conf("enum.conf", conf));
	{
		char *p = xasprintf("%s/enum.conf", dir);

		ck_assert_msg(config_load(p, 0, &c, &err) == 0, "%s", err);
		ck_assert_int_eq(c.sources[0].tls, IMAP_TLS_STARTTLS);
		ck_assert_int_eq(c.sources[0].port, 143);
		ck_assert_int_eq(c.sources[0].auth, IMAP_AUTH_LOGIN);
		ck_assert_int_eq(c.log_level, LOG_PRI_WARNING);
		config_free(&c);
		free(p);
	}
	free(conf);
	free(pw);
}
END_TEST

/* Every row with a default: config_defaults() sets it (the table is the
 * one place of the defaults). */
START_TEST(test_table_defaults)
{
	struct config c;
	struct source_config src;
	size_t i;

	config_defaults(&c);
	memset(&src, 0, sizeof(src));
	conf_defaults("sources", &src);
	ck_assert_int_eq(c.max_headers, 1000);
	ck_assert_uint_eq(c.max_message_bytes, 52428800);
	ck_assert_uint_eq(c.listen_max_body, 1048576);
	ck_assert_int_eq(c.log_level, LOG_PRI_INFO);
	ck_assert_int_eq(c.holidays_federal, 1);
	ck_assert_str_eq(c.database, "/var/lib/intake/intake.db");
	ck_assert_int_eq(src.poll_interval, 60);
	ck_assert_int_eq(src.tls_verify, 1);
	ck_assert_int_eq(src.idle, 1);
	ck_assert_str_eq(src.mailbox, "INBOX");
	for (i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *base = strcmp(k->section, "sources") == 0 ?
		    (const char *)&src : (const char *)&c;

		if (k->def == NULL || k->off == CONF_NOFF ||
		    (!conf_in_config(k) && base != (const char *)&src))
			continue;
		if (k->type == CT_INT)
			ck_assert_int_eq(*(const int *)(base + k->off),
			    strtoll(k->def, NULL, 10));
		else if (k->type == CT_SIZE)
			ck_assert_uint_eq(*(const size_t *)(base + k->off),
			    strtoull(k->def, NULL, 10));
	}
	free(src.mailbox);
	config_free(&c);
}
END_TEST

static char *
dump_of(const struct config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(config_dump(c, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* The dump, loaded again (without the secret files, which it does not
 * name), dumps the same text. */
static void
check_round_trip(const char *dump, const char *name)
{
	struct config c;
	char *p, *err = NULL, *again;

	p = write_conf(name, dump);
	ck_assert_msg(config_load_flags(p, 0, &c, &err) == 0,
	    "the dump does not load:\n%s\n%s", err, dump);
	again = dump_of(&c);
	ck_assert_msg(strcmp(dump, again) == 0, "dump changed on reading "
	    "back:\n--- first\n%s--- again\n%s", dump, again);
	free(again);
	config_free(&c);
	free(p);
}

START_TEST(test_dump_round_trip)
{
	struct config c;
	char *p, *err = NULL, *dump, *pw, *tok, *ics;

	pw = write_conf("dump-imap.pass", "hunter2-imap\n");
	tok = write_conf("dump-smtp.pass", "hunter2-smtp\n");
	chmod(pw, 0600);
	chmod(tok, 0600);
	ics = write_conf("dump.ics", "BEGIN:VCALENDAR\nEND:VCALENDAR\n");
	/* the built-in defaults */
	ck_assert_int_eq(config_load("/nonexistent/intake.conf", 1, &c, &err), 0);
	dump = dump_of(&c);
	ck_assert_ptr_nonnull(strstr(dump, "\nlimits = {\n  max_message_bytes = "
	    "52428800;\n"));
	check_round_trip(dump, "dump-defaults.conf");
	free(dump);
	config_free(&c);
	/* a file with every kind of section */
	p = write_conf("dump.conf",
	    "database = \"var/x.db\";\n"
	    "timezone = \"UTC\"; allow_fixed_zone = true;\n"
	    "business_hours = { sat = [\"10:00\", \"24:00\"]; };\n"
	    "holidays = { federal = false; extra = [\"2026-12-24\", \"2026-12-31\"];"
	    " ics = \"dump.ics\"; };\n"
	    "sla = { urgent_response_minutes = 5; tip_meetings = [\"tue 09:05\"]; };\n"
	    "sources = (\n"
	    " { name = \"a \\\"quoted\\\" name\"; type = \"imap\"; host = \"::1\";\n"
	    "   tls = \"none\"; user = \"u\\\\v\"; password_file = \"dump-imap.pass\";\n"
	    "   after = \"move:Done/ok\"; idle = false; port = 1143; },\n"
	    " { name = \"oauth\"; type = \"imap\"; host = \"imap.example.org\";\n"
	    "   user = \"u\"; auth = \"xoauth2\";\n"
	    "   token_command = \"echo hunter2-token\"; pin_sha256 = \""
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"; },\n"
	    " { name = \"md\"; type = \"maildir\"; path = \"mail\"; poll_interval = 7; },\n"
	    " { name = \"hook\"; type = \"webhook\"; path = \"/form\";\n"
	    "   secret_file = \"dump-imap.pass\"; }\n"
	    ");\n"
	    "listen = ( { port = 8025; max_body_bytes = 4096; } );\n"
	    "limits = { max_message_bytes = 2147483648L; };\n"
	    "alerts = { to = [\"a@example.org\"]; include_excerpt = true; };\n"
	    "smtp = { url = \"smtps://smtp.example.org\"; password_file = \"dump-smtp.pass\";\n"
	    "         from = \"Hotline \\\"24/7\\\" <h@example.org>\"; };\n"
	    "remind = { at = [\"07:00\"]; webhook = \"https://r.example.org/\"; };\n"
	    "escalation = ( { after = \"response_due\"; notify = [\"x@example.org\"]; },\n"
	    "               { repeat_minutes = 15; notify = \"escalation\"; } );\n"
	    "oncall = { reply_to = \"in@example.org\";\n"
	    "  people = ( { name = \"maria\"; webhook = \"https://p.example.org/m\"; } ); };\n"
	    "triage = { model = \"none\"; };\n"
	    "ack = { enabled = true; from = \"ack@example.org\"; };\n"
	    "retention = { closed_days = 30; };\n"
	    "log_level = \"debug\";\n");
	ck_assert_msg(config_load(p, 0, &c, &err) == 0, "errors: %s", err);
	dump = dump_of(&c);
	/* secrets: neither the files nor the command, nor what they hold */
	ck_assert_msg(strstr(dump, "dump-imap.pass") == NULL, "%s", dump);
	ck_assert_msg(strstr(dump, "dump-smtp.pass") == NULL, "%s", dump);
	ck_assert_msg(strstr(dump, "hunter2") == NULL, "%s", dump);
	ck_assert_ptr_nonnull(strstr(dump, "    password_file = \"<file>\";\n"));
	ck_assert_ptr_nonnull(strstr(dump, "    token_command = \"<command>\";\n"));
	ck_assert_ptr_nonnull(strstr(dump, "    secret_file = \"<file>\";\n"));
	ck_assert_ptr_nonnull(strstr(dump, "\n  password_file = \"<file>\";\n"));
	/* effective values: defaults filled in, paths resolved */
	ck_assert_ptr_nonnull(strstr(dump, "\n    port = 1143;\n"));
	ck_assert_ptr_nonnull(strstr(dump, "\n    port = 993;\n"));
	ck_assert_ptr_nonnull(strstr(dump, "\n    mailbox = \"INBOX\";\n"));
	ck_assert_ptr_nonnull(strstr(dump, "\n  max_message_bytes = 2147483648L;\n"));
	ck_assert_ptr_nonnull(strstr(dump, "\n    after = \"move:Done/ok\";\n"));
	ck_assert_ptr_nonnull(strstr(dump, "\n  sat = [\"10:00\", \"24:00\"];\n"));
	ck_assert_ptr_nonnull(strstr(dump, "\nallow_fixed_zone = true;\n"));
	ck_assert_ptr_nonnull(strstr(dump, "\n  from = \"Hotline \\\"24/7\\\" "
	    "<h@example.org>\";\n"));
	{
		char *want = xasprintf("database = \"%s/var/x.db\";\n", dir);

		ck_assert_msg(strncmp(dump, want, strlen(want)) == 0, "%s", dump);
		free(want);
	}
	check_round_trip(dump, "dump-again.conf");
	free(dump);
	config_free(&c);
	free(p);
	free(pw);
	free(tok);
	free(ics);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_defaults_when_missing);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_errors_have_lines);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_inline_password_refused);
	tcase_add_test(tc, test_secret_file_mode);
	tcase_add_test(tc, test_tls_none_needs_loopback_address);
	tcase_add_test(tc, test_push_sources);
	tcase_add_test(tc, test_hours_close_before_open);
	tcase_add_test(tc, test_fixed_zone_refused);
	tcase_add_test(tc, test_check_secrets);
	tcase_add_test(tc, test_table_ranges);
	tcase_add_test(tc, test_table_enums);
	tcase_add_test(tc, test_table_defaults);
	tcase_add_test(tc, test_dump_round_trip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
