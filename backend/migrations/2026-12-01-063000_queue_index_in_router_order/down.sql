DROP INDEX calls_queue_idx;
CREATE INDEX calls_queue_idx ON calls (queued_at) WHERE status = 'queued';
