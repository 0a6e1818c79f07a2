-- Never written: idle time for routing runs from status_changed_at.
ALTER TABLE agents DROP COLUMN last_call_ended_at;
