/* SPDX-License-Identifier: MIT */
/* test_tag.c: keyed subject tags (tag.h): the key file, the format, and
 * that only a tag whose MAC verifies names a ticket. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tag.h"
#include "util.h"

#include "../../daemon/tag_p.h"

static char dir[] = "/tmp/intake-tagtest-XXXXXX";
static struct config cfg;

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xasprintf("%s/intake.db", dir);
}

static void
teardown(void)
{
	char *path = tag_key_path(&cfg);

	unlink(path);
	free(path);
	rmdir(dir);
	config_free(&cfg);
}

START_TEST(test_tag_roundtrip)
{
	char tag[TAG_MAX], subj[128], *err = NULL, *path;
	struct stat sb;
	long long n;

	ck_assert_msg(tag_key_init(&cfg, &err) == 0, "%s", err);
	path = tag_key_path(&cfg);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sb.st_size, TAG_KEY_BYTES);
	free(path);

	tag_format(&cfg, 42, tag, sizeof(tag));
	ck_assert_int_eq(strncmp(tag, "[intake #42-", 12), 0);
	ck_assert_uint_eq(strlen(tag), 12 + TAG_MAC_CHARS + 1);
	snprintf(subj, sizeof(subj), "Re: Re: %s We received your message", tag);
	ck_assert_int_eq(tag_find(&cfg, subj), 42);
	/* Upper case (some clients rewrite it) still verifies. */
	for (n = 12; tag[n] != ']'; n++)
		if (tag[n] >= 'a' && tag[n] <= 'z')
			tag[n] = (char)(tag[n] - 'a' + 'A');
	ck_assert_int_eq(tag_find(&cfg, tag), 42);

	/* Plain, forged, another ticket's MAC, truncated, longer: nothing. */
	ck_assert_int_eq(tag_find(&cfg, "[intake #42] hello"), 0);
	ck_assert_int_eq(tag_find(&cfg, "[intake #42-aaaaaaaa]"), 0);
	tag_format(&cfg, 43, tag, sizeof(tag));
	memcpy(subj, "[intake #42-", 12);
	memcpy(subj + 12, tag + 12, TAG_MAC_CHARS + 2);
	ck_assert_int_eq(tag_find(&cfg, subj), 0);
	subj[12 + TAG_MAC_CHARS - 1] = ']';
	subj[12 + TAG_MAC_CHARS] = '\0';
	ck_assert_int_eq(tag_find(&cfg, subj), 0);
	ck_assert_int_eq(tag_find(&cfg, "[intake #-1-aaaaaaaa]"), 0);
	ck_assert_int_eq(tag_find(&cfg, "[intake #"), 0);
	ck_assert_int_eq(tag_find(&cfg, NULL), 0);
	/* A forged tag beside a real one: the real one counts. */
	tag_format(&cfg, 7, tag, sizeof(tag));
	snprintf(subj, sizeof(subj), "[intake #9-aaaaaaaa] %s", tag);
	ck_assert_int_eq(tag_find(&cfg, subj), 7);
}
END_TEST

START_TEST(test_tag_key_path)
{
	char *path = tag_key_path(&cfg);

	ck_assert_int_eq(strcmp(path + strlen(path) - 8, "/tag.key"), 0);
	free(path);
}
END_TEST

/* A PostgreSQL database is no directory: a URI's user:password@ must never
 * become part of a path shown in an error; tag_key_file wins. */
START_TEST(test_tag_key_path_pg)
{
	struct config c = cfg;
	char *path;

	c.database = "postgresql://intaked:s3cret@db1/intake";
	c.tag_key_file = NULL;
	path = tag_key_path(&c);
	ck_assert_str_eq(path, TAG_KEY_PG_DEFAULT);
	free(path);
	c.tag_key_file = "/etc/intake/tag.key";
	path = tag_key_path(&c);
	ck_assert_str_eq(path, "/etc/intake/tag.key");
	free(path);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("tag");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tag_roundtrip);
	tcase_add_test(tc, test_tag_key_path);
	tcase_add_test(tc, test_tag_key_path_pg);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
