-- Who the router offers a queued call to first, and who it must not offer it to: an agent whose
-- browser dropped the call is rung again first; an agent who left the call on purpose is not
-- offered it again.
ALTER TABLE calls ADD COLUMN prefer_agent_id uuid REFERENCES agents (id);
ALTER TABLE calls ADD COLUMN avoid_agent_id uuid REFERENCES agents (id);
