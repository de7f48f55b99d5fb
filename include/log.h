/* SPDX-License-Identifier: MIT */
/*
 * log.h: one line per event on stderr, prefixed "<N>" with the sd-daemon
 * priority so journald keeps the level.  Never pass message text, subjects
 * or passwords; sender addresses only to log_debug.  Strings that come from
 * the outside go through str_escape() first.
 */
#ifndef INTAKE_LOG_H
#define INTAKE_LOG_H

#include "util.h"

#define LOG_PRI_ERR	3
#define LOG_PRI_WARNING	4
#define LOG_PRI_NOTICE	5
#define LOG_PRI_INFO	6
#define LOG_PRI_DEBUG	7

/* name appears after the prefix; messages above max_pri are dropped. */
void	log_init(const char *name, int max_pri);
void	log_set_level(int max_pri);
int	log_level(void);
void	log_msg(int pri, const char *, ...) ATTR_PRINTF(2, 3);
/* the daemon: stray library lines on stderr get a <4> prefix too */
int	log_capture_stray(void);
/* in, with every control character escaped or blanked, into out */
void	log_sanitize(const char *in, char *out, size_t outsz);

#define log_err(...)	 log_msg(LOG_PRI_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_PRI_WARNING, __VA_ARGS__)
#define log_notice(...)	 log_msg(LOG_PRI_NOTICE, __VA_ARGS__)
#define log_info(...)	 log_msg(LOG_PRI_INFO, __VA_ARGS__)
#define log_debug(...)	 log_msg(LOG_PRI_DEBUG, __VA_ARGS__)

/* Log at LOG_PRI_ERR and exit(code); for start-up failures only. */
void	fatalx(int code, const char *, ...) ATTR_PRINTF(2, 3) __attribute__((noreturn));

#endif
