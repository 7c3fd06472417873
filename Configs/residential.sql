-- Tandem residential example (Configs/residential.cfg): the subscriber table, in OpenSIPS's layout
-- (the columns residential.cfg reads; OpenSIPS's other columns may stay).
--   psql "postgres://tandem:secret@127.0.0.1:5432/tandem" -f Configs/residential.sql
CREATE TABLE IF NOT EXISTS subscriber (
    id SERIAL PRIMARY KEY,
    username VARCHAR(64) NOT NULL DEFAULT '',
    domain VARCHAR(64) NOT NULL DEFAULT '',
    password VARCHAR(25) NOT NULL DEFAULT '',
    email_address VARCHAR(64),
    ha1 VARCHAR(64) NOT NULL DEFAULT '',
    ha1_sha256 VARCHAR(64) NOT NULL DEFAULT '',
    ha1_sha512t256 VARCHAR(64) NOT NULL DEFAULT '',
    CONSTRAINT subscriber_account_idx UNIQUE (username, domain)
);
CREATE INDEX IF NOT EXISTS subscriber_username_idx ON subscriber (username);

-- Add a user (one line):
--   psql "$DB" -c "INSERT INTO subscriber (username, domain, password) VALUES ('alice', 'example.com', 'wonderland')"

-- Registrations in PostgreSQL too (usrloc working_mode_preset single-instance-sql-write-through or
-- sql-only, modparam("usrloc", "db_url", ...)): also load Configs/location-postgres.sql.
