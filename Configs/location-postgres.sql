-- The usrloc `location` table for Tandem's database modes (working_mode_preset
-- single-instance-sql-write-through, single-instance-sql-write-back, sql-only; db_mode 1/2/3),
-- in the column layout of OpenSIPS 3.6, so that an OpenSIPS location table can be reused as it is.
--   psql "postgres://USER@HOST/DB" -f Configs/location-postgres.sql
-- Tandem writes contact_id, username, domain, contact, received, path, expires (Unix time), q, callid,
-- cseq, last_modified, flags, cflags (the branch flags as a number), user_agent, socket, sip_instance, methods
-- (Allow, OpenSIPS method bits) and kv_store ({"reg-id":N}, RFC 5626: the 3.6 table has no reg_id
-- column); it leaves attr NULL. Several Tandem instances may share this table (see README, "Scale-out").
CREATE TABLE IF NOT EXISTS location (
    contact_id BIGINT PRIMARY KEY NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT NULL,
    contact TEXT NOT NULL,
    received VARCHAR(255) DEFAULT NULL,
    path VARCHAR(512) DEFAULT NULL,
    expires INTEGER NOT NULL,
    q REAL DEFAULT 1.0 NOT NULL,
    callid VARCHAR(255) DEFAULT 'Default-Call-ID' NOT NULL,
    cseq INTEGER DEFAULT 13 NOT NULL,
    last_modified TIMESTAMP WITHOUT TIME ZONE DEFAULT '1900-01-01 00:00:01' NOT NULL,
    flags INTEGER DEFAULT 0 NOT NULL,
    cflags VARCHAR(255) DEFAULT NULL,
    user_agent VARCHAR(255) DEFAULT '' NOT NULL,
    socket VARCHAR(64) DEFAULT NULL,
    methods INTEGER DEFAULT NULL,
    sip_instance VARCHAR(255) DEFAULT NULL,
    kv_store TEXT DEFAULT NULL,
    attr VARCHAR(255) DEFAULT NULL
);
-- Lookups and writes go by AOR; the timer deletes by expiry.
CREATE INDEX IF NOT EXISTS location_aor_idx ON location (username, domain);
CREATE INDEX IF NOT EXISTS location_expires_idx ON location (expires);
