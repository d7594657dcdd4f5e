-- The outbox. One row is one message; see DESIGN.md section 2.
-- Safe in a database that already has other tables (everything is IF NOT EXISTS, and
-- Flyway keeps its own history table, outbox_schema_history, apart from the application's).

CREATE TABLE IF NOT EXISTS events (
    id             bigserial   PRIMARY KEY,
    message_id     uuid        NOT NULL DEFAULT gen_random_uuid(),
    routing_key    text        NOT NULL,
    payload        jsonb       NOT NULL,
    headers        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    aggregate_type text,
    aggregate_id   text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_message_id_unique UNIQUE (message_id),
    -- The constraint names are the error message a writer that bypasses the Java API sees
    -- ("violates check constraint routing_key_..."), so each one states its rule.
    CONSTRAINT routing_key_needs_two_nonempty_dot_separated_segments
        CHECK (routing_key ~ '^[^.]+(\.[^.]+)+$'),
    CONSTRAINT routing_key_exchange_is_1_to_255_letters_digits_underscore_dash
        CHECK (split_part(routing_key, '.', 1) ~ '^[A-Za-z0-9_-]{1,255}$'),
    CONSTRAINT routing_key_at_most_255_bytes
        CHECK (octet_length(routing_key) <= 255),
    CONSTRAINT payload_must_not_be_json_null
        CHECK (jsonb_typeof(payload) <> 'null'),
    CONSTRAINT headers_must_be_json_object_of_string_values
        CHECK (jsonb_typeof(headers) = 'object'
               AND NOT jsonb_path_exists(headers, '$.* ? (@.type() != "string")'))
);

COMMENT ON TABLE events IS
    'Transactional outbox: insert in the same transaction as the entity; cdc-relay publishes each insert to RabbitMQ. Rows may be deleted once published.';
COMMENT ON CONSTRAINT routing_key_needs_two_nonempty_dot_separated_segments ON events IS
    'A routing key is exchange.rest, e.g. order.created: at least two non-empty segments separated by dots.';
COMMENT ON CONSTRAINT routing_key_exchange_is_1_to_255_letters_digits_underscore_dash ON events IS
    'The first segment names the RabbitMQ exchange: 1 to 255 characters of A-Z a-z 0-9 _ -.';

-- republish --since T and retention jobs look rows up by time.
CREATE INDEX IF NOT EXISTS events_created_at_idx ON events (created_at);
-- What an event is about: lets applications find the events of one aggregate.
CREATE INDEX IF NOT EXISTS events_aggregate_idx ON events (aggregate_type, aggregate_id)
    WHERE aggregate_type IS NOT NULL;
