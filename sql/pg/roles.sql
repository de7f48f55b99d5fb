-- sql/pg/roles.sql: the three database roles of intake on PostgreSQL and
-- what each may do.  Run it as a superuser (or a role with CREATEROLE that
-- owns the database), in the intake database, after the schema exists
-- (`intake db copy`, or a first start) and again after every upgrade: it is
-- idempotent and re-grants on the tables of newer migrations.
--
--     psql -v ON_ERROR_STOP=1 -d intake -f sql/pg/roles.sql
--
-- The three are group roles (NOLOGIN); people and services log in as their
-- own roles, members of one of them, so that the database knows who did what:
--
--     CREATE ROLE intaked LOGIN IN ROLE intake_daemon;   -- the service
--     CREATE ROLE alice LOGIN IN ROLE intake_staff;      -- one per person
--     CREATE ROLE bob LOGIN IN ROLE intake_admin;        -- purge, upgrades
--
-- intake_admin  owns every table, sequence, function and the text search
--               configuration (so only it can ALTER or DROP them), and runs
--               the migrations and `intake purge`.
-- intake_daemon reads and writes what the pipeline writes (tickets,
--               messages, events, outbox, source state, reminders,
--               escalations, acknowledgements); it deletes nothing.
-- intake_staff  reads tickets, messages, events and the health tables,
--               writes workflow actions (an event, the ticket's columns, a
--               message's responded_at, an alert queued by a reclassify);
--               cannot delete (no purge), drop or alter anything.
-- No role but intake_admin gets a right on a table this file does not
-- name.  Secrets (IMAP passwords, tokens) are not in the database: they
-- stay in 0600 files of the service (see database_password_file).

DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['intake_admin', 'intake_daemon', 'intake_staff']
	LOOP
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END $$;

DO $$
BEGIN
	EXECUTE format('GRANT CONNECT, TEMPORARY, CREATE ON DATABASE %I TO '
	    'intake_admin', current_database());
	EXECUTE format('GRANT CONNECT ON DATABASE %I TO intake_daemon, '
	    'intake_staff', current_database());
END $$;
GRANT USAGE, CREATE ON SCHEMA public TO intake_admin;
GRANT USAGE ON SCHEMA public TO intake_daemon, intake_staff;

-- intake_admin owns what the migrations made (whoever ran them).
DO $$
DECLARE
	o record;
BEGIN
	FOR o IN SELECT c.relname FROM pg_class c
	    JOIN pg_namespace n ON n.oid = c.relnamespace
	    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
	LOOP
		EXECUTE format('ALTER TABLE public.%I OWNER TO intake_admin',
		    o.relname);
	END LOOP;
	FOR o IN SELECT p.oid::regprocedure AS f FROM pg_proc p
	    JOIN pg_namespace n ON n.oid = p.pronamespace
	    LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
	    WHERE n.nspname = 'public' AND d.objid IS NULL
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO intake_admin', o.f);
	END LOOP;
	IF EXISTS (SELECT FROM pg_ts_config WHERE cfgname = 'intake_search') THEN
		ALTER TEXT SEARCH CONFIGURATION intake_search OWNER TO intake_admin;
	END IF;
END $$;

-- Start from nothing, then grant exactly.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, intake_daemon,
    intake_staff;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, intake_daemon,
    intake_staff;

-- The daemon (and `intake ingest`, `intake remind` run by the service).
GRANT SELECT, INSERT, UPDATE ON tickets, messages, events, outbox,
    source_state, reminders, remind_runs, acks_sent, escalations
    TO intake_daemon;
GRANT SELECT ON purge_log, schema_version TO intake_daemon;
-- 006: the daemon records a second copy and checks what was purged.
GRANT SELECT, INSERT ON message_copies TO intake_daemon;
GRANT SELECT ON purged TO intake_daemon;
-- 007: the rota's gap alerts and the tokens of acks by mail.
GRANT SELECT, INSERT, UPDATE ON oncall_gaps, mail_acks TO intake_daemon;
-- 012: staff replies that threaded to no ticket (intake status lists them).
GRANT SELECT, INSERT ON unmatched_replies TO intake_daemon;
GRANT SELECT ON unmatched_replies TO intake_staff;
-- 013: the daemon takes, renews and fences its sources' leases (lease.c);
-- staff see who holds which (intake status).
GRANT SELECT, INSERT, UPDATE ON source_leases TO intake_daemon;
GRANT SELECT ON source_leases TO intake_staff;
-- 014: a kept reply is marked attached (and its content cleared) when the
-- message it answers arrives.
GRANT UPDATE ON unmatched_replies TO intake_daemon;

-- Staff: read everything the staff commands show ...
GRANT SELECT ON tickets, messages, events, outbox, source_state, reminders,
    remind_runs, acks_sent, escalations, purge_log, schema_version,
    message_copies TO intake_staff;
-- ... and write the workflow actions (workflow.c): an event, the ticket's
-- workflow columns, the answered time of messages, an alert a reclassify
-- queues.  No DELETE anywhere: purge is intake_admin's.
GRANT INSERT ON events, outbox TO intake_staff;
GRANT UPDATE (type, urgency, minor, danger, automated, needs_interpreter,
    needs_human, lang, rationale, status, disposition, response_due,
    in_business_hours, breach_at, acknowledged_at, acknowledged_by, sla_met,
    closed_at, assignee, updated_at, awaiting_since, awaiting_message)
    ON tickets TO intake_staff;
GRANT UPDATE (responded_at) ON messages TO intake_staff;
