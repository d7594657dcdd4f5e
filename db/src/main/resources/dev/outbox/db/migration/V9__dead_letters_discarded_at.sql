-- When a dead letter was discarded, so the relay's retention rule (RELAY_DEAD_LETTERS_RETENTION_HOURS)
-- counts a discarded row's age from its discard, as it counts a replayed one's from replayed_at.
-- Rows discarded before this column existed count from captured_at. See docs/design.md, Retention.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS discarded_at timestamptz;
