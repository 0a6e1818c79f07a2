ALTER TABLE participants DROP COLUMN call_ended_at;
