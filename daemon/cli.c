/* SPDX-License-Identifier: MIT */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calltype.h"
#include "cli.h"
#include "log.h"
#include "rota.h"
#include "util.h"

int
cli_env_open(struct cli_env *env, const char *cfg_path, int need)
{
	const char *path = config_path_choose(cfg_path);
	char err[1024], *errors = NULL, *serr = NULL;
	int must_exist = (need & (CLI_NEED_CONFIG | CLI_NEED_STORE |
	    CLI_NEED_STORE_RO)) != 0;
	int rc;

	memset(env, 0, sizeof(*env));
	if (config_load_flags(path, (must_exist ? 0 : CONFIG_ALLOW_MISSING) |
	    ((need & CLI_NEED_SECRETS) ? CONFIG_SECRETS : 0), &env->cfg,
	    &errors) == -1) {
		fprintf(stderr, "%s", errors);
		if (must_exist)
			fprintf(stderr, "intake: no usable configuration (looked "
			    "for %s; use -c FILE or INTAKE_CONFIG)\n", path);
		free(errors);
		return EX_CONFIG;
	}
	log_set_level(env->cfg.log_level < LOG_PRI_WARNING ?
	    env->cfg.log_level : LOG_PRI_WARNING);
	if (calendar_set_zone(env->cfg.timezone, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", path, err);
		cli_env_close(env);
		return EX_CONFIG;
	}
	if (need & CLI_NEED_CALENDAR) {
		env->cal = calendar_new(&env->cfg, err, sizeof(err));
		if (env->cal == NULL) {
			fprintf(stderr, "%s\n", err);
			cli_env_close(env);
			return EX_CONFIG;
		}
	}
	if (need & CLI_NEED_LEXICON) {
		if (env->cfg.triage_lexicon)
			env->lex = lexicon_load(env->cfg.triage_lexicon, err,
			    sizeof(err));
		else {
			snprintf(err, sizeof(err), "intake: the built-in triage "
			    "lexicon did not load (a build problem)");
			env->lex = lexicon_builtin();
		}
		if (env->lex == NULL) {
			fprintf(stderr, "%s\n", err);
			cli_env_close(env);
			return EX_CONFIG;
		}
		/* like the daemon: no model, the rules alone (not silently) */
		if (triage_model_attach(env->lex, env->cfg.triage_model, err,
		    sizeof(err)) != 0)
			fprintf(stderr, "intake: triage model %s; triaging with "
			    "the rules alone\n", err);
	}
	if (need & (CLI_NEED_STORE | CLI_NEED_STORE_RO)) {
		rc = store_open_config(&env->cfg, need & CLI_NEED_STORE ? 0 :
		    STORE_OPEN_READONLY, &env->store, &serr);
		if (rc != STORE_OK) {
			fprintf(stderr, "intake: %s%s\n", serr ? serr : "cannot open "
			    "the database", rc == STORE_TEMP ?
			    " (temporary: retry later)" : "");
			free(serr);
			cli_env_close(env);
			return cli_store_exit(rc);
		}
	}
	return 0;
}

int
cli_store_exit(int store_rc)
{
	switch (store_rc) {
	case STORE_OK:
		return 0;
	case STORE_TEMP:
		return EX_TEMPFAIL;
	case STORE_PERM:
		return EX_NOPERM;
	case STORE_NEWER:
	case STORE_OLDER:
	case STORE_NOTYET:
		return EX_CONFIG;
	default:
		return EX_SOFTWARE;
	}
}

void
cli_env_close(struct cli_env *env)
{
	store_close(env->store);
	lexicon_free(env->lex);
	calendar_free(env->cal);
	config_free(&env->cfg);
	memset(env, 0, sizeof(*env));
}

/*
 * The Unix user running the command, from the kernel's uid (not $USER,
 * which anyone sets).  Under sudo, root acts for $SUDO_USER: root could
 * write anything anyway, and the audit trail then names the person.
 */
const char *
cli_login(char *buf, size_t len)
{
	struct passwd *pw;
	const char *u;

	u = getenv("SUDO_USER");
	if (getuid() == 0 && u && *u && getpwnam(u) != NULL)
		snprintf(buf, len, "%s", u);
	else if ((pw = getpwuid(getuid())) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)getuid());
	return buf;
}

const char *
cli_actor(struct store *st, const char *by, char *buf, size_t len)
{
	const char *role = st ? store_actor(st) : NULL;
	char login[256];

	/* a staff laptop's Unix login is not what the server checked */
	if (role && *role)
		snprintf(login, sizeof(login), "%s", role);
	else
		cli_login(login, sizeof(login));
	if (by == NULL || *by == '\0' || strcmp(by, login) == 0)
		snprintf(buf, len, "%s", login);
	else
		snprintf(buf, len, "%s (%s)", by, login);
	return buf;
}

const char *
cli_assignee(const char *arg, char *buf, size_t len)
{
	if (arg == NULL || strcmp(arg, "me") != 0)
		return arg;
	return cli_login(buf, len);
}

const char *
cli_person(const struct config *cfg, const char *who)
{
	const struct oncall_person *p = rota_person(cfg, who);

	return p ? p->name : who;
}

struct rota *
cli_rota(const struct config *cfg, const char *cmd)
{
	struct rota *r;
	char *err = NULL;

	if (cfg->oncall_rota == NULL)
		return NULL;
	if ((r = rota_load(cfg, &err)) == NULL) {
		fprintf(stderr, "%s\nintake %s: oncall.rota refused: an urgent "
		    "alert pages alerts.to only\n", err ? err : "", cmd);
		free(err);
	}
	return r;
}

int
cli_opt_status(const char *cmd, const char *arg, const char **status)
{
	if (strcmp(arg, "all") == 0)
		*status = NULL;
	else if (strcmp(arg, "open") == 0 || strcmp(arg, "closed") == 0)
		*status = arg;
	else {
		fprintf(stderr, "intake %s: --status must be open, closed or "
		    "all\n", cmd);
		return EX_USAGE;
	}
	return 0;
}

int
cli_opt_type(const char *cmd, const char *arg, const char **type)
{
	enum call_type ct;

	if (call_type_parse(arg, &ct) == -1) {
		fprintf(stderr, "intake %s: unknown type '%s' (crisis, tip, tta, "
		    "referral, info, related, automated, unclassified)\n", cmd,
		    arg);
		return EX_USAGE;
	}
	*type = call_type_name(ct);
	return 0;
}

int
cli_no_operands(const char *cmd, int argc, char **argv, int first)
{
	if (first >= argc)
		return 0;
	fprintf(stderr, "intake %s: unexpected argument '%s'\n", cmd,
	    argv[first]);
	return EX_USAGE;
}
