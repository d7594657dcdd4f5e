-- The AMQP properties of a dead letter (message id, app id, timestamp, content type ...),
-- so a replay sends the message with the properties it had.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS properties jsonb NOT NULL DEFAULT '{}'::jsonb;
