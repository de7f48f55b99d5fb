/* SPDX-License-Identifier: MIT */
/*
 * searchgen DB N: fills DB (created and migrated by store_open, so the
 * search triggers of 005 index every row as ingest would) with N tickets
 * of one message each, about 2 KB of text from a skewed vocabulary of
 * 30,000 made-up words, deterministic.  "passport" is in 3% of the
 * messages and "landlord" in 2% (both: about 0.06%), a phone number in
 * 10%.  For tests/bench/search.sh.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

#define VOCAB		30000
#define TEXT_BYTES	2000
#define BATCH		10000

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
unit(void)
{
	return (double)(next() >> 11) / (double)(1ull << 53);
}

static void
make_vocab(char **v)
{
	static const char *const syl[] = { "ka", "lo", "mi", "ne", "ru", "sa",
	    "ti", "vo", "ze", "ba", "do", "fe", "gu", "hi", "ja", "pe", "qu",
	    "ri", "so", "tu", "wa", "xi", "yo", "an", "el", "in", "or", "us" };
	struct buf w;
	size_t i, k, n;

	buf_init(&w, 0);
	for (i = 0; i < VOCAB; i++) {
		buf_reset(&w);
		n = 2 + next() % 3;
		for (k = 0; k < n; k++)
			buf_addstr(&w, syl[next() % NELEM(syl)]);
		/* a seventh of the words carry their number: never collide */
		if (i % 7 == 0)
			buf_addf(&w, "%zu", i);
		v[i] = xstrdup(w.data);
	}
	buf_free(&w);
}

static void
fill_text(struct buf *b, char **v)
{
	size_t idx;

	buf_reset(b);
	if (unit() < 0.03)
		buf_addstr(b, "they hold my passport ");
	while (b->len < TEXT_BYTES) {
		/* Zipf-like: rank ~ u^3 */
		idx = (size_t)(pow(unit(), 3.0) * VOCAB);
		buf_addstr(b, v[idx < VOCAB ? idx : VOCAB - 1]);
		buf_addc(b, next() % 12 == 0 ? '.' : ' ');
		if (next() % 60 == 0)
			buf_addc(b, '\n');
	}
	if (unit() < 0.02)
		buf_addstr(b, " the landlord takes the rent");
	if (unit() < 0.10)
		buf_addf(b, " call (555) %04u", (unsigned)(next() % 10000));
}

int
main(int argc, char **argv)
{
	unsigned long long n, i;
	struct store *st;
	sqlite3_stmt *t, *m;
	char *err = NULL, *vocab[VOCAB];
	struct buf text;
	long long now = 1764547200;	/* 2025-12-01 */

	if (argc != 3 || parse_uint(argv[2], 1, 100000000, &n) == -1) {
		fprintf(stderr, "usage: searchgen DB N\n");
		return 64;
	}
	if (store_open(argv[1], NULL, 60000, &st, &err) != STORE_OK) {
		fprintf(stderr, "searchgen: %s\n", err);
		return 1;
	}
	sqlite3_exec(store_db(st), "PRAGMA synchronous = OFF; "
	    "PRAGMA cache_size = -262144", NULL, NULL, NULL);
	make_vocab(vocab);
	if (sqlite3_prepare_v2(store_db(st), "INSERT INTO tickets (id, type, "
	    "urgency, status, disposition, received_at, sender, subject, "
	    "created_at, updated_at) VALUES (?1, 'tip', 'routine', 'closed', "
	    "'resolved', ?2, ?3, ?4, ?2, ?2)", -1, &t, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(store_db(st), "INSERT INTO messages (ticket_id, "
	    "source, sha256, raw, size, received_at, from_addr, subject, text, "
	    "parse_status, created_at) VALUES (?1, 'bench', 'x', 'x', ?3, ?2, "
	    "?4, ?5, ?6, 'ok', ?2)", -1, &m, NULL) != SQLITE_OK) {
		fprintf(stderr, "searchgen: %s\n", store_errmsg(st));
		return 1;
	}
	buf_init(&text, 0);
	for (i = 1; i <= n; i++) {
		char from[64], subj[96];

		if ((i - 1) % BATCH == 0 && store_begin(st) != STORE_OK)
			return 1;
		snprintf(from, sizeof(from), "%s@example.net", vocab[next() % VOCAB]);
		snprintf(subj, sizeof(subj), "%s %s", vocab[next() % 3000],
		    vocab[next() % VOCAB]);
		fill_text(&text, vocab);
		sqlite3_bind_int64(t, 1, (sqlite3_int64)i);
		sqlite3_bind_int64(t, 2, now - (long long)(n - i) * 30);
		sqlite3_bind_text(t, 3, from, -1, SQLITE_STATIC);
		sqlite3_bind_text(t, 4, subj, -1, SQLITE_STATIC);
		sqlite3_bind_int64(m, 1, (sqlite3_int64)i);
		sqlite3_bind_int64(m, 2, now - (long long)(n - i) * 30);
		sqlite3_bind_int64(m, 3, (sqlite3_int64)text.len);
		sqlite3_bind_text(m, 4, from, -1, SQLITE_STATIC);
		sqlite3_bind_text(m, 5, subj, -1, SQLITE_STATIC);
		sqlite3_bind_text(m, 6, text.data, (int)text.len, SQLITE_STATIC);
		if (sqlite3_step(t) != SQLITE_DONE || sqlite3_step(m) !=
		    SQLITE_DONE) {
			fprintf(stderr, "searchgen: %s\n", store_errmsg(st));
			return 1;
		}
		sqlite3_reset(t);
		sqlite3_reset(m);
		if (i % BATCH == 0 || i == n) {
			if (store_commit(st) != STORE_OK)
				return 1;
			if (i % 100000 == 0)
				fprintf(stderr, "searchgen: %llu\n", i);
		}
	}
	/* one segment, as a long-lived index settles to after merges */
	sqlite3_exec(store_db(st), "INSERT INTO search_messages "
	    "(search_messages) VALUES ('optimize')", NULL, NULL, NULL);
	sqlite3_finalize(t);
	sqlite3_finalize(m);
	buf_free(&text);
	for (i = 0; i < VOCAB; i++)
		free(vocab[i]);
	store_close(st);
	return 0;
}
