-- One row per dead-lettered message captured from the DLX exchange (and the relay's
-- unrouted queue); see DESIGN.md section 2. Rows are inspected, replayed or discarded one by one.

CREATE TABLE IF NOT EXISTS dead_letters (
    id               bigserial   PRIMARY KEY,
    -- text, not uuid: messages published by others may carry any message id, or none.
    message_id       text,
    exchange         text,
    routing_key      text,
    queue            text,
    reason           text        NOT NULL,
    retry_count      integer     NOT NULL DEFAULT 0,
    last_error       text,
    headers          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    body             bytea       NOT NULL,
    body_json        jsonb,
    dead_lettered_at timestamptz,
    captured_at      timestamptz NOT NULL DEFAULT now(),
    status           text        NOT NULL DEFAULT 'new',
    replayed_at      timestamptz,
    -- Identifies one death of one message, so a redelivered copy of the same dead letter
    -- (capture killed between commit and ack) does not create a second row.
    dedupe_key       text        NOT NULL,
    CONSTRAINT dead_letters_dedupe_key_unique UNIQUE (dedupe_key),
    CONSTRAINT dead_letter_reason_is_known
        CHECK (reason IN ('rejected', 'expired', 'maxlen', 'delivery_limit',
                          'retries_exhausted', 'unroutable', 'relay_error')),
    CONSTRAINT dead_letter_status_is_new_replayed_or_discarded
        CHECK (status IN ('new', 'replayed', 'discarded'))
);

CREATE INDEX IF NOT EXISTS dead_letters_status_queue_idx ON dead_letters (status, queue, id);
CREATE INDEX IF NOT EXISTS dead_letters_reason_idx ON dead_letters (reason, id);
CREATE INDEX IF NOT EXISTS dead_letters_message_id_idx ON dead_letters (message_id);
