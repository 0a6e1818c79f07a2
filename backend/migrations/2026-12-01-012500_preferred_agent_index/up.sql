-- The router keeps an agent for the waiting call that prefers them: it looks up, per offer,
-- which queued calls prefer someone (few).
CREATE INDEX calls_preferred_agent_idx ON calls (prefer_agent_id) WHERE status = 'queued' AND prefer_agent_id IS NOT NULL;
