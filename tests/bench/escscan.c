/* SPDX-License-Identifier: MIT */
/*
 * escscan: the cost of intaked's escalation pass (escalate_run), which
 * runs every loop round.  Built by `make bench`, run by
 * tests/bench/escalation.sh on a database it builds.
 *
 *	escscan CONFIG ROUNDS
 *
 * ROUNDS 0 only creates (and migrates) the database.
 * The first pass takes the steps that are due (each its own transaction:
 * rows in escalations and outbox, an event) and is reported apart; then
 * ROUNDS passes with nothing left to take (the steady state of a daemon:
 * the scan over the partial index, and per due ticket the check that its
 * steps were taken) report the best and the median wall time.  Figures
 * only: nothing is asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "escalate.h"
#include "store.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct store *st;
	char *err = NULL, *end;
	double t0, *ms;
	time_t now = time(NULL);
	long rounds, i;
	int rc;

	if (argc != 3 || (rounds = strtol(argv[2], &end, 10)) < 0 ||
	    *end != '\0' || rounds > 1000) {
		fprintf(stderr, "usage: escscan CONFIG ROUNDS\n");
		return 64;
	}
	if (config_load_flags(argv[1], 0, &cfg, &err) == -1) {
		fprintf(stderr, "%s\n", err ? err : "config refused");
		return 78;
	}
	if (store_open(cfg.database, NULL, 5000, &st, &err) != STORE_OK) {
		fprintf(stderr, "escscan: %s\n", err ? err : "cannot open");
		return 74;
	}
	if (rounds == 0) {
		store_close(st);
		config_free(&cfg);
		return 0;
	}
	t0 = now_ms();
	rc = escalate_run(st, &cfg, NULL, now);
	printf("first pass: %d steps taken in %.1f ms (a transaction each)\n",
	    rc, now_ms() - t0);
	if (rc < 0)
		return 70;
	ms = calloc((size_t)rounds, sizeof(*ms));
	if (ms == NULL)
		return 71;
	for (i = 0; i < rounds; i++) {
		t0 = now_ms();
		rc = escalate_run(st, &cfg, NULL, now);
		ms[i] = now_ms() - t0;
		if (rc != 0) {
			fprintf(stderr, "escscan: pass %ld took %d steps\n", i, rc);
			return 70;
		}
	}
	qsort(ms, (size_t)rounds, sizeof(*ms), cmp_double);
	printf("steady pass (nothing to take): best %.2f ms, median %.2f ms "
	    "of %ld\n", ms[0], ms[rounds / 2], rounds);
	free(ms);
	store_close(st);
	config_free(&cfg);
	return 0;
}
