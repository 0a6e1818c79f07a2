-- Calls, the legs in each call's conference, transfers, and the timeline of every call.

CREATE TABLE calls (
    id                uuid        PRIMARY KEY,
    customer_call_sid text        NOT NULL UNIQUE,
    from_number       text        NOT NULL,
    to_number         text        NOT NULL,
    conference_name   text        NOT NULL UNIQUE,
    conference_sid    text,
    status            text        NOT NULL
                                  CHECK (status IN ('queued', 'ringing', 'in_progress', 'completed', 'abandoned', 'failed')),
    owner_agent_id    uuid        REFERENCES agents (id),
    -- FIFO position; kept when a call comes back to the queue so it does not lose its place.
    queued_at         timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    answered_at       timestamptz,
    ended_at          timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_queue_idx ON calls (queued_at) WHERE status = 'queued';
CREATE INDEX calls_created_idx ON calls (created_at DESC);
CREATE INDEX calls_owner_idx ON calls (owner_agent_id);

CREATE TABLE participants (
    id                     uuid        PRIMARY KEY,
    call_id                uuid        NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind                   text        NOT NULL CHECK (kind IN ('customer', 'agent', 'external')),
    agent_id               uuid        REFERENCES agents (id),
    phone                  text,
    -- Known from the moment Twilio creates the leg; hold, mute and remove act on it.
    call_sid               text        UNIQUE,
    status                 text        NOT NULL
                                       CHECK (status IN ('dialing', 'ringing', 'connected', 'left', 'no_answer', 'busy', 'failed', 'canceled')),
    on_hold                boolean     NOT NULL DEFAULT false,
    muted                  boolean     NOT NULL DEFAULT false,
    end_conference_on_exit boolean     NOT NULL DEFAULT false,
    -- Conference callbacks arrive out of order; flags only move forward in sequence.
    flags_sequence         integer     NOT NULL DEFAULT -1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    joined_at              timestamptz,
    left_at                timestamptz,
    CHECK ((kind = 'agent') = (agent_id IS NOT NULL))
);
CREATE INDEX participants_call_idx ON participants (call_id);
CREATE INDEX participants_agent_idx ON participants (agent_id) WHERE agent_id IS NOT NULL;

CREATE TABLE transfers (
    id                    uuid        PRIMARY KEY,
    call_id               uuid        NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    from_agent_id         uuid        REFERENCES agents (id),
    to_agent_id           uuid        REFERENCES agents (id),
    to_number             text,
    mode                  text        NOT NULL CHECK (mode IN ('warm', 'cold')),
    status                text        NOT NULL
                                      CHECK (status IN ('dialing', 'consulting', 'completed', 'canceled', 'failed')),
    target_participant_id uuid        REFERENCES participants (id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    answered_at           timestamptz,
    ended_at              timestamptz,
    CHECK ((to_agent_id IS NULL) <> (to_number IS NULL))
);
CREATE INDEX transfers_call_idx ON transfers (call_id);
-- At most one transfer in flight per call.
CREATE UNIQUE INDEX transfers_one_active_idx ON transfers (call_id) WHERE status IN ('dialing', 'consulting');

CREATE TABLE call_events (
    id         bigserial   PRIMARY KEY,
    call_id    uuid        NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    kind       text        NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}',
    -- Retried and duplicated Twilio callbacks carry the same key and are applied once.
    dedupe_key text        UNIQUE
);
CREATE INDEX call_events_call_idx ON call_events (call_id, id);
