-- Call history and the queue at scale (a million calls, thousands waiting).

-- History pages are read newest first and continued from a (created_at, id) cursor: one index
-- on both columns answers the cursor as an index condition instead of scanning from the top.
CREATE INDEX calls_created_id_idx ON calls (created_at, id);
DROP INDEX calls_created_idx;
-- The same, per status, for a status filter on a rare status.
CREATE INDEX calls_status_created_id_idx ON calls (status, created_at, id);
-- The queue page and its count: waiting calls (queued or ringing) in FIFO order.
CREATE INDEX calls_waiting_idx ON calls (queued_at, id) WHERE status IN ('queued', 'ringing');

-- Every agent who handled a call (owned it, or had any leg on it: answered, rung, or a
-- transfer's target), with the call's creation time, so an agent's history is one index range
-- in page order whether they handled half a million calls or three. Kept by the triggers below
-- in the transaction that adds the leg or sets the owner.
CREATE TABLE call_agents (
    agent_id        uuid        NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    call_created_at timestamptz NOT NULL,
    call_id         uuid        NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, call_created_at, call_id)
);
CREATE INDEX call_agents_call_idx ON call_agents (call_id);

INSERT INTO call_agents (agent_id, call_created_at, call_id)
SELECT owner_agent_id, created_at, id FROM calls WHERE owner_agent_id IS NOT NULL
UNION
SELECT p.agent_id, c.created_at, c.id
FROM participants p JOIN calls c ON c.id = p.call_id
WHERE p.agent_id IS NOT NULL;

-- Legs: once per statement, so a bulk insert stays one join.
CREATE FUNCTION call_agents_from_new_legs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO call_agents (agent_id, call_created_at, call_id)
    SELECT DISTINCT n.agent_id, c.created_at, c.id
    FROM new_legs n JOIN calls c ON c.id = n.call_id
    WHERE n.agent_id IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER participants_call_agents_insert AFTER INSERT ON participants
    REFERENCING NEW TABLE AS new_legs
    FOR EACH STATEMENT EXECUTE FUNCTION call_agents_from_new_legs();

CREATE FUNCTION call_agents_from_changed_leg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO call_agents (agent_id, call_created_at, call_id)
    SELECT NEW.agent_id, c.created_at, c.id FROM calls c WHERE c.id = NEW.call_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER participants_call_agents_update AFTER UPDATE OF agent_id ON participants
    FOR EACH ROW WHEN (NEW.agent_id IS NOT NULL AND NEW.agent_id IS DISTINCT FROM OLD.agent_id)
    EXECUTE FUNCTION call_agents_from_changed_leg();

-- Owners: a new call with an owner, and every change of owner.
CREATE FUNCTION call_agents_from_new_calls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO call_agents (agent_id, call_created_at, call_id)
    SELECT n.owner_agent_id, n.created_at, n.id FROM new_calls n
    WHERE n.owner_agent_id IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER calls_call_agents_insert AFTER INSERT ON calls
    REFERENCING NEW TABLE AS new_calls
    FOR EACH STATEMENT EXECUTE FUNCTION call_agents_from_new_calls();

CREATE FUNCTION call_agents_from_changed_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        UPDATE call_agents SET call_created_at = NEW.created_at WHERE call_id = NEW.id;
    END IF;
    IF NEW.owner_agent_id IS NOT NULL THEN
        INSERT INTO call_agents (agent_id, call_created_at, call_id)
        VALUES (NEW.owner_agent_id, NEW.created_at, NEW.id)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER calls_call_agents_update AFTER UPDATE OF owner_agent_id, created_at ON calls
    FOR EACH ROW WHEN (NEW.owner_agent_id IS DISTINCT FROM OLD.owner_agent_id
                       OR NEW.created_at IS DISTINCT FROM OLD.created_at)
    EXECUTE FUNCTION call_agents_from_changed_call();
