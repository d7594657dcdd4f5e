-- created_at is sent as the message's AMQP timestamp and created-at header, which have no
-- 'infinity'. NOT VALID: checked for new rows only, so existing tables are not scanned or locked
-- for long; the relay still publishes an old 'infinity' row (with the latest time it can express).
ALTER TABLE events DROP CONSTRAINT IF EXISTS created_at_must_be_finite;
ALTER TABLE events ADD CONSTRAINT created_at_must_be_finite CHECK (isfinite(created_at)) NOT VALID;
COMMENT ON CONSTRAINT created_at_must_be_finite ON events IS
    'created_at becomes the AMQP timestamp and the created-at header: it must be a finite time, not infinity or -infinity.';
