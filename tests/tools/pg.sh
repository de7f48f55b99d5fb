# tests/tools/pg.sh: a throwaway PostgreSQL 15 for one integration test
# (sourced after tests/lib.sh, which provides $T and at_exit).
#
#   pg_start        initdb + pg_ctl start under $T/pg: a unix socket only
#                   (listen_addresses = ''), in $T/pg/sock, so it can neither
#                   collide with another test nor be reached from the network.
#                   Sets PG_BIN, PGHOST, PGPORT, PGUSER (the bootstrap
#                   superuser "intake_super", local trust authentication),
#                   PG_URL (a postgresql:// URI of database "intake") and
#                   PG_PID (the postmaster), and stops it at exit.
#   pg_stop         stops that postmaster by its PID (fast shutdown, then
#                   SIGKILL after a long wait) and waits until it is gone.
#   pg_psql ARGS    psql on it, quiet, unaligned, no headers, ON_ERROR_STOP.
#
# PostgreSQL refuses to run as root: as root the server runs as `nobody`
# (runuser, else setpriv), which owns $T/pg and nothing else; $T is opened
# to 0711 so that user can reach it.  As another user it runs as that user.
# Without postgresql-15 the test is skipped (exit 77).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_as() {	# pg_as CMD ARGS...: as the server's user
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$PG_USER" -- "$@"
	else
		setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" \
		    --clear-groups -- "$@"
	fi
}

pg_start() {
	for p in initdb pg_ctl postgres psql; do
		if [ ! -x "$PG_BIN/$p" ]; then
			echo "skip: PostgreSQL 15 is not installed ($PG_BIN/$p; apt-get install postgresql-15)"
			exit 77
		fi
	done
	PG_USER=$(id -un)
	if [ "$(id -u)" -eq 0 ]; then
		PG_USER=nobody
		if ! id "$PG_USER" >/dev/null 2>&1; then
			echo "skip: running as root and there is no user '$PG_USER' to run PostgreSQL as"
			exit 77
		fi
		chmod 0711 "$T"
	fi
	PG_DIR=$T/pg
	mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
	chmod 0700 "$PG_DIR/data"
	[ "$(id -u)" -eq 0 ] && chown -R "$PG_USER" "$PG_DIR"
	# The socket's name carries the port number; the directory is this
	# test's own, so any number is free.  Vary it anyway, for the logs.
	PGPORT=$((20000 + $$ % 20000))
	PGHOST=$PG_DIR/sock
	PGUSER=intake_super
	export PGHOST PGPORT PGUSER
	unset PGDATABASE PGPASSWORD PGSERVICE PGSSLMODE 2>/dev/null || true
	# --no-sync: initdb's own fsync of a throwaway cluster (the server
	# itself still runs with fsync and synchronous_commit on).
	if ! pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PGUSER" \
	    --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
		echo "pg_start: initdb failed:"
		tail -n 20 "$PG_DIR/initdb.log"
		exit 1
	fi
	cat >>"$PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$PGHOST'
fsync = on
synchronous_commit = on
log_min_messages = warning
EOF
	# -w: pg_ctl waits until the server accepts connections; the timeout
	# is generous (a loaded machine), not a measure.
	if ! pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
	    -w -t 300 start >"$PG_DIR/pg_ctl.log" 2>&1; then
		echo "pg_start: the server did not start:"
		tail -n 20 "$PG_DIR/server.log"
		exit 1
	fi
	PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
	at_exit pg_stop
	"$PG_BIN/psql" -X -q -d postgres -c 'CREATE DATABASE intake' || {
		echo "pg_start: CREATE DATABASE failed"
		exit 1
	}
	PG_URL="postgresql:///intake?host=$PGHOST&port=$PGPORT&user=$PGUSER"
}

pg_stop() {
	[ -n "${PG_PID:-}" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null
	n=0
	while kill -0 "$PG_PID" 2>/dev/null && [ $n -lt 600 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "$PG_PID" 2>/dev/null
	PG_PID=
}

pg_psql() {
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d intake "$@"
}
