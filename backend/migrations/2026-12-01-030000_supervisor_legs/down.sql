ALTER TABLE participants DROP CONSTRAINT participants_supervisor_mode_check;
ALTER TABLE participants DROP COLUMN monitor_mode;
DELETE FROM participants WHERE kind = 'supervisor';
ALTER TABLE participants DROP CONSTRAINT participants_check;
ALTER TABLE participants ADD CONSTRAINT participants_check CHECK ((kind = 'agent') = (agent_id IS NOT NULL));
ALTER TABLE participants DROP CONSTRAINT participants_kind_check;
ALTER TABLE participants ADD CONSTRAINT participants_kind_check
    CHECK (kind IN ('customer', 'agent', 'external'));
