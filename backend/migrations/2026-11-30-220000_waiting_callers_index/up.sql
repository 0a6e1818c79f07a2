-- The router looks for queued calls from the callers waiting in a conference (few), not from
-- the whole queue (which also holds every caller still on their way to the conference).
CREATE INDEX participants_in_conference_customer_idx ON participants (call_id)
    WHERE kind = 'customer' AND status = 'connected';
