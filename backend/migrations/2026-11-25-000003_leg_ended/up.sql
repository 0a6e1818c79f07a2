-- When Twilio reported a leg's call over. An agent is free again only once every leg of theirs
-- has ended in Twilio, not merely left the conference: a browser still on a call would silently
-- drop the next one (the Voice SDK refuses a second incoming call by default).
ALTER TABLE participants ADD COLUMN call_ended_at timestamptz;
CREATE INDEX participants_live_agent_idx ON participants (agent_id) WHERE call_ended_at IS NULL AND agent_id IS NOT NULL;
