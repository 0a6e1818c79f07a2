ALTER TABLE transfers
    DROP COLUMN requeued,
    DROP COLUMN ended_by,
    DROP COLUMN end_reason,
    DROP COLUMN note;
