-- Effectively-once processing: a transactional subscriber records (consumer, message_id)
-- in the same transaction as its handler's writes and skips messages already recorded.
CREATE TABLE IF NOT EXISTS inbox (
    consumer     text        NOT NULL,
    message_id   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inbox_pk PRIMARY KEY (consumer, message_id)
);
-- Cleanup deletes rows older than the retention window.
CREATE INDEX IF NOT EXISTS inbox_processed_at_idx ON inbox (processed_at);
