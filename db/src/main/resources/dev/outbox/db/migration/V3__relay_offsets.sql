-- Debezium offsets of cdc-relay, kept next to the data so a relay container holds no state.
-- One row per (relay slot, offset key); written once per confirmed batch.
CREATE TABLE IF NOT EXISTS relay_offsets (
    slot_name    text        NOT NULL,
    offset_key   text        NOT NULL,
    offset_value text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT relay_offsets_pk PRIMARY KEY (slot_name, offset_key)
);
