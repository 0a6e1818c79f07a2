-- `make bench`, data-scale phase: a year of call history and a long queue, generated in the
-- database (generate_series), run with psql:
--   psql -v heavy=<uuid> -v sparse=<uuid> -v calls=1000000 -v waiting=15000 -f history_seed.sql
-- `heavy` and `sparse` are agents the benchmark created through the API (so they can sign in);
-- 50 more agents are inserted here. Call i (1..calls, one every 30 s, oldest first) is, by i % 10:
--   0        the heavy agent answered, then warm-transferred it to another agent (completed)
--   1        another agent answered and consulted the heavy agent, who was then let go (warm,
--            canceled): the heavy agent's only part is a transfer target's leg
--   2, 4, 6  the heavy agent answered and handled it alone
--   3        another agent answered, then cold-transferred it to a third agent (completed)
--   5        another agent answered, then transferred it to an outside number (cold, completed)
--   7, 8, 9  another agent handled it alone; when i % 100 = 99 the caller hung up in the queue
-- so the heavy agent handled exactly half of the calls. The sparse agent handled three: two
-- alone (i = 17 and i = calls/2 + 7) and one as a canceled transfer's target (i = calls - 3).
-- Then `waiting` callers wait in the queue, in their conference, for an agent.

\set ON_ERROR_STOP on
SET synchronous_commit = off;

BEGIN;

-- Identifiers ordered by creation, like UUIDv7 (a sequence number, then hashed bits), so each
-- index grows at its end as rows are added, as it does in production.
CREATE FUNCTION pg_temp.tid(n bigint, salt text) RETURNS uuid LANGUAGE sql IMMUTABLE
    AS $$ SELECT (lpad(to_hex(n), 8, '0') || substr(md5(salt || n), 1, 24))::uuid $$;
CREATE FUNCTION pg_temp.sid(prefix text, n bigint, salt text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT prefix || lpad(to_hex(n), 8, '0') || substr(md5(salt || n), 1, 24) $$;

INSERT INTO agents (id, email, display_name, password_hash, role, client_identity)
SELECT md5('bench-agent-' || n)::uuid,
       'bench-history-' || n || '@example.com',
       'History Agent ' || n,
       (SELECT password_hash FROM agents WHERE id = :'heavy'),
       'agent',
       'bench_history_' || n
FROM generate_series(1, 50) AS n;

CREATE TEMP TABLE seed ON COMMIT DROP AS
WITH base AS (
    SELECT i,
           i % 10 AS k,
           md5('bench-agent-' || (1 + i % 50))::uuid AS other,
           md5('bench-agent-' || (1 + (i + 17) % 50))::uuid AS other2,
           now() - make_interval(secs => (:calls - i + 1) * 30.0 + 3600) AS at
    FROM generate_series(1, :calls) AS i
), roles AS (
    SELECT i, at,
           CASE
               WHEN k IN (0, 2, 4, 6) THEN :'heavy'::uuid
               WHEN i % 100 = 99 THEN NULL
               WHEN i IN (17, :calls / 2 + 7) THEN :'sparse'::uuid
               ELSE other
           END AS first_agent,
           CASE
               WHEN i = :calls - 3 THEN :'sparse'::uuid
               WHEN k = 0 THEN other
               WHEN k = 1 THEN :'heavy'::uuid
               WHEN k = 3 THEN other2
           END AS second_agent,
           CASE
               WHEN i = :calls - 3 OR k = 1 THEN 'warm_canceled'
               WHEN k = 0 THEN 'warm_completed'
               WHEN k = 3 THEN 'cold_completed'
               WHEN k = 5 THEN 'outside'
           END AS transfer
    FROM base
)
SELECT i, at, first_agent, second_agent, transfer,
       pg_temp.tid(i, 'call') AS id,
       pg_temp.sid('CA', i, 'customer') AS customer_sid,
       at + interval '20 seconds' AS answered_at,
       at + make_interval(secs => 80 + i % 600) AS ended_at,
       at + interval '50 seconds' AS transfer_at
FROM roles;

INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                   conference_sid, status, owner_agent_id, queued_at, created_at, answered_at,
                   ended_at, updated_at)
SELECT id, customer_sid, '+1415' || lpad((i % 10000000)::text, 7, '0'), '+15005550006',
       'wt_' || customer_sid,
       pg_temp.sid('CF', i, 'conference'),
       CASE WHEN first_agent IS NULL THEN 'abandoned' ELSE 'completed' END,
       CASE WHEN transfer IN ('warm_completed', 'cold_completed') THEN second_agent
            ELSE first_agent END,
       at, at,
       CASE WHEN first_agent IS NOT NULL THEN answered_at END,
       ended_at, ended_at
FROM seed;

-- The customer's leg.
INSERT INTO participants (id, call_id, kind, phone, call_sid, status, end_conference_on_exit,
                          created_at, joined_at, left_at, call_ended_at)
SELECT pg_temp.tid(i, 'leg-c'), id, 'customer', '+1415' || lpad((i % 10000000)::text, 7, '0'),
       customer_sid, 'left', true, at, at, ended_at, ended_at
FROM seed;

-- The answering agent's leg (it ends at the transfer when the call was handed over).
INSERT INTO participants (id, call_id, kind, agent_id, call_sid, status, end_conference_on_exit,
                          created_at, joined_at, left_at, call_ended_at)
SELECT pg_temp.tid(i, 'leg-1'), id, 'agent', first_agent, pg_temp.sid('CA', i, 'leg-1'),
       'left', false, at + interval '10 seconds', answered_at,
       CASE WHEN transfer IN ('warm_completed', 'cold_completed', 'outside')
            THEN transfer_at + interval '30 seconds' ELSE ended_at END,
       CASE WHEN transfer IN ('warm_completed', 'cold_completed', 'outside')
            THEN transfer_at + interval '30 seconds' ELSE ended_at END
FROM seed
WHERE first_agent IS NOT NULL;

-- The transfer target's leg: an agent's, or an outside number's.
INSERT INTO participants (id, call_id, kind, agent_id, phone, call_sid, status,
                          end_conference_on_exit, created_at, joined_at, left_at, call_ended_at)
SELECT pg_temp.tid(i, 'leg-2'), id,
       CASE WHEN transfer = 'outside' THEN 'external' ELSE 'agent' END,
       second_agent,
       CASE WHEN transfer = 'outside' THEN '+4420' || lpad((i % 100000000)::text, 8, '0') END,
       pg_temp.sid('CA', i, 'leg-2'), 'left', false,
       transfer_at, transfer_at + interval '10 seconds',
       CASE WHEN transfer = 'warm_canceled' THEN transfer_at + interval '40 seconds'
            ELSE ended_at END,
       CASE WHEN transfer = 'warm_canceled' THEN transfer_at + interval '40 seconds'
            ELSE ended_at END
FROM seed
WHERE transfer IS NOT NULL;

INSERT INTO transfers (id, call_id, from_agent_id, to_agent_id, to_number, mode, status,
                       target_participant_id, created_at, answered_at, ended_at)
SELECT pg_temp.tid(i, 'transfer'), id, first_agent, second_agent,
       CASE WHEN transfer = 'outside' THEN '+4420' || lpad((i % 100000000)::text, 8, '0') END,
       CASE WHEN transfer IN ('warm_completed', 'warm_canceled') THEN 'warm' ELSE 'cold' END,
       CASE WHEN transfer = 'warm_canceled' THEN 'canceled' ELSE 'completed' END,
       pg_temp.tid(i, 'leg-2'),
       transfer_at, transfer_at + interval '10 seconds',
       CASE WHEN transfer = 'warm_canceled' THEN transfer_at + interval '40 seconds'
            ELSE transfer_at + interval '30 seconds' END
FROM seed
WHERE transfer IS NOT NULL;

-- Callers waiting now, one arriving every 200 ms, each in their conference (so the server's
-- checks leave them be) with no agent free to take them.
INSERT INTO calls (id, customer_call_sid, from_number, to_number, conference_name,
                   conference_sid, status, queued_at, created_at)
SELECT pg_temp.tid(:calls + w, 'call'), pg_temp.sid('CA', :calls + w, 'customer'),
       '+1628' || lpad(w::text, 7, '0'), '+15005550006',
       'wt_' || pg_temp.sid('CA', :calls + w, 'customer'), pg_temp.sid('CF', :calls + w, 'conference'),
       'queued', now() - make_interval(secs => (:waiting - w) * 0.2),
       now() - make_interval(secs => (:waiting - w) * 0.2)
FROM generate_series(1, :waiting) AS w;

INSERT INTO participants (id, call_id, kind, phone, call_sid, status, end_conference_on_exit,
                          created_at, joined_at)
SELECT pg_temp.tid(:calls + w, 'leg-c'), pg_temp.tid(:calls + w, 'call'), 'customer',
       '+1628' || lpad(w::text, 7, '0'), pg_temp.sid('CA', :calls + w, 'customer'), 'connected', true,
       now() - make_interval(secs => (:waiting - w) * 0.2), now()
FROM generate_series(1, :waiting) AS w;

COMMIT;

VACUUM ANALYZE agents, calls, participants, transfers;
