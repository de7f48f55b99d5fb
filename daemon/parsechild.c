/* SPDX-License-Identifier: MIT */
/*
 * parsechild.c: the MIME parser (message.c, libetpan 1.9.4 with known
 * memory-safety bugs) runs in a long-lived child process that can do
 * nothing but compute: every descriptor but its socketpair closed,
 * RLIMIT_AS/NOFILE/FSIZE/CORE, no_new_privs and a seccomp filter that
 * allows read/write on what it has, memory without PROT_EXEC, and exit.
 *
 * The parent sends a request and waits for the reply under a wall-clock
 * deadline (parse_limits.timeout_ms).  A crash, a timeout or a reply that
 * does not validate costs that one message (it becomes a parse error; the
 * caller keeps the raw bytes) and the child, which is killed and started
 * again on the next call.  The parent never trusts the reply: every length
 * and count is checked against what is left, every string must be valid
 * UTF-8 without NUL.
 *
 * Frames, both directions: u64 length, then that many bytes, little endian.
 * Request: seven u64 limits, then the raw message.  Reply: message_serialize.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "parsechild.h"
#include "util.h"

/* Sanitizer builds: the sanitizer runtime needs syscalls the filter
 * forbids (and reserves terabytes of address space). */
#if defined(__SANITIZE_ADDRESS__) || defined(INTAKE_NO_SECCOMP)
#define BUILD_SANDBOX	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define BUILD_SANDBOX	0
#endif
#endif
#ifndef BUILD_SANDBOX
#define BUILD_SANDBOX	1
#endif

#define CHILD_FD		3
#define CHILD_AS_LIMIT		((rlim_t)1 << 30)	/* 1 GiB */
#define REQ_MAX			(((uint64_t)1 << 30) + 4096)
#define REPLY_FIXED_MAX		((uint64_t)64 << 20)
#define NLIMITS			7
#define WIRE_MAGIC		0x31534d49u	/* "IMS1" */
#define WIRE_NULL		0xffffffffu
/* A fresh child now and then bounds what libetpan leaks (it does, in
 * mailimf_fields_parse on some malformed headers) or fragments. */
#define CHILD_MAX_MESSAGES	1000
#define PARSER_ARGV0		"intake-parser"
#define PARSER_ENV		"INTAKE_PARSER_CHILD"	/* "SANDBOX PARENT" */

struct parsechild {
	pid_t	 pid;		/* -1: not running (start on next parse) */
	int	 fd;		/* our end of the socketpair */
	int	 sandbox;	/* seccomp + RLIMIT_AS in the child */
	unsigned nparsed;	/* by this child */
};

/* ---- wire format ------------------------------------------------------- */

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char p[4];
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	buf_add(b, p, sizeof(p));
}

static void
put_u64(struct buf *b, uint64_t v)
{
	unsigned char p[8];
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	buf_add(b, p, sizeof(p));
}

static void
put_bytes(struct buf *b, const char *s, size_t n)
{
	put_u32(b, (uint32_t)n);
	buf_add(b, s, n);
}

static void
put_str(struct buf *b, const char *s)
{
	if (s == NULL)
		put_u32(b, WIRE_NULL);
	else
		put_bytes(b, s, strlen(s));
}

static uint64_t
get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* A cursor over untrusted bytes: every read is checked. */
struct rd {
	const unsigned char	*p;
	size_t			 left;
	int			 bad;
};

static uint64_t
rd_int(struct rd *r, int n)
{
	uint64_t v;

	if (r->bad || r->left < (size_t)n) {
		r->bad = 1;
		return 0;
	}
	v = get_le(r->p, n);
	r->p += n;
	r->left -= (size_t)n;
	return v;
}

/* A string (NULL allowed); valid UTF-8, no NUL.  *lenp gets its length. */
static char *
rd_str(struct rd *r, size_t *lenp)
{
	uint64_t n = rd_int(r, 4);
	char *s;

	if (lenp)
		*lenp = 0;
	if (r->bad || n == WIRE_NULL)
		return NULL;
	if (n > r->left || memchr(r->p, '\0', (size_t)n) != NULL ||
	    !utf8_valid((const char *)r->p, (size_t)n)) {
		r->bad = 1;
		return NULL;
	}
	s = xstrndup((const char *)r->p, (size_t)n);
	r->p += n;
	r->left -= (size_t)n;
	if (lenp)
		*lenp = (size_t)n;
	return s;
}

int
message_serialize(const struct message *m, char **out, size_t *outlen)
{
	struct buf b;
	size_t i;

	if (m->text && m->text_len > UINT32_MAX - 1)
		return -1;
	buf_init(&b, 0);
	put_u32(&b, WIRE_MAGIC);
	put_str(&b, m->message_id);
	put_str(&b, m->from_addr);
	put_str(&b, m->from_name);
	put_str(&b, m->reply_to);
	put_str(&b, m->to);
	put_str(&b, m->subject);
	put_str(&b, m->in_reply_to);
	put_str(&b, m->references);
	put_u64(&b, (uint64_t)(int64_t)m->date);
	put_str(&b, m->content_type);
	put_str(&b, m->report_type);
	if (m->text)
		put_bytes(&b, m->text, m->text_len);
	else
		put_u32(&b, WIRE_NULL);
	put_u32(&b, m->text_from_html ? 1 : 0);
	put_u32(&b, (uint32_t)m->status);
	put_str(&b, m->parse_error);
	put_u32(&b, (uint32_t)m->nheaders);
	for (i = 0; i < m->nheaders; i++) {
		put_str(&b, m->headers[i].name);
		put_str(&b, m->headers[i].value);
	}
	put_u32(&b, (uint32_t)m->nattachments);
	for (i = 0; i < m->nattachments; i++) {
		put_str(&b, m->attachments[i].filename);
		put_str(&b, m->attachments[i].content_type);
		put_u64(&b, (uint64_t)m->attachments[i].size);
	}
	*outlen = b.len;
	*out = buf_steal(&b);
	return 0;
}

/*
 * Rebuild a message from untrusted bytes.  0, or -1 with *m freed and
 * zeroed: any inconsistency (short, long, bad count, bad string, unknown
 * status) rejects the whole reply.
 */
int
message_deserialize(const char *data, size_t len, struct message *m)
{
	struct rd r;
	uint64_t n, st, i;

	memset(m, 0, sizeof(*m));
	r.p = (const unsigned char *)data;
	r.left = len;
	r.bad = 0;
	if (data == NULL || rd_int(&r, 4) != WIRE_MAGIC)
		return -1;
	m->message_id = rd_str(&r, NULL);
	m->from_addr = rd_str(&r, NULL);
	m->from_name = rd_str(&r, NULL);
	m->reply_to = rd_str(&r, NULL);
	m->to = rd_str(&r, NULL);
	m->subject = rd_str(&r, NULL);
	m->in_reply_to = rd_str(&r, NULL);
	m->references = rd_str(&r, NULL);
	m->date = (time_t)(int64_t)rd_int(&r, 8);
	m->content_type = rd_str(&r, NULL);
	m->report_type = rd_str(&r, NULL);
	m->text = rd_str(&r, &m->text_len);
	n = rd_int(&r, 4);
	if (n > 1)
		r.bad = 1;
	m->text_from_html = (int)n;
	st = rd_int(&r, 4);
	if (st > MSG_PARSE_LIMIT)
		r.bad = 1;
	m->status = (enum parse_status)st;
	m->parse_error = rd_str(&r, NULL);
	/* each header takes at least 8 bytes, each attachment 16 */
	n = rd_int(&r, 4);
	if (r.bad || n > r.left / 8)
		goto bad;
	m->headers = xcalloc((size_t)n, sizeof(*m->headers));
	for (i = 0; i < n && !r.bad; i++) {
		m->headers[i].name = rd_str(&r, NULL);
		m->headers[i].value = rd_str(&r, NULL);
		m->nheaders = (size_t)i + 1;
	}
	n = rd_int(&r, 4);
	if (r.bad || n > r.left / 16)
		goto bad;
	m->attachments = xcalloc((size_t)n, sizeof(*m->attachments));
	for (i = 0; i < n && !r.bad; i++) {
		m->attachments[i].filename = rd_str(&r, NULL);
		m->attachments[i].content_type = rd_str(&r, NULL);
		m->attachments[i].size = (size_t)rd_int(&r, 8);
		m->nattachments = (size_t)i + 1;
	}
	if (r.bad || r.left != 0)
		goto bad;
	/* what message_parse always fills */
	if (m->text == NULL || m->content_type == NULL)
		goto bad;
	return 0;
bad:
	message_free(m);
	return -1;
}

/* ---- the child ------------------------------------------------------- */

static int
full_read(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
full_write(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t r;

	while (n > 0) {
		r = write(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Pin a converter from each charset mail is written in: iconv loads its
 * modules (dlopen: open + mmap PROT_EXEC) on first use and unloads unused
 * ones later, neither of which the filter allows.  The descriptors stay
 * open for the child's life, so the modules stay loaded; an unknown name
 * is then answered from the already mapped gconv cache without a file.
 */
static void
pin_charsets(void)
{
	static const char *const cs[] = {
		"WINDOWS-1252", "ISO-8859-1", "ISO-8859-2", "ISO-8859-3",
		"ISO-8859-4", "ISO-8859-5", "ISO-8859-6", "ISO-8859-7",
		"ISO-8859-8", "ISO-8859-9", "ISO-8859-10", "ISO-8859-11",
		"ISO-8859-13", "ISO-8859-14", "ISO-8859-15", "ISO-8859-16",
		"WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1253", "WINDOWS-1254",
		"WINDOWS-1255", "WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258",
		"WINDOWS-874", "KOI8-R", "KOI8-U", "KOI8-RU", "CP866", "CP850",
		"CP437", "IBM852", "MACINTOSH", "MAC-CYRILLIC", "TIS-620",
		"VISCII", "ISO-2022-JP", "ISO-2022-JP-2", "ISO-2022-JP-3",
		"ISO-2022-KR", "ISO-2022-CN", "ISO-2022-CN-EXT", "EUC-JP",
		"EUC-JP-MS", "EUC-KR", "EUC-CN", "EUC-TW", "SHIFT_JIS",
		"CP932", "CP949", "CP936", "CP950", "JOHAB", "UHC", "GB2312",
		"GBK", "GB18030", "BIG5", "BIG5-HKSCS", "HZ-GB-2312", "UTF-7",
		"UTF-16", "UTF-16LE", "UTF-16BE", "UTF-32", "UTF-32LE",
		"UTF-32BE", "UCS-2", "UCS-4", "ARMSCII-8", "GEORGIAN-PS",
		"PT154", "KZ-1048", "CP1125", "ISO-IR-166", "US-ASCII",
		"UTF-8",
	};
	static const char *const to[] = { "UTF-8", "UTF-8//TRANSLIT" };
	char in[8] = "ab\xe9 c", outb[64], *ip, *op;
	size_t i, j, il, ol;
	iconv_t cd;

	for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		for (j = 0; j < sizeof(to) / sizeof(to[0]); j++) {
			cd = iconv_open(to[j], cs[i]);
			if (cd == (iconv_t)-1)
				continue;
			ip = in;
			il = 4;
			op = outb;
			ol = sizeof(outb);
			(void)iconv(cd, &ip, &il, &op, &ol);
			/* kept open on purpose: see above */
		}
	}
	/* and the paths the parser takes for a name iconv does not know */
	cd = iconv_open("UTF-8", "X-NO-SUCH-CHARSET");
	if (cd != (iconv_t)-1)
		iconv_close(cd);
}

/* Everything but CHILD_FD closed; 0-2 on /dev/null (stderr kept when
 * sanitizers may need to report). */
static int
child_fds(int sock, int keep_stderr)
{
	int null, fd;

	if (sock != CHILD_FD) {
		if (dup2(sock, CHILD_FD) == -1)
			return -1;
	}
	if (fcntl(CHILD_FD, F_SETFD, 0) == -1)
		return -1;
	null = open("/dev/null", O_RDWR);
	if (null == -1)
		return -1;
	dup2(null, 0);
	dup2(null, 1);
	if (!keep_stderr)
		dup2(null, 2);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, CHILD_FD + 1, ~0U, 0) == 0)
		return 0;
#endif
	for (fd = CHILD_FD + 1; fd < 65536; fd++)
		(void)close(fd);
	return 0;
}

static int
child_rlimits(int sandbox)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = 0;
	/* victims' words must never land in a core file */
	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return -1;
	if (!sandbox)
		return 0;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	rl.rlim_cur = rl.rlim_max = CHILD_AS_LIMIT;
	return setrlimit(RLIMIT_AS, &rl);
}

static int
allow(scmp_filter_ctx ctx, int nr)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

/* Anything not listed kills the process. */
static int
child_seccomp(void)
{
	static const int plain[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close),
		SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
		SCMP_SYS(madvise), SCMP_SYS(exit), SCMP_SYS(exit_group),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(futex), SCMP_SYS(getrandom),
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
		SCMP_SYS(restart_syscall), SCMP_SYS(getpid),
	};
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -1;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]) && rc == 0; i++)
		rc = allow(ctx, plain[i]);
	/* memory, never executable */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc == 0 ? 0 : -1;
}

/* Serve requests until the parent closes its end. */
static void __attribute__((noreturn))
child_loop(int fd)
{
	unsigned char hdr[8], lim8[NLIMITS * 8];
	struct parse_limits lim;
	struct message m;
	struct buf frame;
	uint64_t n;
	char *raw, *out;
	size_t outlen;

	for (;;) {
		if (full_read(fd, hdr, sizeof(hdr)) == -1)
			_exit(0);
		n = get_le(hdr, 8);
		if (n < sizeof(lim8) || n > REQ_MAX)
			_exit(2);
		if (full_read(fd, lim8, sizeof(lim8)) == -1)
			_exit(2);
		n -= sizeof(lim8);
		parse_limits_default(&lim);
		lim.max_message_bytes = (size_t)get_le(lim8, 8);
		lim.max_depth = (int)get_le(lim8 + 8, 8);
		lim.max_parts = (int)get_le(lim8 + 16, 8);
		lim.max_headers = (int)get_le(lim8 + 24, 8);
		lim.max_header_bytes = (size_t)get_le(lim8 + 32, 8);
		lim.max_text_bytes = (size_t)get_le(lim8 + 40, 8);
		lim.max_decode_ratio = (int)get_le(lim8 + 48, 8);
		raw = xmalloc((size_t)n + 1);
		if (full_read(fd, raw, (size_t)n) == -1)
			_exit(2);
		message_parse(raw, (size_t)n, &lim, &m);
		free(raw);
		if (message_serialize(&m, &out, &outlen) == -1)
			_exit(2);
		message_free(&m);
		buf_init(&frame, 0);
		put_u64(&frame, outlen);
		if (full_write(fd, frame.data, frame.len) == -1 ||
		    full_write(fd, out, outlen) == -1)
			_exit(0);
		buf_free(&frame);
		free(out);
	}
}

static void __attribute__((noreturn))
child_main(int sock, int sandbox, pid_t parent)
{
	struct sigaction sa;
	int sig;

	/* die with the parent; the parent may already be gone */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	if (child_fds(sock, !sandbox) == -1)
		_exit(2);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		_exit(2);
	pin_charsets();
	/* libetpan's date code reaches localtime: read the zone file now */
	tzset();
	{
		time_t t = time(NULL);
		struct tm tm;

		(void)localtime_r(&t, &tm);
		(void)mktime(&tm);
	}
	if (child_rlimits(sandbox) == -1)
		_exit(2);
	if (sandbox && child_seccomp() == -1)
		_exit(2);
	child_loop(CHILD_FD);
}

/*
 * The forked child replaces itself with a fresh copy of the program
 * (/proc/self/exe, argv[0] PARSER_ARGV0), so the sandboxed process holds
 * none of the parent's memory: no passwords or tokens, no earlier
 * messages.  The constructor below turns that copy into the parser before
 * main() runs.  Without /proc the forked copy serves instead.
 */
static void __attribute__((noreturn))
child_exec(int sock, int sandbox, pid_t parent)
{
	static const char *const keep[] = { "TZ", "ASAN_OPTIONS",
	    "UBSAN_OPTIONS", "LSAN_OPTIONS", "INTAKE_SANITIZER", NULL };
	char *argv[] = { (char *)PARSER_ARGV0, NULL };
	char *envp[8], mode[64];
	const char *v;
	size_t n = 0, i;

	if (sock != CHILD_FD && dup2(sock, CHILD_FD) == -1)
		_exit(2);
	if (fcntl(CHILD_FD, F_SETFD, 0) == -1)
		_exit(2);
	snprintf(mode, sizeof(mode), PARSER_ENV "=%d %ld", sandbox,
	    (long)parent);
	envp[n++] = mode;
	for (i = 0; keep[i] != NULL; i++)
		if ((v = getenv(keep[i])) != NULL)
			envp[n++] = xasprintf("%s=%s", keep[i], v);
	envp[n] = NULL;
	execve("/proc/self/exe", argv, envp);
	child_main(CHILD_FD, sandbox, parent);
}

static void	parsechild_entry(int, char **) __attribute__((constructor));

/* In the exec'd copy: serve, never return to main(). */
static void
parsechild_entry(int argc, char **argv)
{
	const char *e = getenv(PARSER_ENV);
	char *end;
	long sandbox, parent;

	if (e == NULL || argc < 1 || argv == NULL || argv[0] == NULL ||
	    strcmp(argv[0], PARSER_ARGV0) != 0)
		return;
	sandbox = strtol(e, &end, 10);
	if (end == e || *end != ' ')
		_exit(2);
	e = end + 1;
	parent = strtol(e, &end, 10);
	if (end == e || *end != '\0' || parent <= 1)
		_exit(2);
	child_main(CHILD_FD, sandbox != 0, (pid_t)parent);
}

/* ---- the parent ---------------------------------------------------------- */

static int
sandbox_wanted(void)
{
	const char *e = getenv("INTAKE_SANITIZER");

	if (!BUILD_SANDBOX)
		return 0;
	return !(e && *e && strcmp(e, "0") != 0);
}

static int
spawn(struct parsechild *pc, char **err)
{
	int sv[2], i, bufsz = 1 << 20;
	pid_t pid, parent = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		*err = xasprintf("parser: socketpair: %s", strerror(errno));
		return -1;
	}
	/* big buffers: a large message crosses in few wakeups */
	for (i = 0; i < 2; i++) {
		(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
		(void)setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	}
	pid = fork();
	if (pid == -1) {
		*err = xasprintf("parser: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		child_exec(sv[1], pc->sandbox, parent);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1) {
		*err = xasprintf("parser: fcntl: %s", strerror(errno));
		close(sv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	pc->pid = pid;
	pc->fd = sv[0];
	pc->nparsed = 0;
	return 0;
}

static void
reap(struct parsechild *pc)
{
	if (pc->pid == -1)
		return;
	close(pc->fd);
	pc->fd = -1;
	kill(pc->pid, SIGKILL);
	while (waitpid(pc->pid, NULL, 0) == -1 && errno == EINTR)
		;
	pc->pid = -1;
}

struct parsechild *
parsechild_start(char **err)
{
	struct parsechild *pc;

	*err = NULL;
	pc = xcalloc(1, sizeof(*pc));
	pc->pid = -1;
	pc->fd = -1;
	pc->sandbox = sandbox_wanted();
	if (spawn(pc, err) == -1) {
		free(pc);
		return NULL;
	}
	if (!pc->sandbox)
		log_notice("parser child runs without seccomp and RLIMIT_AS "
		    "(sanitizer build or INTAKE_SANITIZER set)");
	return pc;
}

void
parsechild_stop(struct parsechild *pc)
{
	int status;

	if (pc == NULL)
		return;
	if (pc->pid != -1) {
		/* EOF ends the child's loop; a wedged one is killed */
		close(pc->fd);
		pc->fd = -1;
		if (waitpid(pc->pid, &status, WNOHANG) == 0) {
			usleep(1000);
			if (waitpid(pc->pid, &status, WNOHANG) == 0) {
				kill(pc->pid, SIGKILL);
				while (waitpid(pc->pid, &status, 0) == -1 &&
				    errno == EINTR)
					;
			}
		}
		pc->pid = -1;
	}
	free(pc);
}

pid_t
parsechild_pid(const struct parsechild *pc)
{
	return pc ? pc->pid : -1;
}

int
parsechild_sandboxed(const struct parsechild *pc)
{
	return pc ? pc->sandbox : 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum xfer { XFER_OK, XFER_EOF, XFER_TIMEOUT };

/* Wait for fd to be ready for ev until deadline (0 = none). */
static enum xfer
wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd p;
	int64_t left;
	int r;

	for (;;) {
		left = -1;
		if (deadline) {
			left = deadline - now_ms();
			if (left <= 0)
				return XFER_TIMEOUT;
			if (left > INT32_MAX)
				left = INT32_MAX;
		}
		p.fd = fd;
		p.events = ev;
		p.revents = 0;
		r = poll(&p, 1, (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return XFER_EOF;
		if (r == 0)
			return XFER_TIMEOUT;
		return XFER_OK;
	}
}

static enum xfer
send_all(int fd, const void *p, size_t n, int64_t deadline)
{
	const char *c = p;
	ssize_t r;
	enum xfer x;

	while (n > 0) {
		r = send(fd, c, n, MSG_NOSIGNAL);
		if (r > 0) {
			c += r;
			n -= (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((x = wait_fd(fd, POLLOUT, deadline)) != XFER_OK)
				return x;
			continue;
		}
		return XFER_EOF;
	}
	return XFER_OK;
}

static enum xfer
recv_all(int fd, void *p, size_t n, int64_t deadline)
{
	char *c = p;
	ssize_t r;
	enum xfer x;

	while (n > 0) {
		r = read(fd, c, n);
		if (r > 0) {
			c += r;
			n -= (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((x = wait_fd(fd, POLLIN, deadline)) != XFER_OK)
				return x;
			continue;
		}
		return XFER_EOF;
	}
	return XFER_OK;
}

/* What message_parse gives for a message nobody read. */
static void
unparsed(struct message *out, const char *why)
{
	memset(out, 0, sizeof(*out));
	out->status = MSG_PARSE_ERROR;
	out->parse_error = xstrdup(why);
	out->text = xstrdup("");
	out->content_type = xstrdup("text/plain");
}

/* A reply can be no larger than this for a request of len bytes: decoded
 * text, headers and U+FFFD replacements are bounded by the input. */
static uint64_t
reply_max(size_t len, const struct parse_limits *lim)
{
	uint64_t m = REPLY_FIXED_MAX;

	m += 4 * (uint64_t)len;
	m += 4 * (uint64_t)lim->max_text_bytes;
	return m;
}

static const char *
exchange(struct parsechild *pc, const char *raw, size_t len,
    const struct parse_limits *lim, struct message *out)
{
	struct buf req;
	unsigned char hdr[8];
	uint64_t n;
	int64_t deadline = 0;
	enum xfer x;
	char *reply;

	if (lim->timeout_ms > 0)
		deadline = now_ms() + lim->timeout_ms;
	buf_init(&req, 0);
	put_u64(&req, (uint64_t)len + NLIMITS * 8);
	put_u64(&req, lim->max_message_bytes);
	put_u64(&req, (uint64_t)lim->max_depth);
	put_u64(&req, (uint64_t)lim->max_parts);
	put_u64(&req, (uint64_t)lim->max_headers);
	put_u64(&req, lim->max_header_bytes);
	put_u64(&req, lim->max_text_bytes);
	put_u64(&req, (uint64_t)lim->max_decode_ratio);
	x = send_all(pc->fd, req.data, req.len, deadline);
	buf_free(&req);
	if (x == XFER_OK)
		x = send_all(pc->fd, raw, len, deadline);
	if (x == XFER_OK)
		x = recv_all(pc->fd, hdr, sizeof(hdr), deadline);
	if (x == XFER_TIMEOUT)
		return "parser timed out";
	if (x != XFER_OK)
		return "parser crashed";
	n = get_le(hdr, 8);
	if (n > reply_max(len, lim))
		return "parser reply invalid";
	reply = malloc((size_t)n + 1);
	if (reply == NULL)
		return "parser reply invalid";
	x = recv_all(pc->fd, reply, (size_t)n, deadline);
	if (x != XFER_OK) {
		free(reply);
		return x == XFER_TIMEOUT ? "parser timed out" : "parser crashed";
	}
	if (message_deserialize(reply, (size_t)n, out) == -1) {
		free(reply);
		return "parser reply invalid";
	}
	free(reply);
	return NULL;
}

int
parsechild_parse(void *arg, const char *raw, size_t len,
    const struct parse_limits *limits, struct message *out)
{
	struct parsechild *pc = arg;
	struct parse_limits deflim;
	const char *why;
	char *err = NULL;

	if (limits == NULL) {
		parse_limits_default(&deflim);
		limits = &deflim;
	}
	if (raw == NULL || len == 0)
		return message_parse(NULL, 0, limits, out);
	if (len > REQ_MAX - NLIMITS * 8) {
		unparsed(out, "max_message_bytes");
		out->status = MSG_PARSE_LIMIT;
		return -1;
	}
	/* a child that died while idle (OOM killer, an operator) is not this
	 * message's fault: start a new one before sending */
	if (pc->pid != -1 && waitpid(pc->pid, NULL, WNOHANG) == pc->pid) {
		close(pc->fd);
		pc->fd = -1;
		pc->pid = -1;
		log_warning("parser child died while idle: restarting it");
	}
	if (pc->pid != -1 && pc->nparsed >= CHILD_MAX_MESSAGES)
		reap(pc);
	if (pc->pid == -1 && spawn(pc, &err) == -1) {
		log_err("%s", err);
		free(err);
		unparsed(out, "parser unavailable");
		return -1;
	}
	pc->nparsed++;
	why = exchange(pc, raw, len, limits, out);
	if (why != NULL) {
		/* the child's state is unknown: never reuse it */
		reap(pc);
		unparsed(out, why);
		log_warning("%s: message kept unparsed for a human", why);
		return -1;
	}
	return (out->status == MSG_PARSE_OK ||
	    out->status == MSG_PARSE_PARTIAL) ? 0 : -1;
}
