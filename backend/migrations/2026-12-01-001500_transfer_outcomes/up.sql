-- A transfer carries the transferring agent's note for the target, and says how it ended when it
-- did not complete: why, who called it off, and whether the customer went back to the queue.
ALTER TABLE transfers
    ADD COLUMN note       text CHECK (char_length(note) <= 500),
    ADD COLUMN end_reason text CHECK (end_reason IN ('canceled', 'no_answer', 'declined', 'busy',
                                                     'unreachable', 'target_signed_out',
                                                     'target_hung_up', 'call_ended')),
    ADD COLUMN ended_by   uuid REFERENCES agents (id),
    ADD COLUMN requeued   boolean NOT NULL DEFAULT false;
