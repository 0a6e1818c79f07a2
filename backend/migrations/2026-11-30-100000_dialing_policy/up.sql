-- The dialing policy for outside numbers (transfers to a phone number). At most one row; with
-- none, the built-in default applies (the Twilio number's own country only).
CREATE TABLE dialing_policy (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    allowed_country_codes integer[] NOT NULL,
    allowed_prefixes text[] NOT NULL,
    allowed_premium_prefixes text[] NOT NULL,
    international_for_agents boolean NOT NULL,
    max_dials_per_agent_per_hour integer NOT NULL CHECK (max_dials_per_agent_per_hour >= 0),
    max_dials_per_call integer NOT NULL CHECK (max_dials_per_call >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid REFERENCES agents (id) ON DELETE SET NULL
);

-- Every outside dial asked for, allowed or refused: the rate limits count the allowed ones, so
-- they hold across backend instances and restarts.
CREATE TABLE outside_dials (
    id bigserial PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    number text NOT NULL,
    allowed boolean NOT NULL,
    refusal text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outside_dials_agent_idx ON outside_dials (agent_id, at) WHERE allowed;
CREATE INDEX outside_dials_call_idx ON outside_dials (call_id) WHERE allowed;
