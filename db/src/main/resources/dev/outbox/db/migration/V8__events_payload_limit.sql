-- The largest payload the pipeline carries: the relay holds a few copies of an event while it
-- decodes and publishes it, so its heap is sized for payloads up to this (docs/design.md
-- section 2), and RabbitMQ 4's default max_message_size is the same 16 MiB. NOT VALID: checked
-- for new rows only, so existing tables are not scanned.
ALTER TABLE events DROP CONSTRAINT IF EXISTS payload_at_most_16_mib;
ALTER TABLE events ADD CONSTRAINT payload_at_most_16_mib CHECK (octet_length(payload::text) <= 16777216) NOT VALID;
COMMENT ON CONSTRAINT payload_at_most_16_mib ON events IS
    'The payload, as JSON text, is at most 16 MiB: the relay''s heap and RabbitMQ''s default max_message_size are sized for it. Store larger data elsewhere and put a reference in the payload.';
