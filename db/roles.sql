-- Least-privilege roles for the outbox, for operators who do not run the relay as a superuser.
-- Run once as a superuser (or the owner of the tables) in the application's database, after the
-- migrations (java -jar cdc-relay.jar migrate, or Migrations.apply), then give the login roles
-- passwords:   ALTER ROLE outbox_relay PASSWORD '...';
-- Idempotent: running it again changes nothing. Tables are found through the search path
-- (public by default); edit the schema name below if the outbox lives elsewhere.
--
--   outbox_relay     LOGIN REPLICATION: streams the WAL, reads events, keeps its offsets, runs
--                    the dead-letter capture and the CLI. It cannot read other tables.
--                    Run it with RELAY_MIGRATE=false (it may not create tables).
--   outbox_app       NOLOGIN: grant it to the application's login role; may append events.
--   outbox_consumer  NOLOGIN: grant it to consumers; inbox and dead-letter capture.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'outbox_relay') THEN
        CREATE ROLE outbox_relay LOGIN REPLICATION;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'outbox_app') THEN
        CREATE ROLE outbox_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'outbox_consumer') THEN
        CREATE ROLE outbox_consumer NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO outbox_relay, outbox_app, outbox_consumer;

-- The relay: read the outbox, keep its offsets, store and replay dead letters.
-- DELETE: the retention rule removes published rows (RELAY_EVENTS_RETENTION_HOURS).
GRANT SELECT, DELETE ON events TO outbox_relay;
GRANT SELECT, INSERT, UPDATE, DELETE ON relay_offsets TO outbox_relay;
GRANT SELECT, INSERT, UPDATE, DELETE ON dead_letters TO outbox_relay;
GRANT USAGE ON SEQUENCE dead_letters_id_seq TO outbox_relay;
-- The console's audit of replays and discards: appended and read, never changed.
GRANT SELECT, INSERT ON console_audit TO outbox_relay;
GRANT USAGE ON SEQUENCE console_audit_id_seq TO outbox_relay;

-- Applications: append events (RETURNING id, message_id needs those two columns).
GRANT INSERT ON events TO outbox_app;
GRANT SELECT (id, message_id) ON events TO outbox_app;
GRANT USAGE ON SEQUENCE events_id_seq TO outbox_app;

-- Consumers: the inbox of transactional subscriptions, and the dead-letter capture and replay.
GRANT SELECT, INSERT, DELETE ON inbox TO outbox_consumer;
GRANT SELECT, INSERT, UPDATE ON dead_letters TO outbox_consumer;
GRANT USAGE ON SEQUENCE dead_letters_id_seq TO outbox_consumer;

-- Creating a publication needs ownership of the table, which the relay does not have: create
-- it here, on the events table alone, under the name the relay uses (RELAY_PUBLICATION,
-- default <RELAY_SLOT>_events, i.e. cdc_relay_events).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'cdc_relay_events') THEN
        CREATE PUBLICATION cdc_relay_events FOR TABLE events;
    END IF;
END
$$;
