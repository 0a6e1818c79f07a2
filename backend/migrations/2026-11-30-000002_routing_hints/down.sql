ALTER TABLE calls DROP COLUMN avoid_agent_id;
ALTER TABLE calls DROP COLUMN prefer_agent_id;
