-- The router walks the queued calls in its order, (queued_at, id): the index holds that order,
-- so a step of the walk reads only its own rows.
DROP INDEX calls_queue_idx;
CREATE INDEX calls_queue_idx ON calls (queued_at, id) WHERE status = 'queued';
