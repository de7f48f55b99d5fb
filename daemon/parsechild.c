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
 * Request: eight u64 limits (the last: which attachment's bytes to return,
 * 1-based, 0 none), then the raw message.  Reply: message_serialize, whose
 * last field is that one attachment's index and bytes (or WIRE_NULL).
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
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
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "parsechild.h"
#include "parsechild_p.h"
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
#define CHILD_HEAP_KEEP		((size_t)8 << 20)
#define REQ_MAX			(((uint64_t)1 << 30) + 4096)
#define REPLY_FIXED_MAX		((uint64_t)64 << 20)
#define NLIMITS			8
#define WIRE_MAGIC		0x31534d49u	/* "IMS1" */
#define WIRE_NULL		0xffffffffu
#define PARSER_ARGV0		"intake-parser"
#define PARSER_ENV		"INTAKE_PARSER_CHILD"	/* "SANDBOX PARENT" */

/*
 * A receive buffer kept from one message to the next, so that a message
 * costs no allocation (and no page faults) on either side.  One larger
 * than RXBUF_KEEP is let go after its message: RSS stays bounded.
 */
struct rxbuf {
	char	*p;
	size_t	 cap;
};

#define RXBUF_MIN	((size_t)64 << 10)
#define RXBUF_KEEP	((size_t)1 << 20)

struct parsechild {
	pid_t	 pid;		/* -1: not running (start on next parse) */
	int	 fd;		/* our end of the socketpair */
	int	 sandbox;	/* seccomp + RLIMIT_AS in the child */
	unsigned nparsed;	/* by this child */
	int	 cpu;		/* the child is kept on it; -1: not yet */
	struct rxbuf reply;	/* the child's last reply; ours */
	struct parsechild_times t;	/* child_cpu_ns: reaped children's */
};

static long long
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

/* Overwrite 8 bytes at p with v, little endian. */
static void
put_le(char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (char)(unsigned char)(v >> (8 * i));
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
	/* utf8_valid refuses NUL too */
	if (n > r->left || !utf8_valid((const char *)r->p, (size_t)n)) {
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

/* Append m's wire form to b.  -1 when a length does not fit the format. */
static int
serialize_into(struct buf *b, const struct message *m)
{
	size_t i;

	if (m->text && m->text_len > UINT32_MAX - 1)
		return -1;
	put_u32(b, WIRE_MAGIC);
	put_str(b, m->message_id);
	put_str(b, m->from_addr);
	put_str(b, m->from_name);
	put_str(b, m->reply_to);
	put_str(b, m->to);
	put_str(b, m->subject);
	put_str(b, m->in_reply_to);
	put_str(b, m->references);
	put_u64(b, (uint64_t)(int64_t)m->date);
	put_str(b, m->content_type);
	put_str(b, m->report_type);
	if (m->text)
		put_bytes(b, m->text, m->text_len);
	else
		put_u32(b, WIRE_NULL);
	put_u32(b, m->text_from_html ? 1 : 0);
	put_u32(b, (uint32_t)m->status);
	put_str(b, m->parse_error);
	put_u32(b, (uint32_t)m->nheaders);
	for (i = 0; i < m->nheaders; i++) {
		put_str(b, m->headers[i].name);
		put_str(b, m->headers[i].value);
	}
	put_u32(b, (uint32_t)m->nattachments);
	for (i = 0; i < m->nattachments; i++) {
		put_str(b, m->attachments[i].filename);
		put_str(b, m->attachments[i].content_type);
		put_u64(b, (uint64_t)m->attachments[i].size);
	}
	/* at most one attachment carries its bytes (intake attachment) */
	for (i = 0; i < m->nattachments; i++)
		if (m->attachments[i].data)
			break;
	if (i == m->nattachments) {
		put_u32(b, WIRE_NULL);
		return 0;
	}
	if (m->attachments[i].data_len > UINT32_MAX - 1)
		return -1;
	put_u32(b, (uint32_t)i);
	put_bytes(b, m->attachments[i].data, m->attachments[i].data_len);
	return 0;
}

int
message_serialize(const struct message *m, char **out, size_t *outlen)
{
	struct buf b;

	buf_init(&b, 0);
	if (serialize_into(&b, m) == -1) {
		buf_free(&b);
		return -1;
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
	/* one attachment's bytes, any bytes, for an index that exists */
	i = rd_int(&r, 4);
	if (!r.bad && i != WIRE_NULL) {
		if (i >= m->nattachments)
			goto bad;
		n = rd_int(&r, 4);
		if (r.bad || n > r.left)
			goto bad;
		m->attachments[i].data = xmalloc((size_t)n + 1);
		memcpy(m->attachments[i].data, r.p, (size_t)n);
		m->attachments[i].data_len = (size_t)n;
		r.p += n;
		r.left -= (size_t)n;
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

/* ---- transfers, both ends ------------------------------------------ */

enum xfer { XFER_OK, XFER_EOF, XFER_TIMEOUT, XFER_BAD };

/*
 * One end of the socketpair, for one exchange.  The child's end blocks and
 * has no deadline: it only ever calls read(2) and write(2), which its
 * filter allows (no poll, no sendmsg), and a dead parent ends it (EOF).
 * The parent's end is non-blocking, waits in poll(2) until the deadline and
 * sends with MSG_NOSIGNAL: a dead child is EPIPE, not SIGPIPE in the daemon.
 */
struct chan {
	int	 fd;
	int	 parent;
	int64_t	 deadline;	/* CLOCK_MONOTONIC ms; 0: none */
	uint64_t sent;		/* bytes the peer's socket accepted */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parent only: wait for ev until the deadline. */
static enum xfer
chan_wait(struct chan *ch, short ev)
{
	struct pollfd p;
	int64_t left;
	int r;

	for (;;) {
		left = -1;
		if (ch->deadline) {
			left = ch->deadline - now_ms();
			if (left <= 0)
				return XFER_TIMEOUT;
			if (left > INT32_MAX)
				left = INT32_MAX;
		}
		p.fd = ch->fd;
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

/* Is this error "try again later" on the parent's non-blocking end? */
static int
chan_again(const struct chan *ch)
{
	return ch->parent && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Send all of iov[0..n) (which it consumes), in one system call when the
 * socket buffer takes it. */
static enum xfer
chan_write(struct chan *ch, struct iovec *iov, int n)
{
	struct msghdr mh;
	enum xfer x;
	size_t k;
	ssize_t r;

	while (n > 0) {
		if (iov->iov_len == 0) {
			iov++;
			n--;
			continue;
		}
		if (ch->parent) {
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = (size_t)n;
			r = sendmsg(ch->fd, &mh, MSG_NOSIGNAL);
		} else
			r = write(ch->fd, iov->iov_base, iov->iov_len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && chan_again(ch)) {
			if ((x = chan_wait(ch, POLLOUT)) != XFER_OK)
				return x;
			continue;
		}
		if (r <= 0)
			return XFER_EOF;
		ch->sent += (uint64_t)r;
		for (k = (size_t)r; k > 0 && n > 0; ) {
			if (k < iov->iov_len) {
				iov->iov_base = (char *)iov->iov_base + k;
				iov->iov_len -= k;
				break;
			}
			k -= iov->iov_len;
			iov++;
			n--;
		}
	}
	return XFER_OK;
}

/* Read at least min and at most max bytes to p; *got says how many. */
static enum xfer
chan_read(struct chan *ch, char *p, size_t min, size_t max, size_t *got)
{
	enum xfer x;
	ssize_t r;

	*got = 0;
	while (*got < min) {
		r = read(ch->fd, p + *got, max - *got);
		if (r > 0) {
			*got += (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && chan_again(ch)) {
			if ((x = chan_wait(ch, POLLIN)) != XFER_OK)
				return x;
			continue;
		}
		return XFER_EOF;
	}
	return XFER_OK;
}

/* Room for n bytes, what it holds kept.  -1 when memory runs out (the
 * buffer is then as it was). */
static int
rxbuf_reserve(struct rxbuf *b, size_t n)
{
	char *p;

	if (n < RXBUF_MIN)
		n = RXBUF_MIN;
	if (n <= b->cap)
		return 0;
	if ((p = realloc(b->p, n)) == NULL)
		return -1;
	b->p = p;
	b->cap = n;
	return 0;
}

/* After a message: a big buffer goes (a 20 MB message must not keep its
 * 20 MB for the next thousand small ones). */
static void
rxbuf_trim(struct rxbuf *b)
{
	if (b->cap > RXBUF_KEEP) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

/*
 * Receive one frame (u64 length, then that many bytes, at most max) into
 * b, usually with one read.  *lenp gets the payload's length; it starts at
 * b->p + 8 and is followed by a NUL.  XFER_BAD: too long, or more bytes
 * than the frame (each side sends one frame and waits for the answer).
 */
static enum xfer
chan_read_frame(struct chan *ch, struct rxbuf *b, uint64_t max,
    uint64_t *lenp)
{
	size_t got, more;
	uint64_t n;
	enum xfer x;

	if (rxbuf_reserve(b, RXBUF_MIN) == -1)
		return XFER_BAD;
	if ((x = chan_read(ch, b->p, 8, b->cap - 1, &got)) != XFER_OK)
		return x;
	n = get_le((const unsigned char *)b->p, 8);
	if (n > max || n > SIZE_MAX - 9 || got > 8 + n)
		return XFER_BAD;
	if (rxbuf_reserve(b, (size_t)n + 9) == -1)
		return XFER_BAD;
	if (got < 8 + n) {
		x = chan_read(ch, b->p + got, (size_t)(8 + n) - got,
		    (size_t)(8 + n) - got, &more);
		if (x != XFER_OK)
			return x;
	}
	b->p[8 + n] = '\0';
	*lenp = n;
	return XFER_OK;
}

/* ---- the child ------------------------------------------------------- */

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

/*
 * Serve requests until the parent closes its end.  A request is parsed
 * where it was read, and the reply is built behind room for its length:
 * one read and one write per message, no copy, no allocation but the
 * parser's own.
 */
static void __attribute__((noreturn))
child_loop(int fd)
{
	const unsigned char *lim8;
	struct chan ch = { fd, 0, 0, 0 };
	struct rxbuf req = { NULL, 0 };
	struct parse_limits lim;
	struct message m;
	struct buf reply;
	struct iovec iov;
	uint64_t n;
	enum xfer x;

	buf_init(&reply, 0);
	for (;;) {
		x = chan_read_frame(&ch, &req, REQ_MAX, &n);
		if (x == XFER_EOF)
			_exit(0);
		if (x != XFER_OK || n < NLIMITS * 8)
			_exit(2);
		lim8 = (const unsigned char *)req.p + 8;
		parse_limits_default(&lim);
		lim.max_message_bytes = (size_t)get_le(lim8, 8);
		lim.max_depth = (int)get_le(lim8 + 8, 8);
		lim.max_parts = (int)get_le(lim8 + 16, 8);
		lim.max_headers = (int)get_le(lim8 + 24, 8);
		lim.max_header_bytes = (size_t)get_le(lim8 + 32, 8);
		lim.max_text_bytes = (size_t)get_le(lim8 + 40, 8);
		lim.max_decode_ratio = (int)get_le(lim8 + 48, 8);
		lim.want_attachment = (int)get_le(lim8 + 56, 8);
		message_parse(req.p + 8 + NLIMITS * 8, (size_t)n - NLIMITS * 8,
		    &lim, &m);
		/* Kept buffers hold no earlier person's words: a parser bug
		 * that over-reads on a later message finds zeros. */
		explicit_bzero(req.p, (size_t)n + 8);
		rxbuf_trim(&req);
		buf_reset(&reply);
		put_u64(&reply, 0);	/* the length, once known */
		if (serialize_into(&reply, &m) == -1)
			_exit(2);
		message_free(&m);
		put_le(reply.data, reply.len - 8);
		iov.iov_base = reply.data;
		iov.iov_len = reply.len;
		if (chan_write(&ch, &iov, 1) != XFER_OK)
			_exit(0);
		explicit_bzero(reply.data, reply.len);
		if (reply.cap > RXBUF_KEEP)
			buf_free(&reply);
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
	/* Keep freed memory for the next message instead of returning it to
	 * the kernel and faulting it back in (glibc trims above 128 KiB):
	 * up to CHILD_HEAP_KEEP stays, anything larger is mapped apart and
	 * given back at once, so a 20 MB message does not stay resident. */
	(void)mallopt(M_MMAP_THRESHOLD, (int)CHILD_HEAP_KEEP);
	(void)mallopt(M_TRIM_THRESHOLD, (int)CHILD_HEAP_KEEP);
	if (child_rlimits(sandbox) == -1)
		_exit(2);
	if (sandbox && child_seccomp() == -1)
		_exit(2);
	child_loop(CHILD_FD);
}

/*
 * What the child executes: /proc/self/exe, the very file we run even if
 * the package was upgraded since.  Under valgrind (its preload library in
 * LD_PRELOAD) that is valgrind's own tool binary, which cannot run alone;
 * valgrind answers readlink(2) of it with our path, so that is executed
 * instead: the child runs outside valgrind (the environment below has no
 * LD_PRELOAD) and the parent's side of every exchange is checked.
 */
static const char *
child_path(char *buf, size_t len)
{
	const char *pre = getenv("LD_PRELOAD");
	ssize_t n;

	if (pre == NULL || strstr(pre, "vgpreload") == NULL)
		return "/proc/self/exe";
	n = readlink("/proc/self/exe", buf, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		return "/proc/self/exe";
	buf[n] = '\0';
	return buf;
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
	char *envp[8], mode[64], exe[4096];
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
	execve(child_path(exe, sizeof(exe)), argv, envp);
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
	pc->cpu = -1;
	return 0;
}

/*
 * Run the exchange on one CPU.  Each message is a strict hand-off (we
 * wait while the child parses, it waits while we work), and waking a
 * process on another, idle CPU costs more than parsing a small message,
 * above all on a virtual machine (tests/bench/parseloop on an idle 2-CPU
 * VM: the child's extra CPU per message +84 us on two CPUs, +24 us on
 * one).  So for the exchange we stay on the CPU we are on and the child
 * is kept there too (moved only when we have moved); our own affinity is
 * given back afterwards, so the scheduler still places the daemon freely
 * between messages.  Best effort: a refusal (a seccomp filter, a cpuset)
 * costs speed, nothing else.
 */
static int
colocate_begin(struct parsechild *pc, cpu_set_t *mine)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(*mine), mine) == -1)
		return 0;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (cpu != pc->cpu) {
		pc->cpu = cpu;
		(void)sched_setaffinity(pc->pid, sizeof(one), &one);
	}
	return sched_setaffinity(0, sizeof(one), &one) == 0;
}

static void
colocate_end(int pinned, const cpu_set_t *mine)
{
	if (pinned)
		(void)sched_setaffinity(0, sizeof(*mine), mine);
}

/* The CPU a child used, from its rusage once reaped. */
static long long
rusage_ns(const struct rusage *ru)
{
	return ((long long)ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) *
	    1000000000LL + ((long long)ru->ru_utime.tv_usec +
	    ru->ru_stime.tv_usec) * 1000;
}

static void
reap(struct parsechild *pc)
{
	struct rusage ru;

	if (pc->pid == -1)
		return;
	close(pc->fd);
	pc->fd = -1;
	kill(pc->pid, SIGKILL);
	memset(&ru, 0, sizeof(ru));
	while (wait4(pc->pid, NULL, 0, &ru) == -1 && errno == EINTR)
		;
	pc->t.child_cpu_ns += rusage_ns(&ru);
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
	free(pc->reply.p);
	free(pc);
}

void
parsechild_times(const struct parsechild *pc, struct parsechild_times *out)
{
	struct timespec ts;
	clockid_t cid;

	memset(out, 0, sizeof(*out));
	if (pc == NULL)
		return;
	*out = pc->t;
	/* the running child's CPU clock (same user: readable) */
	if (pc->pid != -1 && clock_getcpuclockid(pc->pid, &cid) == 0 &&
	    clock_gettime(cid, &ts) == 0)
		out->child_cpu_ns += (long long)ts.tv_sec * 1000000000LL +
		    ts.tv_nsec;
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

/* exchange()'s answer when the child was gone before the request. */
static const char idle_death[] = "parser died while idle";

/*
 * One request and its reply: a sendmsg, a poll and a read in the common
 * case.  NULL with *out filled, or why the child cannot be trusted any
 * more (idle_death: not this message's fault).
 */
static const char *
exchange(struct parsechild *pc, const char *raw, size_t len,
    const struct parse_limits *lim, struct message *out)
{
	struct chan ch = { pc->fd, 1, 0, 0 };
	char hdr[8 + NLIMITS * 8];
	struct iovec iov[2];
	uint64_t n;
	long long t0, t1;
	enum xfer x;

	if (lim->timeout_ms > 0)
		ch.deadline = now_ms() + lim->timeout_ms;
	put_le(hdr, (uint64_t)len + NLIMITS * 8);
	put_le(hdr + 8, lim->max_message_bytes);
	put_le(hdr + 16, (uint64_t)lim->max_depth);
	put_le(hdr + 24, (uint64_t)lim->max_parts);
	put_le(hdr + 32, (uint64_t)lim->max_headers);
	put_le(hdr + 40, lim->max_header_bytes);
	put_le(hdr + 48, lim->max_text_bytes);
	put_le(hdr + 56, (uint64_t)lim->max_decode_ratio);
	put_le(hdr + 64, (uint64_t)lim->want_attachment);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)raw;
	iov[1].iov_len = len;
	t0 = mono_ns();
	x = chan_write(&ch, iov, 2);
	t1 = mono_ns();
	pc->t.send_ns += t1 - t0;
	pc->t.n++;
	/* a socket that takes nothing at all: the child had died before this
	 * message (the OOM killer, an operator), and its end is closed */
	if (x == XFER_EOF && ch.sent == 0)
		return idle_death;
	/* the reply cannot be there yet: wait before the first read */
	if (x == XFER_OK)
		x = chan_wait(&ch, POLLIN);
	t0 = mono_ns();
	pc->t.wait_ns += t0 - t1;
	if (x == XFER_OK)
		x = chan_read_frame(&ch, &pc->reply, reply_max(len, lim), &n);
	if (x == XFER_OK && message_deserialize(pc->reply.p + 8, (size_t)n,
	    out) == -1)
		x = XFER_BAD;
	pc->t.recv_ns += mono_ns() - t0;
	rxbuf_trim(&pc->reply);
	switch (x) {
	case XFER_OK:
		return NULL;
	case XFER_TIMEOUT:
		return "parser timed out";
	case XFER_BAD:
		return "parser reply invalid";
	default:
		return "parser crashed";
	}
}

int
parsechild_parse(void *arg, const char *raw, size_t len,
    const struct parse_limits *limits, struct message *out)
{
	struct parsechild *pc = arg;
	struct parse_limits deflim;
	const char *why;
	char *err = NULL;
	cpu_set_t mine;
	int tries, pinned;

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
	if (pc->pid != -1 && pc->nparsed >= PARSECHILD_MAX_MESSAGES)
		reap(pc);
	for (tries = 0; ; tries++) {
		if (pc->pid == -1 && spawn(pc, &err) == -1) {
			log_err("%s", err);
			free(err);
			unparsed(out, "parser unavailable");
			return -1;
		}
		pc->nparsed++;
		pinned = colocate_begin(pc, &mine);
		why = exchange(pc, raw, len, limits, out);
		colocate_end(pinned, &mine);
		/* a child that died while idle is not this message's fault:
		 * once, a new one gets it */
		if (why != idle_death)
			break;
		if (tries > 0) {
			why = "parser crashed";
			break;
		}
		reap(pc);
		log_warning("parser child died while idle: restarting it");
	}
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
