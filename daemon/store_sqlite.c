/* SPDX-License-Identifier: MIT */
/*
 * store_sqlite.c: the SQLite driver of the store (store.h, store_p.h):
 * opening, migrating, transactions, and the statement API over sqlite3.
 * The database holds victims' words: it is created 0600 (0660 with
 * database_group) before SQLite ever touches it, and the -wal/-shm files
 * inherit that mode from it.  Also the SQLite-only entries of the modules
 * not yet converted (store_db(), store_stmt()).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dedup.h"
#include "migrations.h"
#include "search.h"
#include "store_p.h"
#include "util.h"

#define STORE_APPLICATION_ID	0x496e746b	/* "Intk" */

struct sqlite_stmt {
	struct stmt		 base;
	sqlite3_stmt		*s;
	const struct query	*q;
};

/* Statements prepared once per connection (store_stmt); the store owns
 * them and finalizes them before closing the connection.  wrap: the
 * statement API's handle of the same statement (store_prepare()). */
struct cached_stmt {
	char		*sql;
	sqlite3_stmt	*stmt;
	struct sqlite_stmt *wrap;
};

struct store_sqlite {
	struct store		 base;
	sqlite3			*db;
	struct cached_stmt	*cache;
	size_t			 ncache;
	size_t			 capcache;
	/* The file the connection opened (store_identity_changed): its path
	 * and the device and inode the path named right after the open. */
	char			*path;
	dev_t			 dev;
	ino_t			 ino;
	int			 has_id;
};

/* The SQLite store behind st, or NULL (another driver). */
static struct store_sqlite *
lite(struct store *st)
{
	return st != NULL && st->ops == &store_sqlite_ops ?
	    (struct store_sqlite *)st : NULL;
}

/* Remember which file the path names now, the one SQLite just opened. */
static void
remember_identity(struct store_sqlite *st, const char *path)
{
	struct stat sb;

	st->path = xstrdup(path);
	if (stat(path, &sb) == 0) {
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
		st->has_id = 1;
	}
}

int
store_identity_changed(struct store *base)
{
	struct store_sqlite *st = lite(base);
	struct stat sb;
	int moved = 0;

	if (st == NULL)
		return 0;
	/* The open handle's own answer (the unix VFS compares the inode it
	 * holds with the path's, and sees a link count of 0). */
	if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_HAS_MOVED,
	    &moved) == SQLITE_OK && moved)
		return 1;
	if (!st->has_id)
		return 0;
	if (stat(st->path, &sb) == -1)
		return errno == ENOENT || errno == ENOTDIR;
	return sb.st_dev != st->dev || sb.st_ino != st->ino;
}

/* Rename path+suffix to path+suffix.replaced-<time>; 0 when absent. */
static int
aside(const char *path, const char *suffix, time_t now, char **msg)
{
	char *from, *to;
	int rc = 0;

	from = xasprintf("%s%s", path, suffix);
	to = xasprintf("%s%s.replaced-%lld", path, suffix, (long long)now);
	if (rename(from, to) == 0) {
		char *prev = *msg;

		*msg = prev ? xasprintf("%s; set aside %s as %s", prev, from,
		    to) : xasprintf("set aside %s as %s", from, to);
		free(prev);
	} else if (errno != ENOENT) {
		free(*msg);
		*msg = xasprintf("%s: %s", from, strerror(errno));
		rc = -1;
	}
	free(from);
	free(to);
	return rc;
}

int
store_set_aside_wal(const char *path, char **msg)
{
	time_t now = time(NULL);

	*msg = NULL;
	if (aside(path, "-wal", now, msg) == -1)
		return -1;
	return aside(path, "-shm", now, msg);
}

const char *
store_path(struct store *base)
{
	struct store_sqlite *st = lite(base);

	if (base != NULL && st == NULL)
		return "the PostgreSQL database";
	return st && st->path ? st->path : "?";
}

int
store_classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
	case SQLITE_NOMEM:
		return STORE_TEMP;
	default:
		return STORE_ERR;
	}
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int
store_schema_latest(void)
{
	return migrations_count ? migrations[migrations_count - 1].version : 0;
}

/* After migrations ran with foreign_keys OFF: any row whose parent is
 * gone fails the migration (SQLite's table-rebuild procedure, step 10).
 * SQLITE_OK, or an error with *err set. */
static int
fk_check(sqlite3 *db, char **err)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*err = xasprintf("migrating: table %s row %lld names a missing "
		    "%s: nothing migrated", sqlite3_column_text(st, 0),
		    (long long)sqlite3_column_int64(st, 1),
		    sqlite3_column_text(st, 2));
		rc = SQLITE_CONSTRAINT;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc;
}

/*
 * Apply every migration newer than the file, in one IMMEDIATE transaction:
 * a concurrent opener waits on the lock and then finds the work done; a
 * crash half-way leaves the old version (DDL is transactional).
 * foreign_keys is OFF meanwhile (it cannot change inside a transaction):
 * a migration that rebuilds a table (006) drops the old one, which with
 * foreign keys on would delete or null every row naming it.
 */
static int
migrate_fk_off(sqlite3 *db, char **err)
{
	int v, rc, ran = 0;
	size_t i;
	char pragma[64];

	rc = exec(db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		goto fail;
	rc = user_version(db, &v);
	if (rc != SQLITE_OK)
		goto fail_rollback;
	if (v > store_schema_latest()) {
		exec(db, "ROLLBACK");
		*err = xasprintf("database schema version %d is newer than this "
		    "program knows (%d): upgrade intake", v, store_schema_latest());
		return STORE_NEWER;
	}
	for (i = 0; i < migrations_count; i++) {
		if (migrations[i].version <= v)
			continue;
		ran = 1;
		rc = exec(db, migrations[i].sql);
		if (rc != SQLITE_OK) {
			*err = xasprintf("migration %s failed: %s", migrations[i].name,
			    sqlite3_errmsg(db));
			exec(db, "ROLLBACK");
			return store_classify(rc);
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    migrations[i].version);
		if ((rc = exec(db, pragma)) != SQLITE_OK)
			goto fail_rollback;
	}
	if (ran && (rc = fk_check(db, err)) != SQLITE_OK) {
		if (*err == NULL)
			*err = xasprintf("migrating: %s", sqlite3_errmsg(db));
		exec(db, "ROLLBACK");
		return STORE_ERR;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA application_id = %d",
	    STORE_APPLICATION_ID);
	if ((rc = exec(db, pragma)) != SQLITE_OK)
		goto fail_rollback;
	rc = exec(db, "COMMIT");
	if (rc != SQLITE_OK)
		goto fail_rollback;
	return STORE_OK;
fail_rollback:
	*err = xasprintf("migrating: %s", sqlite3_errmsg(db));
	exec(db, "ROLLBACK");
	return store_classify(rc);
fail:
	*err = xasprintf("migrating: %s", sqlite3_errmsg(db));
	return store_classify(rc);
}

static int
migrate(sqlite3 *db, char **err)
{
	int rc;

	if ((rc = exec(db, "PRAGMA foreign_keys = OFF")) != SQLITE_OK) {
		*err = xasprintf("migrating: %s", sqlite3_errmsg(db));
		return store_classify(rc);
	}
	/* on failure the caller closes the connection; leave SQLite's error
	 * code (busy_error() reads it) as the migration left it */
	if ((rc = migrate_fk_off(db, err)) != STORE_OK)
		return rc;
	if (exec(db, "PRAGMA foreign_keys = ON") != SQLITE_OK) {
		*err = xasprintf("migrating: %s", sqlite3_errmsg(db));
		return STORE_ERR;
	}
	return rc;
}

/* Create the file with the right mode first, so no window exists in which
 * SQLite's default umask-based mode exposes it. */
static int
create_file(const char *path, const char *group, char **err)
{
	mode_t mode = group ? 0660 : 0600;
	struct group *gr = NULL;
	int fd;

	if (group) {
		gr = getgrnam(group);
		if (gr == NULL) {
			*err = xasprintf("database_group '%s': no such group", group);
			return STORE_ERR;
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd == -1) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return errno == EACCES ? STORE_PERM : errno == ENOENT ||
		    errno == EROFS || errno == ENOSPC ? STORE_TEMP : STORE_ERR;
	}
	if (gr && fchown(fd, (uid_t)-1, gr->gr_gid) == -1) {
		*err = xasprintf("%s: chgrp %s: %s", path, group, strerror(errno));
		close(fd);
		return STORE_ERR;
	}
	if (fchmod(fd, mode) == -1) {
		*err = xasprintf("%s: chmod: %s", path, strerror(errno));
		close(fd);
		return STORE_ERR;
	}
	close(fd);
	return STORE_OK;
}

/* SQLite's message, with the system's reason when it has one ("disk I/O
 * error" alone does not say the disk is full). */
static char *
db_error(sqlite3 *db, const char *path)
{
	int e = db ? sqlite3_system_errno(db) : 0;

	if (e != 0)
		return xasprintf("%s: %s (%s)", path, sqlite3_errmsg(db),
		    strerror(e));
	return xasprintf("%s: %s", path, db ? sqlite3_errmsg(db) :
	    "cannot open");
}

static void
norm_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct dedup_info di;
	const void *b;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(cx);
		return;
	}
	b = sqlite3_value_blob(argv[0]);
	dedup_info(b ? b : "", (size_t)sqlite3_value_bytes(argv[0]), &di);
	sqlite3_result_text(cx, di.norm_sha256, -1, SQLITE_TRANSIENT);
}

static void
recipient_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct dedup_info di;
	const void *b;

	(void)argc;
	b = sqlite3_value_blob(argv[0]);
	dedup_info(b ? b : "", (size_t)sqlite3_value_bytes(argv[0]), &di);
	if (di.recipient[0])
		sqlite3_result_text(cx, di.recipient, -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(cx);
}

static void
sha_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *t;
	char hex[65];

	(void)argc;
	if ((t = sqlite3_value_text(argv[0])) == NULL) {
		sqlite3_result_null(cx);
		return;
	}
	sha256_hex(t, (size_t)sqlite3_value_bytes(argv[0]), hex);
	sqlite3_result_text(cx, hex, -1, SQLITE_TRANSIENT);
}

/* intake_norm_sha256(blob), intake_recipient(blob) and intake_sha256(text)
 * (dedup.h) for migration 006 and `intake purge`.  An SQLite code. */
static int
dedup_register(sqlite3 *db)
{
	/* DIRECTONLY: for the migration and purge, never a view or trigger */
	int fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, rc;

	rc = sqlite3_create_function(db, "intake_norm_sha256", 1, fl, NULL,
	    norm_fn, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "intake_recipient", 1, fl, NULL,
		    recipient_fn, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "intake_sha256", 1, fl, NULL,
		    sha_fn, NULL, NULL);
	return rc;
}

static int
configure(sqlite3 *db, int busy_timeout_ms)
{
	int rc, persist = 1;

	sqlite3_busy_timeout(db, busy_timeout_ms);
	sqlite3_extended_result_codes(db, 1);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	if ((rc = exec(db, "PRAGMA foreign_keys = ON")) != SQLITE_OK)
		return rc;
	/* ON: the triggers of 005_search.sql write FTS5 tables, which
	 * SQLite 3.40 refuses inside a trigger of an untrusted schema.  Who
	 * can change this schema can already change every row; the only
	 * function of ours a view calls (intake_digits) is innocuous. */
	if ((rc = exec(db, "PRAGMA trusted_schema = ON")) != SQLITE_OK)
		return rc;
	if ((rc = search_register(db)) != SQLITE_OK)
		return rc;
	if ((rc = dedup_register(db)) != SQLITE_OK)
		return rc;
	/* Most of the bytes are raw messages (2 KB to 300 KB): larger pages
	 * mean fewer overflow pages and a quarter of the writes.  Takes effect
	 * only on a new, empty file (before WAL is set); a no-op otherwise. */
	if ((rc = exec(db, "PRAGMA page_size = 16384")) != SQLITE_OK)
		return rc;
	/* WAL persists in the file; setting it needs a moment without
	 * readers, which busy_timeout gives us. */
	if ((rc = exec(db, "PRAGMA journal_mode = WAL")) != SQLITE_OK)
		return rc;
	/* Keep -wal and -shm (mode and group as the database) when the last
	 * writer closes: staff in database_group then read with the daemon
	 * stopped without write access to the directory.  The size limit
	 * truncates the kept -wal to nothing at close (no old pages left). */
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if ((rc = exec(db, "PRAGMA journal_size_limit = 4194304")) != SQLITE_OK)
		return rc;
	/* A ticket reported as stored must survive power loss: the message
	 * is marked on the server right after the commit. */
	return exec(db, "PRAGMA synchronous = FULL");
}

/*
 * After SQLite refused to open, read or write: the file or directory this
 * user cannot use, or NULL.  A permissions problem is no "retry later"
 * (SQLite says only "attempt to write a readonly database").  WAL needs
 * the -wal and -shm files, and the directory to create them in.
 */
static char *
perm_problem(const char *path, int write)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	int mode = R_OK | (write ? W_OK : 0), missing = 0;
	char *f, *dir, *d, *msg = NULL;
	size_t i;

	for (i = 0; i < NELEM(sfx) && msg == NULL; i++) {
		f = xasprintf("%s%s", path, sfx[i]);
		if (access(f, F_OK) == -1)
			missing = 1;
		else if (access(f, i == 2 ? R_OK | W_OK : mode) == -1)
			msg = xasprintf("%s: %s for uid %ld: %s", f, strerror(errno),
			    (long)getuid(), i == 0 ? "ask the administrator to "
			    "add you to the database_group" : "a stale file "
			    "another user left: fix its owner and mode as the "
			    "database's, or remove it while intaked is stopped");
		free(f);
	}
	if (msg == NULL && missing) {
		dir = xstrdup(path);
		d = strrchr(dir, '/');
		if (d == dir)
			d[1] = '\0';
		else if (d)
			*d = '\0';
		if (access(d ? dir : ".", W_OK | X_OK) == -1)
			msg = xasprintf("%s: %s for uid %ld: the directory "
			    "is not writable, so the database's -wal/-shm "
			    "files cannot be created (start intaked, which "
			    "keeps them, or make the directory group-writable)",
			    d ? dir : ".", strerror(errno), (long)getuid());
		free(dir);
	}
	return msg;
}

/* SQLite's lock bytes (os_unix.c, wal.c): the WAL write, checkpoint and
 * recovery locks in -shm, and the database file's PENDING and RESERVED
 * bytes (rollback journal, or WAL in exclusive locking mode).  Readers'
 * locks (WAL read marks, SHARED) are left out: they do not block a
 * writer. */
#define SHM_WRITE_LOCK		120
#define SHM_WRITE_LOCKS		3
#define DB_PENDING_BYTE		0x40000000
#define DB_WRITE_LOCKS		2

/* In the child: the PID holding a lock on [start, start+len) of path, 0
 * for none, -1 for one not owned by a process (an OFD lock). */
static long
probe_lock(const char *path, off_t start, off_t len)
{
	struct flock fl;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	if (fcntl(fd, F_GETLK, &fl) == -1 || fl.l_type == F_UNLCK)
		fl.l_pid = 0;
	else if (fl.l_pid <= 0)
		fl.l_pid = -1;
	close(fd);
	return (long)fl.l_pid;
}

/*
 * Who holds the write lock SQLite waited busy_timeout for: a PID, 0 when
 * no lock can be seen, -1 when the holder has no PID (an OFD lock), or our
 * own PID.  Asked from a child: closing a descriptor of the file here would
 * drop every POSIX lock this process holds on it (another connection's,
 * during a reload), and SQLite's own descriptors are out of reach.
 */
static long
lock_holder(const char *path)
{
	char *shm = xasprintf("%s-shm", path);
	long who = 0;
	pid_t child;
	int p[2], status;

	if (pipe2(p, O_CLOEXEC) == -1) {
		free(shm);
		return 0;
	}
	child = fork();
	if (child == 0) {
		/* only async-signal-safe calls: the daemon has threads */
		close(p[0]);
		who = probe_lock(shm, SHM_WRITE_LOCK, SHM_WRITE_LOCKS);
		if (who == 0)
			who = probe_lock(path, DB_PENDING_BYTE, DB_WRITE_LOCKS);
		(void)!write(p[1], &who, sizeof(who));
		_exit(0);
	}
	close(p[1]);
	if (child > 0) {
		if (read(p[0], &who, sizeof(who)) != (ssize_t)sizeof(who))
			who = 0;
		while (waitpid(child, &status, 0) == -1 && errno == EINTR)
			;
	}
	close(p[0]);
	free(shm);
	return who;
}

/* The name of process pid from /proc, or "" (hidden, or gone). */
static void
process_name(long pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	for (n = 0; out[n]; n++)
		if ((unsigned char)out[n] < 0x20 || (unsigned char)out[n] >= 0x7f)
			out[n] = '?';
}

/*
 * Replace *err after SQLite gave up waiting for the lock ("migrating:
 * database is locked" read like a migration in progress): say that the
 * database is locked, by whom where the kernel can tell, for how long we
 * waited.  The caller has closed its connection (a probe must not see our
 * own lock).
 */
static void
explain_locked(const char *path, int busy_timeout_ms, char **err)
{
	char who[96], name[32];
	long pid = lock_holder(path);

	if (pid > 0 && pid == (long)getpid())
		snprintf(who, sizeof(who), "this process (PID %ld) holds it on "
		    "another connection", pid);
	else if (pid > 0) {
		process_name(pid, name, sizeof(name));
		snprintf(who, sizeof(who), "held by another process: PID %ld%s%s%s",
		    pid, *name ? " (" : "", name, *name ? ")" : "");
	} else
		snprintf(who, sizeof(who), "held by another process%s", pid < 0 ?
		    " (an open-file-description lock: no PID)" : "");
	free(*err);
	*err = xasprintf("%s: the database is locked: its write lock is %s, "
	    "still after busy_timeout_ms (%d ms); nothing was written",
	    path, who, busy_timeout_ms);
}

/* SQLite gave up on a lock (SQLITE_BUSY, or the migration's BEGIN
 * IMMEDIATE that said so). */
static int
busy_error(sqlite3 *db)
{
	return (sqlite3_errcode(db) & 0xff) == SQLITE_BUSY;
}

/* Replace *err by the permissions problem behind a failed open, if any
 * (SQLite reports one as read-only, cannot open, I/O or busy). */
static int
classify_open(int store_rc, const char *path, int write, char **err)
{
	char *p;

	if ((p = perm_problem(path, write)) == NULL)
		return store_rc;
	free(*err);
	*err = p;
	return STORE_PERM;
}

static int
open_readonly(const char *path, int busy_timeout_ms, struct store **out,
    char **err)
{
	struct store_sqlite *st;
	int rc, v = 0;

	if (access(path, F_OK) == -1 && errno == ENOENT) {
		*err = xasprintf("%s: no database yet: intaked creates it when "
		    "it starts (or the first `intake ingest`)", path);
		return STORE_OLDER;
	}
	st = xcalloc(1, sizeof(*st));
	st->base.ops = &store_sqlite_ops;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(st->db, busy_timeout_ms);
		sqlite3_extended_result_codes(st->db, 1);
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
		/* ON as for writers (see configure()): search reads views
		 * that call json_extract(), which SQLite 3.40 does not count
		 * as innocuous, and our own functions. */
		rc = exec(st->db, "PRAGMA trusted_schema = ON");
	}
	if (rc == SQLITE_OK)
		rc = search_register(st->db);
	/* user_version reads the header: a read, never the write lock */
	if (rc == SQLITE_OK)
		rc = user_version(st->db, &v);
	if (rc != SQLITE_OK) {
		*err = db_error(st->db, path);
		sqlite3_close(st->db);
		free(st);
		return classify_open(store_classify(rc), path, 0, err);
	}
	if (v != store_schema_latest()) {
		*err = v > store_schema_latest() ?
		    xasprintf("%s: database schema version %d is newer than this "
		    "program knows (%d): upgrade intake", path, v,
		    store_schema_latest()) :
		    xasprintf("%s: database schema version %d is older than this "
		    "program's (%d): read commands do not migrate; restart "
		    "intaked (or run any writing command, e.g. `intake purge "
		    "--dry-run`) to migrate it", path, v, store_schema_latest());
		sqlite3_close(st->db);
		free(st);
		return v > store_schema_latest() ? STORE_NEWER : STORE_OLDER;
	}
	remember_identity(st, path);
	*out = &st->base;
	return STORE_OK;
}

static int
open_readwrite(const char *path, const char *group, int busy_timeout_ms,
    struct store **out, char **err)
{
	struct store_sqlite *st;
	struct stat sb;
	int rc;

	if (stat(path, &sb) == -1) {
		if (errno != ENOENT) {
			*err = xasprintf("%s: %s", path, strerror(errno));
			return errno == EACCES ? STORE_PERM : STORE_TEMP;
		}
		if ((rc = create_file(path, group, err)) != STORE_OK)
			return rc;
	}
	st = xcalloc(1, sizeof(*st));
	st->base.ops = &store_sqlite_ops;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		*err = xasprintf("%s: %s", path, st->db ? sqlite3_errmsg(st->db) :
		    sqlite3_errstr(rc));
		sqlite3_close(st->db);
		free(st);
		return classify_open(store_classify(rc), path, 1, err);
	}
	rc = configure(st->db, busy_timeout_ms);
	if (rc != SQLITE_OK) {
		int busy = busy_error(st->db);

		*err = db_error(st->db, path);
		sqlite3_close(st->db);
		free(st);
		if (busy)
			explain_locked(path, busy_timeout_ms, err);
		return classify_open(store_classify(rc), path, 1, err);
	}
	if ((rc = migrate(st->db, err)) != STORE_OK) {
		char *e = *err;
		int busy = rc == STORE_TEMP && busy_error(st->db);

		*err = xasprintf("%s: %s", path, e);
		free(e);
		sqlite3_close(st->db);
		free(st);
		if (busy)
			explain_locked(path, busy_timeout_ms, err);
		return rc == STORE_NEWER ? rc : classify_open(rc, path, 1, err);
	}
	remember_identity(st, path);
	*out = &st->base;
	return STORE_OK;
}

int
store_sqlite_open(const char *path, const char *group, int busy_timeout_ms,
    int flags, struct store **out, char **err)
{
	*out = NULL;
	*err = NULL;
	if (flags & STORE_OPEN_READONLY)
		return open_readonly(path, busy_timeout_ms, out, err);
	return open_readwrite(path, group, busy_timeout_ms, out, err);
}

static int
sqlite_open(const struct config *cfg, int flags, struct store **out,
    char **err)
{
	return store_sqlite_open(cfg->database, cfg->database_group,
	    cfg->busy_timeout_ms, flags, out, err);
}

static void
sqlite_close(struct store *base)
{
	struct store_sqlite *st = (struct store_sqlite *)base;
	size_t i;

	for (i = 0; i < st->ncache; i++) {
		sqlite3_finalize(st->cache[i].stmt);
		free(st->cache[i].sql);
		free(st->cache[i].wrap);
	}
	free(st->cache);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* The cache entry of sql, prepared now if new; NULL with *rc (SQLite's). */
static struct cached_stmt *
cached(struct store_sqlite *st, const char *sql, int *rc)
{
	sqlite3_stmt *s = NULL;
	size_t i;

	for (i = 0; i < st->ncache; i++)
		if (st->cache[i].sql == sql || strcmp(st->cache[i].sql, sql) == 0)
			return &st->cache[i];
	*rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
	    NULL);
	if (*rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return NULL;
	}
	if (st->ncache == st->capcache) {
		st->capcache = st->capcache ? st->capcache * 2 : 16;
		st->cache = xreallocarray(st->cache, st->capcache,
		    sizeof(*st->cache));
	}
	st->cache[st->ncache].sql = xstrdup(sql);
	st->cache[st->ncache].stmt = s;
	st->cache[st->ncache].wrap = NULL;
	return &st->cache[st->ncache++];
}

/*
 * Parsing SQL was a tenth of ingesting a message: each statement is
 * prepared once per connection.  The key is the text (a pointer match
 * first, the common case of a string literal).
 */
sqlite3_stmt *
store_stmt(struct store *base, const char *sql, int *rc)
{
	struct store_sqlite *st = lite(base);
	struct cached_stmt *c;

	if (st == NULL) {
		*rc = SQLITE_MISUSE;
		return NULL;
	}
	c = cached(st, sql, rc);
	return c ? c->stmt : NULL;
}

void
store_stmt_done(sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

sqlite3 *
store_db(struct store *base)
{
	struct store_sqlite *st = lite(base);

	return st ? st->db : NULL;
}

static int
sqlite_schema_version(struct store *base)
{
	struct store_sqlite *st = (struct store_sqlite *)base;
	int v = -1;

	user_version(st->db, &v);
	return v;
}

static int
sqlite_begin(struct store *base)
{
	struct store_sqlite *st = (struct store_sqlite *)base;
	int rc = exec(st->db, "BEGIN IMMEDIATE");

	return rc == SQLITE_OK ? STORE_OK : store_classify(rc);
}

static int
sqlite_commit(struct store *base)
{
	struct store_sqlite *st = (struct store_sqlite *)base;
	int rc = exec(st->db, "COMMIT");

	if (rc == SQLITE_OK)
		return STORE_OK;
	/* A failed COMMIT may leave the transaction open: end it. */
	if (!sqlite3_get_autocommit(st->db))
		exec(st->db, "ROLLBACK");
	return store_classify(rc);
}

static void
sqlite_rollback(struct store *base)
{
	struct store_sqlite *st = (struct store_sqlite *)base;

	if (!sqlite3_get_autocommit(st->db))
		exec(st->db, "ROLLBACK");
}

static const char *
sqlite_errmsg(struct store *base)
{
	return sqlite3_errmsg(((struct store_sqlite *)base)->db);
}

static const char *
sqlite_actor(struct store *base)
{
	(void)base;
	return NULL;
}

/* The statement API over the same cache as store_stmt(): one prepared
 * statement per text, whichever API asked first. */
static struct stmt *
sqlite_prepare(struct store *base, const struct query *q, int *rc)
{
	struct store_sqlite *st = (struct store_sqlite *)base;
	struct cached_stmt *c;
	int lrc = SQLITE_OK;

	if ((c = cached(st, q->sql, &lrc)) == NULL) {
		*rc = store_classify(lrc);
		return NULL;
	}
	if (c->wrap == NULL) {
		c->wrap = xcalloc(1, sizeof(*c->wrap));
		c->wrap->base.ops = &store_sqlite_ops;
		c->wrap->s = c->stmt;
		c->wrap->q = q;
	}
	return &c->wrap->base;
}

static sqlite3_stmt *
ls(struct stmt *s)
{
	return ((struct sqlite_stmt *)s)->s;
}

static int
bound(int rc)
{
	return rc == SQLITE_OK ? STORE_OK : store_classify(rc);
}

static int
sqlite_bind_int64(struct stmt *s, int i, long long v)
{
	return bound(sqlite3_bind_int64(ls(s), i, (sqlite3_int64)v));
}

static int
sqlite_bind_text(struct stmt *s, int i, const char *t, size_t len)
{
	return bound(sqlite3_bind_text64(ls(s), i, t, (sqlite3_uint64)len,
	    SQLITE_TRANSIENT, SQLITE_UTF8));
}

static int
sqlite_bind_blob(struct stmt *s, int i, const void *b, size_t len)
{
	return bound(sqlite3_bind_blob64(ls(s), i, b, (sqlite3_uint64)len,
	    SQLITE_TRANSIENT));
}

static int
sqlite_bind_null(struct stmt *s, int i)
{
	return bound(sqlite3_bind_null(ls(s), i));
}

static int
sqlite_step(struct stmt *s)
{
	int rc = sqlite3_step(ls(s));

	if (rc == SQLITE_ROW)
		return STORE_ROW;
	if (rc == SQLITE_DONE)
		return STORE_DONE;
	return store_classify(rc);
}

static int
sqlite_col_null(struct stmt *s, int i)
{
	return sqlite3_column_type(ls(s), i) == SQLITE_NULL;
}

static long long
sqlite_col_int64(struct stmt *s, int i)
{
	return (long long)sqlite3_column_int64(ls(s), i);
}

static const char *
sqlite_col_text(struct stmt *s, int i, size_t *len)
{
	const char *t = (const char *)sqlite3_column_text(ls(s), i);

	*len = t ? (size_t)sqlite3_column_bytes(ls(s), i) : 0;
	return t;
}

static const void *
sqlite_col_blob(struct stmt *s, int i, size_t *len)
{
	const void *b = sqlite3_column_blob(ls(s), i);

	*len = (size_t)sqlite3_column_bytes(ls(s), i);
	return b;
}

static void
sqlite_done(struct stmt *s)
{
	sqlite3_stmt *st = ls(s);

	/* A write left after its first row (INSERT ... RETURNING id): run
	 * to its end first, as PostgreSQL has.  Reset there, an insert into
	 * messages (triggers: the search index) was seen to end the
	 * caller's transaction, savepoints and all (SQLite 3.40). */
	if (sqlite3_stmt_busy(st) && !sqlite3_stmt_readonly(st))
		while (sqlite3_step(st) == SQLITE_ROW)
			;
	store_stmt_done(st);
}

static long long
sqlite_changes(struct stmt *s)
{
	return (long long)sqlite3_changes64(sqlite3_db_handle(ls(s)));
}

static int
sqlite_exec(struct store *base, const char *sql)
{
	int rc = exec(((struct store_sqlite *)base)->db, sql);

	return rc == SQLITE_OK ? STORE_OK : store_classify(rc);
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.prepare = sqlite_prepare,
	.bind_int64 = sqlite_bind_int64,
	.bind_text = sqlite_bind_text,
	.bind_blob = sqlite_bind_blob,
	.bind_null = sqlite_bind_null,
	.step = sqlite_step,
	.col_null = sqlite_col_null,
	.col_int64 = sqlite_col_int64,
	.col_text = sqlite_col_text,
	.col_blob = sqlite_col_blob,
	.done = sqlite_done,
	.changes = sqlite_changes,
	.actor = sqlite_actor,
	.errmsg = sqlite_errmsg,
	.schema_version = sqlite_schema_version,
	.exec = sqlite_exec,
};
