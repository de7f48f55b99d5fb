/* SPDX-License-Identifier: MIT */
/*
 * intaked: the intake service.  One loop over the configured sources; a
 * source's failure never stops the others.  Runs in the foreground under
 * systemd (Type=notify) or once for cron (--once).
 *
 * Signals only set flags (the daemon's only global mutable state) and wake
 * the loop through a self-pipe; all work happens in the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "calendar.h"
#include "config.h"
#include "conftab.h"
#include "escalate.h"
#include "health.h"
#include "ingest.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "oauth.h"
#include "tokencmd.h"
#include "outbox.h"
#include "parsechild.h"
#include "remind.h"
#include "rota.h"
#include "source.h"
#include "store.h"
#include "tag.h"
#include "triage.h"
#include "util.h"

#define BACKOFF_MIN	1
#define BACKOFF_MAX	300
#define AUTH_RETRY	300
#define BATCH		100	/* messages per commit (IMAP: also <= 4 MiB) */
#define OUTBOX_MAX	100

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_reload;
static int wake_pipe[2] = { -1, -1 };

/* Everything the service holds; replaced whole on reload. */
struct service {
	struct config	 cfg;
	struct calendar	*cal;
	struct lexicon	*lex;
	struct store	*store;
	struct source	*sources;
	size_t		 nsources;
	int		*parse_error_run;	/* per source */
	struct parsechild *parser;	/* NULL: parse in process (--no-sandbox) */
	struct listener	*listener;	/* the webhook listener, or NULL */
	time_t		 heartbeat;	/* push sources' last, source_clock() */
	struct rota	*rota;		/* NULL: "oncall" pages alerts.to */
	char		*rota_err;	/* why oncall.rota was refused */
	int		 stages;	/* --stages: print each poll's stages */
};

struct options {
	const char	*config;
	int		 check_only;
	int		 dump_config;
	int		 once;
	int		 debug;
	int		 no_sandbox;
	int		 stages;
};

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_stop = 1;
	if (wake_pipe[1] != -1)
		(void)!write(wake_pipe[1], "", 1);
	errno = saved;
}

static void
setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatalx(EX_OSERR, "pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* libetpan writes with send() without MSG_NOSIGNAL. */
	signal(SIGPIPE, SIG_IGN);
}

/*
 * No core dumps, ever: a watchdog SIGABRT or a crash would otherwise write
 * the process image (message text, IMAP and SMTP passwords, tokens) to a
 * core file or to systemd-coredump.  Not dumpable also keeps other
 * processes of the same user from ptrace and /proc/PID/mem.  The parser
 * child inherits RLIMIT_CORE 0 (and sets it again itself, parsechild.c).
 */
static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warning("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		log_warning("setrlimit(RLIMIT_CORE): %s", strerror(errno));
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: intaked [-c FILE] [--once] [--check-config] [--dump-config] [-d] [--stages]\n"
	    "  -c, --config FILE   configuration (default $INTAKE_CONFIG, else %s)\n"
	    "      --check-config  validate the configuration and exit (0 or 78)\n"
	    "      --dump-config   print the effective configuration (secrets hidden)\n"
	    "      --once          poll every source once, deliver the outbox, exit\n"
	    "  -d, --debug         log at debug level\n"
	    "      --no-sandbox    parse in process (sanitizer and valgrind runs)\n"
	    "      --stages        print where each poll's time went (stdout)\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       print the version\n"
	    "Exit: 0 ok, 64 usage, 75 temporary failure (retry), 78 configuration.\n"
	    "See intaked(8).\n", CONFIG_DEFAULT_PATH);
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "dump-config", no_argument, NULL, 'D' },
		{ "once", no_argument, NULL, '1' },
		{ "debug", no_argument, NULL, 'd' },
		{ "no-sandbox", no_argument, NULL, 'S' },
		{ "stages", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:dhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 'D':
			o->dump_config = 1;
			break;
		case '1':
			o->once = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'S':
			o->no_sandbox = 1;
			break;
		case 's':
			o->stages = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("intaked %s\n", INTAKE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void
service_free(struct service *sv)
{
	size_t i;

	/* first: its thread reads the configuration freed below */
	listener_stop(sv->listener);
	for (i = 0; i < sv->nsources; i++)
		source_close(&sv->sources[i]);
	free(sv->sources);
	free(sv->parse_error_run);
	parsechild_stop(sv->parser);
	rota_free(sv->rota);
	free(sv->rota_err);
	store_close(sv->store);
	lexicon_free(sv->lex);
	calendar_free(sv->cal);
	config_free(&sv->cfg);
	memset(sv, 0, sizeof(*sv));
}

/*
 * Build a complete service from the configuration file: every part must
 * load, or nothing replaces what runs.  Returns 0, or the exit code.
 */
/* --check-config: every oauth = { } or token_command source can get an
 * access token now (the token itself stays in memory and is not shown). */
static int
check_oauth(const struct config *cfg)
{
	char *tok, *err = NULL;
	size_t i;
	int bad = 0;

	for (i = 0; i < cfg->nsources; i++) {
		const struct source_config *s = &cfg->sources[i];

		/* a token_command as source_imap.c would use it: after
		 * oauth and token_file */
		if (s->oauth == NULL && (s->type != SOURCE_IMAP ||
		    s->auth == IMAP_AUTH_LOGIN || s->token_file != NULL ||
		    s->token_command == NULL))
			continue;
		if ((s->oauth ? oauth_access_token(s->oauth, s->timeout, 0, &tok,
		    &err) : tokencmd_run(s->token_command, s->timeout, &tok,
		    &err)) == -1) {
			log_err("source %s: no access token: %s", s->name, err);
			free(err);
			err = NULL;
			bad = 1;
			continue;
		}
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	return bad ? -1 : 0;
}

static int
service_load(struct service *sv, const struct options *o, const char *path,
    struct store *reuse)
{
	char err[1024], *errors = NULL, *serr = NULL;
	size_t i;
	int rc;

	memset(sv, 0, sizeof(*sv));
	if (config_load(path, 0, &sv->cfg, &errors) == -1) {
		char *line, *save = NULL;

		for (line = strtok_r(errors, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			log_err("%s", line);
		free(errors);
		return EX_CONFIG;
	}
	/* The rule the sources apply at connect time, told now: refused by
	 * --check-config; a running daemon only logs it (the other sources
	 * must not stop over one file's mode). */
	if (config_check_secrets(&sv->cfg, &errors) == -1) {
		char *line, *save = NULL;

		for (line = strtok_r(errors, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			log_err("%s", line);
		free(errors);
		if (o->check_only) {
			service_free(sv);
			return EX_CONFIG;
		}
	}
	if (calendar_set_zone(sv->cfg.timezone, err, sizeof(err)) == -1 ||
	    (sv->cal = calendar_new(&sv->cfg, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		service_free(sv);
		return EX_CONFIG;
	}
	snprintf(err, sizeof(err), "the built-in triage lexicon did not load");
	sv->lex = sv->cfg.triage_lexicon ? lexicon_load(sv->cfg.triage_lexicon,
	    err, sizeof(err)) : lexicon_builtin();
	if (sv->lex == NULL) {
		log_err("%s", err);
		service_free(sv);
		return EX_CONFIG;
	}
	/* a model that does not load costs accuracy, not mail */
	if (triage_model_attach(sv->lex, sv->cfg.triage_model, err,
	    sizeof(err)) != 0)
		log_warning("triage model %s; triaging with the rules alone",
		    err);
	/* The rota: refused by --check-config; a running daemon pages
	 * alerts.to (or keeps the last good rota, reload()) and says so. */
	if (sv->cfg.oncall_rota &&
	    (sv->rota = rota_load(&sv->cfg, &sv->rota_err)) == NULL) {
		char *line, *save = NULL, *copy = xstrdup(sv->rota_err);

		for (line = strtok_r(copy, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			log_err("oncall.rota: %s", line);
		free(copy);
		if (o->check_only) {
			service_free(sv);
			return EX_CONFIG;
		}
	}
	if (o->check_only && check_oauth(&sv->cfg) == -1) {
		service_free(sv);
		return EX_CONFIG;
	}
	if (o->check_only)
		return 0;
	if (reuse)
		sv->store = reuse;
	else {
		rc = store_open_config(&sv->cfg, 0, &sv->store, &serr);
		if (rc != STORE_OK) {
			log_err("database: %s", serr ? serr : "cannot open");
			free(serr);
			service_free(sv);
			return rc == STORE_TEMP ? EX_TEMPFAIL : EX_CONFIG;
		}
	}
	/* untrusted mail is parsed in a sandboxed child (parsechild.h) */
	if (!o->no_sandbox && getenv("INTAKE_NO_SANDBOX") == NULL &&
	    (sv->parser = parsechild_start(&serr)) == NULL) {
		log_err("%s", serr);
		free(serr);
		service_free(sv);
		return EX_TEMPFAIL;
	}
	sv->sources = xcalloc(sv->cfg.nsources + 1, sizeof(*sv->sources));
	sv->parse_error_run = xcalloc(sv->cfg.nsources + 1, sizeof(int));
	for (i = 0; i < sv->cfg.nsources; i++) {
		/* push sources are served by the listener, never polled */
		if (SOURCE_IS_PUSH(sv->cfg.sources[i].type))
			continue;
		if (source_init(&sv->sources[sv->nsources], &sv->cfg.sources[i],
		    &serr) == -1) {
			log_err("%s", serr);
			free(serr);
			service_free(sv);
			return EX_CONFIG;
		}
		/* staleness counts from here until a success */
		sv->sources[sv->nsources].last_ok = source_clock();
		sv->nsources++;
	}
	return 0;
}

static int
jitter(int secs)
{
	/* Up to a quarter more, so many sources don't retry in lockstep. */
	return secs + (secs >= 4 ? (int)((unsigned)rand() % (unsigned)(secs / 4)) : 0);
}

static void
queue_health(struct service *sv, const char *source, const char *problem,
    const char *detail)
{
	time_t now = time(NULL);

	if (store_begin(sv->store) != STORE_OK)
		return;
	if (outbox_queue_health(sv->store, &sv->cfg, source, problem, detail,
	    now) < 0 || store_commit(sv->store) != STORE_OK)
		store_rollback(sv->store);
	log_warning("health alert queued: source %s: %s", source, problem);
}

static void
after_poll(struct service *sv, size_t i, int rc, const struct source_stats *st,
    const char *err, int once)
{
	struct source *src = &sv->sources[i];
	time_t now = source_clock();
	int wait;

	/* An engine source's successful poll may carry a note (a file that
	 * is not a message, a message that failed) for intake status. */
	srcstate_record_poll(sv->store, src->cfg->name, rc == SRC_OK,
	    rc == SRC_OK && src->drv == NULL ? NULL : err, st->waiting,
	    time(NULL));
	if (st->stored || st->duplicates)
		log_info("source %s: %d new, %d already stored, %d parse errors",
		    src->cfg->name, st->stored, st->duplicates, st->parse_errors);
	if (st->parse_errors) {
		sv->parse_error_run[i] += st->parse_errors;
		if (sv->parse_error_run[i] >= sv->cfg.alerts_parse_error_run) {
			queue_health(sv, src->cfg->name, "parse errors",
			    "a run of messages could not be parsed");
			sv->parse_error_run[i] = 0;
		}
	} else if (st->stored)
		sv->parse_error_run[i] = 0;
	if (rc == SRC_OK) {
		src->last_ok = now;
		src->failures = 0;
		src->backoff = 0;
		src->auth_alerted = 0;
		src->ops->wait_fd(src, &wait);
		src->next_poll = now + (wait > 0 ? wait : src->cfg->poll_interval);
		return;
	}
	src->failures++;
	if (rc == SRC_AUTH) {
		if (once)
			log_err("source %s: authentication failed: %s (--once: "
			    "not retried in this run)", src->cfg->name,
			    err ? err : "?");
		else
			log_err("source %s: authentication failed: %s (retrying "
			    "in %d s)", src->cfg->name, err ? err : "?",
			    AUTH_RETRY);
		if (!src->auth_alerted)
			queue_health(sv, src->cfg->name, "authentication failed", err);
		src->auth_alerted = 1;
		src->next_poll = now + AUTH_RETRY;
		return;
	}
	src->backoff = src->backoff ? src->backoff * 2 : BACKOFF_MIN;
	if (src->backoff > BACKOFF_MAX)
		src->backoff = BACKOFF_MAX;
	src->next_poll = now + jitter(src->backoff);
	if (once)
		log_warning("source %s: %s (--once: not retried in this run)",
		    src->cfg->name, err ? err : "failed");
	else
		log_warning("source %s: %s (retry in about %d s)",
		    src->cfg->name, err ? err : "failed", src->backoff);
}

/* Between the messages of a long fetch: keep systemd's watchdog fed. */
static void
feed_watchdog(void *arg)
{
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

/*
 * Crisis first (issue 19): the urgent tickets of a batch are alerted right
 * after its commit, not after the whole backlog behind them.  stored
 * collects the tickets that queued an alert; batch_done delivers their
 * alerts once the batch is committed, or forgets them when it rolled back
 * (its outbox rows are gone with it).  The rest of the outbox waits for
 * the end of the poll (deliver_outbox).  When nothing could be delivered
 * (the endpoint is down or slow) the poll stops trying, so a backlog is not
 * held up by a connect timeout per batch: the alerts wait for the end of
 * the poll and the outbox's retries as before.
 */
struct urgent_batch {
	struct service	*sv;
	long long	*v;
	size_t		 n, cap;
	int		 given_up;
};

static void
urgent_note(void *arg, const struct ingest_result *res)
{
	struct urgent_batch *ub = arg;

	if (!res->alerted || res->duplicate)
		return;
	if (ub->n == ub->cap) {
		ub->cap = ub->cap ? ub->cap * 2 : 8;
		ub->v = xreallocarray(ub->v, ub->cap, sizeof(*ub->v));
	}
	ub->v[ub->n++] = res->ticket;
}

static void
urgent_deliver(void *arg, int committed)
{
	struct urgent_batch *ub = arg;
	struct service *sv = ub->sv;

	if (committed && ub->n > 0 && !ub->given_up &&
	    notify_deliver_tickets(sv->store, &sv->cfg, time(NULL), ub->v,
	    ub->n) <= 0) {
		log_warning("outbox: urgent alerts not delivered: left for the "
		    "end of the poll");
		ub->given_up = 1;
	}
	ub->n = 0;
}

/*
 * Where one poll's time went (ingest.h): at debug level, and on standard
 * output with --stages (the bench reads it).  One line; no message data.
 */
static void
report_stages(const struct service *sv, const struct source *src,
    const struct source_stats *st, const struct ingest_times *t,
    const struct parsechild_times *p0, long long start)
{
	struct parsechild_times p1;
	struct buf b;
	int i;

	if (!sv->stages && log_level() < LOG_PRI_DEBUG)
		return;
	buf_init(&b, 0);
	buf_addf(&b, "stages: source %s: %d messages in %.1f ms:",
	    src->cfg->name, st->fetched, (double)(ingest_times_now() - start) /
	    1e6);
	for (i = 0; i < STAGE_NSTAGES; i++)
		buf_addf(&b, "%s %s %.1f ms/%ld", i ? "," : "",
		    ingest_stage_name(i), (double)t->ns[i] / 1e6, t->n[i]);
	if (sv->parser) {
		parsechild_times(sv->parser, &p1);
		buf_addf(&b, "; parser child: send %.1f ms, wait %.1f ms, "
		    "receive %.1f ms, child cpu %.1f ms over %ld",
		    (double)(p1.send_ns - p0->send_ns) / 1e6,
		    (double)(p1.wait_ns - p0->wait_ns) / 1e6,
		    (double)(p1.recv_ns - p0->recv_ns) / 1e6,
		    (double)(p1.child_cpu_ns - p0->child_cpu_ns) / 1e6,
		    p1.n - p0->n);
	}
	log_debug("%s", b.data);
	if (sv->stages) {
		printf("%s\n", b.data);
		fflush(stdout);
	}
	buf_free(&b);
}

/* budget_ms: the longest one batch may take (the watchdog), 0 none. */
static int
poll_source(struct service *sv, size_t i, int once, long budget_ms)
{
	struct source *src = &sv->sources[i];
	struct source_stats st;
	struct source_run run;
	struct ingest_ctx ictx;
	struct ingest_times times;
	struct parsechild_times pt;
	struct urgent_batch ub;
	long long start = ingest_times_now();
	char *err = NULL;
	int rc;

	memset(&st, 0, sizeof(st));
	st.waiting = -1;
	memset(&times, 0, sizeof(times));
	memset(&ub, 0, sizeof(ub));
	ub.sv = sv;
	parsechild_times(sv->parser, &pt);
	ingest_ctx_init(&ictx, &sv->cfg, sv->cal, sv->lex, sv->store);
	ictx.actor = "intaked";
	ictx.times = &times;
	ictx.rota = sv->rota;
	if (sv->parser) {
		ictx.parse = parsechild_parse;
		ictx.parse_arg = sv->parser;
	}
	run.ictx = &ictx;
	run.stop = &got_stop;
	run.batch = BATCH;
	run.once = once;
	run.progress = feed_watchdog;
	run.progress_arg = NULL;
	run.budget_ms = budget_ms;
	run.clock_ms = NULL;
	run.stored = urgent_note;
	run.stored_arg = &ub;
	run.batch_done = urgent_deliver;
	run.batch_done_arg = &ub;
	rc = src->ops->poll(src, &run, &st, &err);
	free(ub.v);
	report_stages(sv, src, &st, &times, &pt, start);
	after_poll(sv, i, rc, &st, err, once);
	free(err);
	return rc;
}

/*
 * Sources with no success for alerts.source_stale_minutes: alert once per
 * outage (stale_alerted_at, cleared by the next success).  Counted on the
 * monotonic clock from the last success, or from the service's (re)start
 * for a source that has none yet, so a first failed poll is not "stale"
 * yet and a step of the wall clock neither hides nor fakes an outage.
 */
static void
check_stale(struct service *sv)
{
	time_t mono = source_clock();
	size_t i;

	for (i = 0; i < sv->nsources; i++) {
		const char *name = sv->sources[i].cfg->name;

		if (sv->sources[i].failures == 0 || mono -
		    sv->sources[i].last_ok < sv->cfg.alerts_source_stale_minutes *
		    60)
			continue;
		if (health_mark_stale(sv->store, name, time(NULL)) == 1)
			queue_health(sv, name, "source stale",
			    "no successful poll within alerts.source_stale_minutes");
	}
}

/* A rota refused at start or reload: a health alert (the first line of
 * the error: FILE:LINE and what). */
static void
rota_health(struct service *sv)
{
	char *first;

	if (sv->rota_err == NULL)
		return;
	first = xstrndup(sv->rota_err, strcspn(sv->rota_err, "\n"));
	queue_health(sv, "oncall", sv->rota ? "rota refused on reload: "
	    "keeping the last good rota" : "rota refused: paging alerts.to",
	    first);
	free(first);
}

/*
 * Gaps in the rota within the next 7 days: a health alert "nobody on call
 * from A to B" for each, once per office day (oncall_gaps), so at start
 * and daily until it is filled or past.  Checked each round; cheap.
 */
#define GAP_DAYS	7
#define GAP_MAX		20
static void
check_rota_gaps(struct service *sv, time_t now)
{
	time_t from, to = now + GAP_DAYS * 86400, gs, ge;
	char a[40], b[40], day[16], *problem;
	struct tm tm;
	int n = 0, rc;

	if (sv->rota == NULL)
		return;
	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	/* From a fixed instant of the day (midnight a week ago), so a gap
	 * under way keeps its start, and its key, all day. */
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday -= GAP_DAYS;
	tm.tm_isdst = -1;
	from = mktime(&tm);
	while (n++ < GAP_MAX && from < to &&
	    rota_gap(sv->rota, from, to, &gs, &ge) == 1) {
		from = ge;
		if (ge <= now)
			continue;	/* past */
		if ((rc = health_gap_once(sv->store, gs, ge, day, now)) < 0)
			return;
		if (rc == 0)
			continue;	/* alerted today */
		iso8601_local(gs, a, sizeof(a));
		iso8601_local(ge, b, sizeof(b));
		problem = xasprintf("nobody on call from %s to %s", a, b);
		queue_health(sv, "oncall", problem, "escalations in this time "
		    "page alerts.to; fill the gap in oncall.rota");
		free(problem);
	}
}

/* The escalation's steps due now (escalate.h), then the outbox, so a step
 * goes out in the same round.  INTAKE_NOW sets the escalation's clock in
 * tests only (remind_now()). */
static void
deliver_outbox(struct service *sv)
{
	check_rota_gaps(sv, remind_now());
	if (escalate_run(sv->store, &sv->cfg, sv->rota, remind_now()) < 0)
		log_warning("escalation: retrying next round");
	notify_deliver_due(sv->store, &sv->cfg, time(NULL), OUTBOX_MAX);
}

static void
drain_wake_pipe(void)
{
	char buf[64];

	while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* Wait for the earliest due source, an IDLE notification or a signal. */
static void
wait_for_work(struct service *sv, int max_ms)
{
	struct pollfd *pfd;
	size_t i, n = 0, *who;
	time_t now = source_clock(), next = now + max_ms / 1000;
	int wait, fd, timeout;

	pfd = xcalloc(sv->nsources + 1, sizeof(*pfd));
	who = xcalloc(sv->nsources + 1, sizeof(*who));
	pfd[n].fd = wake_pipe[0];
	pfd[n++].events = POLLIN;
	for (i = 0; i < sv->nsources; i++) {
		struct source *src = &sv->sources[i];

		if (src->next_poll < next)
			next = src->next_poll;
		if (src->failures)
			continue;
		fd = src->ops->wait_fd(src, &wait);
		if (fd >= 0) {
			who[n] = i;
			pfd[n].fd = fd;
			pfd[n++].events = POLLIN;
		}
	}
	timeout = next > now ? (int)(next - now) * 1000 : 0;
	if (timeout > max_ms)
		timeout = max_ms;
	if (poll(pfd, (nfds_t)n, timeout) > 0) {
		if (pfd[0].revents)
			drain_wake_pipe();
		for (i = 1; i < n; i++)
			if (pfd[i].revents)
				sv->sources[who[i]].next_poll = 0;
	}
	free(pfd);
	free(who);
}

/*
 * The webhook listener of sv, when its configuration asks for one: 0, or
 * -1 (logged; the heartbeat tries again).
 */
static int
listener_up(struct service *sv)
{
	char *err = NULL;

	if (sv->listener || !listener_wanted(&sv->cfg))
		return 0;
	sv->listener = listener_start(&sv->cfg, sv->cal, sv->lex, sv->rota,
	    &err);
	if (sv->listener == NULL) {
		log_err("%s", err ? err : "listener: cannot start");
		free(err);
		return -1;
	}
	return 0;
}

/*
 * Push sources are never polled: while the listener runs, each is marked
 * polled successfully once a minute, so intake status tells a listener
 * that is down (stale) from a channel that is only quiet.
 */
static void
push_heartbeat(struct service *sv)
{
	time_t now = source_clock();
	size_t i;

	if (!listener_wanted(&sv->cfg) || now - sv->heartbeat < 60)
		return;
	sv->heartbeat = now;
	if (listener_up(sv) == -1)
		return;
	for (i = 0; i < sv->cfg.nsources; i++)
		if (SOURCE_IS_PUSH(sv->cfg.sources[i].type))
			srcstate_record_poll(sv->store, sv->cfg.sources[i].name, 1,
			    NULL, 0, time(NULL));
}

static void
reload(struct service *sv, const struct options *o, const char *path)
{
	struct service next;

	log_notice("reloading %s", path);
	/* The listener's thread reads the configuration and the zone that
	 * service_load() replaces: stopped first, started again after. */
	listener_stop(sv->listener);
	sv->listener = NULL;
	if (service_load(&next, o, path, NULL) != 0) {
		log_err("reload refused: keeping the running configuration");
		calendar_set_zone(sv->cfg.timezone, NULL, 0);
		sv->heartbeat = 0;
		push_heartbeat(sv);
		return;
	}
	if (next.rota == NULL && next.rota_err && sv->rota) {
		next.rota = sv->rota;
		sv->rota = NULL;
		log_err("oncall.rota refused: keeping the last good rota");
	}
	service_free(sv);
	*sv = next;
	push_heartbeat(sv);
	rota_health(sv);
	log_set_level(o->debug ? LOG_PRI_DEBUG : sv->cfg.log_level);
	sd_notify(0, "READY=1\nSTATUS=configuration reloaded");
	log_notice("configuration reloaded: %zu sources", sv->nsources);
}

static int
run_once(struct service *sv)
{
	size_t i;
	int rc, worst = 0;

	for (i = 0; i < sv->nsources && !got_stop; i++) {
		rc = poll_source(sv, i, 1, 0);
		if (rc != SRC_OK)
			worst = rc == SRC_FATAL || rc == SRC_AUTH ? EX_CONFIG :
			    EX_TEMPFAIL;
	}
	deliver_outbox(sv);
	return worst;
}

/*
 * The database file was replaced under the open connection (a backup
 * restored with `mv`; source.h SRC_REPLACED): nothing was marked.  Close
 * everything first, so SQLite checkpoints its WAL into the old file and
 * removes the -wal and -shm it shares by name with the new one, then load
 * the service again on the file now at the path.  -1: it does not load;
 * the caller exits EX_TEMPFAIL and systemd starts it again.
 */
static int
reopen(struct service *sv, const struct options *o, const char *path)
{
	char *db = xstrdup(sv->cfg.database), *msg = NULL;
	int rc;

	log_err("database %s was replaced while open: reopening it", db);
	service_free(sv);
	rc = store_set_aside_wal(db, &msg);
	if (msg)
		log_warning("database: %s", msg);
	free(msg);
	free(db);
	if (rc == -1 || service_load(sv, o, path, NULL) != 0) {
		log_err("database: reopening failed: exiting for a restart");
		return -1;
	}
	log_notice("database reopened: %zu sources", sv->nsources);
	return 0;
}

static int
run_loop(struct service *sv, const struct options *o, const char *path)
{
	uint64_t wd_usec = 0;
	int wd_ms = 0, max_ms, replaced;
	size_t i;

	if (sd_watchdog_enabled(0, &wd_usec) > 0)
		wd_ms = (int)(wd_usec / 2000);
	push_heartbeat(sv);
	sd_notifyf(0, "READY=1\nSTATUS=watching %zu sources", sv->nsources);
	while (!got_stop) {
		if (got_reload) {
			got_reload = 0;
			reload(sv, o, path);
		}
		replaced = 0;
		for (i = 0; i < sv->nsources && !got_stop && !replaced; i++)
			if (sv->sources[i].next_poll <= source_clock() &&
			    poll_source(sv, i, 0, (long)(wd_usec / 1000)) ==
			    SRC_REPLACED)
				replaced = 1;
		if (replaced && reopen(sv, o, path) == -1) {
			sd_notify(0, "STOPPING=1\nSTATUS=database replaced");
			return EX_TEMPFAIL;
		}
		if (got_stop)
			break;
		if (replaced)
			continue;	/* poll the sources again at once */
		deliver_outbox(sv);
		check_stale(sv);
		push_heartbeat(sv);
		if (wd_ms)
			sd_notify(0, "WATCHDOG=1");
		max_ms = wd_ms ? wd_ms : 30000;
		if (max_ms > 30000)
			max_ms = 30000;
		wait_for_work(sv, max_ms);
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	log_notice("stopping");
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct service sv;
	const char *path;
	char *tagerr = NULL, *shown;
	int rc;

	log_init("intaked", LOG_PRI_INFO);
	(void)log_capture_stray();
	no_core_dumps();
	if (parse_options(argc, argv, &o) == -1)
		return EX_USAGE;
	path = config_path_choose(o.config);
	if (o.debug)
		log_set_level(LOG_PRI_DEBUG);
	if (o.dump_config)
		return config_dump_main(path);
	setup_signals();
	srand((unsigned)(time(NULL) ^ getpid()));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = service_load(&sv, &o, path, NULL);
	if (rc != 0) {
		if (rc == EX_CONFIG)
			log_err("configuration %s refused", path);
		curl_global_cleanup();
		return rc;
	}
	if (o.check_only) {
		printf("%s: configuration OK\n", path);
		service_free(&sv);
		curl_global_cleanup();
		return 0;
	}
	/* The subject-tag key, created 0600 at first start (tag.h).  Without
	 * it replies still thread by In-Reply-To; tags are ignored. */
	if (tag_key_init(&sv.cfg, &tagerr) == -1) {
		log_err("subject tags: %s", tagerr);
		free(tagerr);
	}
	log_set_level(o.debug ? LOG_PRI_DEBUG : sv.cfg.log_level);
	sv.stages = o.stages;
	rota_health(&sv);
	shown = store_display_name(sv.cfg.database);
	log_notice("started: %zu sources, database %s", sv.nsources, shown);
	free(shown);
	rc = 0;
	if (o.once)
		rc = run_once(&sv);
	else if (listener_up(&sv) == -1)
		rc = EX_TEMPFAIL;	/* systemd restarts us */
	else
		rc = run_loop(&sv, &o, path);
	service_free(&sv);
	curl_global_cleanup();
	return rc;
}
