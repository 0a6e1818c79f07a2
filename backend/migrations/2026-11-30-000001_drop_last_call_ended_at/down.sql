ALTER TABLE agents ADD COLUMN last_call_ended_at timestamptz;
