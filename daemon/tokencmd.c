/* SPDX-License-Identifier: MIT */
/*
 * tokencmd.c: token_command without a shell (tokencmd.h).  A shell would
 * make the configuration file a program: a stray ; or $(...) in a value
 * runs as the service user.  The split rule is a small subset of sh's
 * quoting, so the usual PassCmd lines ("oauth2ms --encode-xoauth2",
 * "python3 /etc/intake/mutt_oauth2.py '/var/lib/intake/token file'") work
 * unchanged, and anything sh would have interpreted is passed literally.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tokencmd.h"
#include "util.h"

void
tokencmd_argv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i]; i++) {
		explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char **
tokencmd_split(const char *cmd, char **err)
{
	struct buf w;
	char **v = NULL;
	size_t n = 0;
	const char *p = cmd;
	char q;

	*err = NULL;
	buf_init(&w, 0);
	v = xcalloc(TOKENCMD_MAX_WORDS + 1, sizeof(*v));
	for (;;) {
		while (is_space(*p))
			p++;
		if (*p == '\0')
			break;
		if (n == TOKENCMD_MAX_WORDS) {
			*err = xasprintf("more than %d words",
			    TOKENCMD_MAX_WORDS);
			goto fail;
		}
		buf_reset(&w);
		buf_add(&w, "", 0);
		while (*p != '\0' && !is_space(*p)) {
			if (*p == '\'' || *p == '"') {
				q = *p++;
				while (*p != '\0' && *p != q) {
					if (q == '"' && *p == '\\' &&
					    (p[1] == '"' || p[1] == '\\'))
						p++;
					buf_addc(&w, *p++);
				}
				if (*p == '\0') {
					*err = xasprintf("unterminated %s quote",
					    q == '"' ? "double" : "single");
					goto fail;
				}
				p++;
			} else if (*p == '\\') {
				if (p[1] == '\0') {
					*err = xstrdup("a backslash at the end");
					goto fail;
				}
				buf_addc(&w, p[1]);
				p += 2;
			} else
				buf_addc(&w, *p++);
		}
		v[n++] = buf_steal(&w);	/* buf keeps it NUL-terminated */
	}
	if (n == 0) {
		*err = xstrdup("no command");
		goto fail;
	}
	buf_free(&w);
	return v;
fail:
	if (w.data)
		explicit_bzero(w.data, w.len);
	buf_free(&w);
	tokencmd_argv_free(v);
	return NULL;
}

/* Every descriptor from 3 up closed at exec: the daemon's database,
 * sockets and pipes are none of the command's business. */
static void
cloexec_all(void)
{
	long max, fd;

#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

/* The child: never returns.  ep: where an exec failure's errno goes. */
static void __attribute__((noreturn))
child(char **argv, int out, int errfd, int ep)
{
	sigset_t none;
	int nul = open("/dev/null", O_RDONLY), e;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (nul < 0 || dup2(nul, STDIN_FILENO) == -1 ||
	    dup2(out, STDOUT_FILENO) == -1 || dup2(errfd, STDERR_FILENO) == -1)
		_exit(126);
	cloexec_all();
	execvp(argv[0], argv);
	e = errno;
	(void)!write(ep, &e, sizeof(e));
	tokencmd_argv_free(argv);	/* tidy for valgrind: this copy only */
	_exit(127);
}

/* Read stdout (kept, up to the cap) and stderr (counted) until both end
 * or the deadline passes.  0, or -1 on the deadline. */
static int
collect(int out, int errfd, uint64_t deadline, struct buf *b, size_t *nerr,
    int *overflow)
{
	struct pollfd pfd[2];
	char chunk[4096];
	ssize_t r;
	int i, open_fds = 2, rc = 0;

	pfd[0].fd = out;
	pfd[1].fd = errfd;
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_fds > 0) {
		uint64_t now = now_ms_monotonic();

		if (now >= deadline) {
			rc = -1;
			break;
		}
		if (poll(pfd, 2, (int)(deadline - now)) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			r = read(pfd[i].fd, chunk, sizeof(chunk));
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0) {
				pfd[i].fd = -1;
				open_fds--;
			} else if (i == 1)
				*nerr += (size_t)r;
			else if (buf_add(b, chunk, (size_t)r) == -1)
				*overflow = 1;	/* read on, keep no more */
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	return rc;
}

/* Wait for pid until deadline (0: kill it now), then kill its group (what
 * it started too: a command that closed its output and lingers) and reap
 * it.  waitpid's result. */
static pid_t
reap(pid_t pid, uint64_t deadline, int *status, int *killed)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t w;

	while (deadline != 0) {
		w = waitpid(pid, status, WNOHANG);
		if (w == pid || (w == -1 && errno != EINTR))
			return w;
		if (now_ms_monotonic() >= deadline)
			break;
		nanosleep(&tick, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	*killed = 1;
	while ((w = waitpid(pid, status, 0)) == -1 && errno == EINTR)
		;
	return w;
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

int
tokencmd_run(const char *cmd, int timeout, char **token, char **err)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, px[2] = { -1, -1 };
	int status = 0, killed = 0, overflow = 0, xerr = 0;
	uint64_t deadline;
	size_t nerr = 0;
	struct buf b;
	char **argv, *why = NULL, note[96];
	pid_t pid, w;

	*token = NULL;
	*err = NULL;
	if ((argv = tokencmd_split(cmd, &why)) == NULL) {
		*err = xasprintf("token_command: %s", why);
		free(why);
		return -1;
	}
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1 ||
	    pipe2(px, O_CLOEXEC) == -1) {
		*err = xasprintf("token_command: pipe: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		*err = xasprintf("token_command: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child(argv, po[1], pe[1], px[1]);
	close(po[1]);
	close(pe[1]);
	close(px[1]);
	po[1] = pe[1] = px[1] = -1;
	buf_init(&b, TOKENCMD_MAX_OUTPUT);
	deadline = now_ms_monotonic() + (uint64_t)(timeout > 0 ? timeout : 1) *
	    1000;
	if (collect(po[0], pe[0], deadline, &b, &nerr, &overflow) == -1)
		killed = 1;
	w = reap(pid, killed ? 0 : deadline, &status, &killed);
	if (w == -1)	/* not ours to reap: never taken for a success */
		status = -1;
	if (read(px[0], &xerr, sizeof(xerr)) != (ssize_t)sizeof(xerr))
		xerr = 0;
	note[0] = '\0';
	if (nerr > 0)	/* how much, never what: it may echo a secret */
		snprintf(note, sizeof(note), " (%zu bytes on stderr, not "
		    "logged)", nerr);
	if (xerr)
		*err = xasprintf("token_command: cannot run %s: %s", argv[0],
		    strerror(xerr));
	else if (killed)
		*err = xasprintf("token_command timed out after %d s%s",
		    timeout, note);
	else if (WIFSIGNALED(status))
		*err = xasprintf("token_command killed by signal %d%s",
		    WTERMSIG(status), note);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		*err = xasprintf("token_command failed (status %d)%s",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1, note);
	else if (overflow)
		*err = xasprintf("token_command printed more than %d bytes",
		    TOKENCMD_MAX_OUTPUT);
	if (*err == NULL) {
		size_t n = b.len, cut;

		*token = buf_steal(&b);
		cut = strcspn(*token, "\r\n");
		explicit_bzero(*token + cut, n - cut);	/* the other lines */
		if (**token == '\0') {
			free(*token);
			*token = NULL;
			*err = xasprintf("token_command printed no token%s", note);
		} else if (nerr > 0)
			log_info("token_command wrote %zu bytes on stderr (not "
			    "logged: it may hold a secret)", nerr);
	}
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	close(po[0]);
	close(pe[0]);
	close(px[0]);
	tokencmd_argv_free(argv);
	return *err ? -1 : 0;
fail:
	close_pair(po);
	close_pair(pe);
	close_pair(px);
	tokencmd_argv_free(argv);
	return -1;
}
