/* SPDX-License-Identifier: MIT */
/*
 * tokencmd.h: an IMAP source's token_command (mbsync's PassCmd habit:
 * oauth2ms, mutt_oauth2.py), run WITHOUT a shell.  The string is split into
 * words by one small rule (intake.conf(5), "token_command"):
 *
 *   - words are separated by unquoted spaces, tabs and newlines;
 *   - '...' keeps everything up to the next ' as it is;
 *   - "..." keeps everything up to the next unescaped ", where \" and \\
 *     stand for " and \ (a backslash before anything else stays);
 *   - outside quotes a backslash makes the next character literal;
 *   - quotes join with what touches them (a'b'"c" is abc; "" is an empty
 *     word);
 *   - nothing else is special: no globbing, no $variables or $(...), no ~,
 *     no pipes, redirections or ; -- those characters are passed as they
 *     are.
 *
 * An unterminated quote, a trailing backslash or no word at all is refused
 * (a configuration error).  The first word is looked up in PATH (execvp).
 */
#ifndef INTAKE_TOKENCMD_H
#define INTAKE_TOKENCMD_H

#define TOKENCMD_MAX_WORDS	256
#define TOKENCMD_MAX_OUTPUT	65536	/* bytes of stdout read, at most */

/* cmd split into a NULL-terminated argv (free with tokencmd_argv_free),
 * or NULL with *err (caller frees; never the command's text, which may
 * hold a secret). */
char	**tokencmd_split(const char *cmd, char **err);
void	 tokencmd_argv_free(char **);

/*
 * Run cmd: execvp with stdin /dev/null, in a process group of its own,
 * with no descriptor of ours but its stdout and stderr pipes; its stdout's
 * first line is the token; its stderr is read and counted, never kept or
 * logged (it may echo a secret); killed (the whole group) after timeout
 * seconds.  A non-zero exit, a signal, no output or an empty first line is
 * a failure.  0 with *token (caller wipes and frees), or -1 with *err.
 */
int	 tokencmd_run(const char *cmd, int timeout, char **token, char **err);

#endif
