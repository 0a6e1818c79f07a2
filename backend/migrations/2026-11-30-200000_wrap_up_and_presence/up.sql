-- After-call work and presence reasons.

-- Wrap-up settings: at most one row (written here with the defaults: wrap-up off).
CREATE TABLE wrap_up_settings (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    wrap_up_seconds integer NOT NULL DEFAULT 0 CHECK (wrap_up_seconds BETWEEN 0 AND 1800),
    extension_seconds integer NOT NULL DEFAULT 60 CHECK (extension_seconds BETWEEN 0 AND 1800),
    require_disposition boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid REFERENCES agents (id) ON DELETE SET NULL
);
INSERT INTO wrap_up_settings DEFAULT VALUES;

-- The codes an agent files a call under. Deactivated codes stay, so history keeps its labels.
CREATE TABLE dispositions (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Lists are shown oldest first; the seeds are a millisecond apart to keep this order.
INSERT INTO dispositions (code, label, created_at) VALUES
    ('resolved', 'Resolved', now()),
    ('follow_up', 'Follow-up needed', now() + interval '1 millisecond'),
    ('escalated', 'Escalated', now() + interval '2 milliseconds'),
    ('wrong_number', 'Wrong number', now() + interval '3 milliseconds');

-- Why an agent is away (their choice). The system's own reasons (missed_call, declined_call)
-- are not in this table and cannot be added to it.
CREATE TABLE away_reasons (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$' AND code NOT IN ('missed_call', 'declined_call')),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO away_reasons (code, label, created_at) VALUES
    ('break', 'Break', now()),
    ('lunch', 'Lunch', now() + interval '1 millisecond'),
    ('training', 'Training', now() + interval '2 milliseconds'),
    ('meeting', 'Meeting', now() + interval '3 milliseconds');

-- What goes with an agent's current status; cleared whenever the status changes.
ALTER TABLE agents
    ADD COLUMN away_reason text,
    ADD COLUMN missed_call_from text,
    ADD COLUMN wrap_up_call_id uuid REFERENCES calls (id) ON DELETE SET NULL,
    ADD COLUMN wrap_up_until timestamptz,
    ADD COLUMN wrap_up_extended boolean NOT NULL DEFAULT false;
-- The wrap-up tick reads the agents whose wrap-up time is over.
CREATE INDEX agents_wrap_up_until_idx ON agents (wrap_up_until) WHERE status = 'wrap_up';

-- A call's disposition and notes (at most one per call; read by the call's id, so the history
-- list reads a page's dispositions by primary key).
CREATE TABLE call_dispositions (
    call_id uuid PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    code text REFERENCES dispositions (code),
    notes text CHECK (length(notes) <= 2000),
    by_agent_id uuid REFERENCES agents (id) ON DELETE SET NULL,
    at timestamptz NOT NULL DEFAULT now()
);
