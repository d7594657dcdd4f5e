-- Every replay and discard an operator asks for, from the console, its API or the CLI: who,
-- when, what was asked (the filter or the ids), which dead letters it touched and how it went.
-- Rows are never updated or pruned by the relay; see docs/operating.md, Console.
CREATE TABLE IF NOT EXISTS console_audit (
    id              bigserial   PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    -- user name, "token" or "cli:<os user>"; never a secret
    actor           text        NOT NULL,
    remote_address  text,
    action          text        NOT NULL,
    -- what was asked: {"ids": [...]} or the filter, as given
    request         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    dead_letter_ids bigint[]    NOT NULL DEFAULT '{}',
    succeeded       integer     NOT NULL DEFAULT 0,
    refused         integer     NOT NULL DEFAULT 0,
    -- the first refusals, for the reader: "12: dead letter 12 is replayed ..."
    detail          text,
    CONSTRAINT console_audit_action_is_known CHECK (action IN ('replay', 'discard'))
);

CREATE INDEX IF NOT EXISTS console_audit_dead_letter_ids_idx ON console_audit USING gin (dead_letter_ids);
