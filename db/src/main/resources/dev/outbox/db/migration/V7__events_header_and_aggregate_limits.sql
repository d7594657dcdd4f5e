-- What AMQP and the pipeline can carry, refused at write time for writers that bypass the
-- Java API (OutboxEvent checks the same). NOT VALID: checked for new rows only, so existing
-- tables are not scanned; the relay still sets an old row that breaks them aside as relay_error.
-- Header names the relay and the SDK act on are reserved: a producer could otherwise steer
-- where its message is retried, dead-lettered or replayed to.
CREATE OR REPLACE FUNCTION outbox_header_names_are_allowed(headers jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM jsonb_object_keys(headers) AS k
        WHERE octet_length(k) > 255
           OR lower(k) IN ('event-id', 'created-at', 'aggregate-type', 'aggregate-id', 'retry-count',
                           'dead-letter-reason', 'dead-letter-queue', 'dead-letter-id', 'dead-lettered-at',
                           'replay-count', 'error', 'original-exchange', 'original-routing-key', 'body-omitted-bytes'))
$$;

ALTER TABLE events DROP CONSTRAINT IF EXISTS headers_names_at_most_255_bytes_and_not_reserved;
ALTER TABLE events ADD CONSTRAINT headers_names_at_most_255_bytes_and_not_reserved
    CHECK (jsonb_typeof(headers) <> 'object' OR outbox_header_names_are_allowed(headers)) NOT VALID;
COMMENT ON CONSTRAINT headers_names_at_most_255_bytes_and_not_reserved ON events IS
    'Header names are AMQP short strings (at most 255 bytes), and the names the relay and the SDK set themselves (event-id, retry-count, dead-letter-*, original-*, error, ...) are reserved.';

ALTER TABLE events DROP CONSTRAINT IF EXISTS headers_at_most_65536_bytes;
ALTER TABLE events ADD CONSTRAINT headers_at_most_65536_bytes CHECK (octet_length(headers::text) <= 65536) NOT VALID;
COMMENT ON CONSTRAINT headers_at_most_65536_bytes ON events IS
    'All headers go in one AMQP frame with the relay''s own: at most 64 KiB of them; large data belongs in the payload.';

ALTER TABLE events DROP CONSTRAINT IF EXISTS aggregate_type_and_id_at_most_1000_bytes;
ALTER TABLE events ADD CONSTRAINT aggregate_type_and_id_at_most_1000_bytes
    CHECK (coalesce(octet_length(aggregate_type), 0) <= 1000 AND coalesce(octet_length(aggregate_id), 0) <= 1000) NOT VALID;
COMMENT ON CONSTRAINT aggregate_type_and_id_at_most_1000_bytes ON events IS
    'aggregate_type and aggregate_id are AMQP headers and an indexed pair: at most 1000 bytes each.';
