-- Every signed Twilio callback is stored here first (one insert) and answered 2xx, then
-- processed from here: Twilio does not retry a status callback we fail, so an error of ours
-- must never lose one.
CREATE TABLE callback_inbox (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    -- Callbacks about one call (its conference, or one leg) are processed in order.
    call_key text NOT NULL,
    sequence bigint,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    -- A processor holds a claimed callback until then; afterwards another may take it.
    claimed_until timestamptz,
    last_error text,
    processed_at timestamptz,
    failed_at timestamptz
);
CREATE INDEX callback_inbox_pending_idx ON callback_inbox (id)
    WHERE processed_at IS NULL AND failed_at IS NULL;
CREATE INDEX callback_inbox_processed_idx ON callback_inbox (processed_at)
    WHERE processed_at IS NOT NULL;
