-- 015_source_failures.sql: the source engine's failure record (issue 13),
-- for drivers with SRCDRV_FAILURES_SAVED (include/source.h): one line per
-- message that failed, "TRIES SUSPECT KEY" (failures in a row; 1 when it
-- was in a fetch of several that failed, so it is fetched alone), so that
-- `intaked --once` under cron counts across runs.  NULL or empty: none.
-- Written by the engine only (daemon/source.c).
ALTER TABLE source_state ADD COLUMN failures TEXT;
