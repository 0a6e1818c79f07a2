DROP INDEX participants_connected_idx;
DROP INDEX participants_pending_idx;
