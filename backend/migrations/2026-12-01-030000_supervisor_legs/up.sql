-- Supervisors listen to, coach or join a call on a leg of their own kind, which records how
-- they are on it; a leg taken over becomes an agent leg.
ALTER TABLE participants DROP CONSTRAINT participants_kind_check;
ALTER TABLE participants ADD CONSTRAINT participants_kind_check
    CHECK (kind IN ('customer', 'agent', 'external', 'supervisor'));
ALTER TABLE participants DROP CONSTRAINT participants_check;
ALTER TABLE participants ADD CONSTRAINT participants_check
    CHECK ((kind IN ('agent', 'supervisor')) = (agent_id IS NOT NULL));
ALTER TABLE participants ADD COLUMN monitor_mode text
    CHECK (monitor_mode IN ('listen', 'whisper', 'barge'));
ALTER TABLE participants ADD CONSTRAINT participants_supervisor_mode_check
    CHECK ((kind = 'supervisor') = (monitor_mode IS NOT NULL));
