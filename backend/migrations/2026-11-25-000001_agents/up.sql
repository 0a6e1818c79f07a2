-- Agents, their sign-in sessions, and failed sign-ins for rate limiting.

CREATE TABLE agents (
    id                 uuid        PRIMARY KEY,
    email              text        NOT NULL UNIQUE CHECK (email = lower(email)),
    display_name       text        NOT NULL,
    password_hash      text        NOT NULL,
    role               text        NOT NULL CHECK (role IN ('agent', 'admin')),
    client_identity    text        NOT NULL UNIQUE CHECK (client_identity ~ '^[A-Za-z0-9_]{1,64}$'),
    status             text        NOT NULL DEFAULT 'offline'
                                   CHECK (status IN ('offline', 'available', 'reserved', 'busy', 'wrap_up', 'away')),
    status_changed_at  timestamptz NOT NULL DEFAULT now(),
    last_call_ended_at timestamptz,
    active             boolean     NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- The router looks for the longest-idle available agent.
CREATE INDEX agents_available_idx ON agents (status_changed_at) WHERE status = 'available' AND active;

CREATE TABLE sessions (
    id         uuid        PRIMARY KEY,
    agent_id   uuid        NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_agent_idx ON sessions (agent_id);

CREATE TABLE login_failures (
    id        bigserial   PRIMARY KEY,
    email     text        NOT NULL,
    client_ip text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, at);
CREATE INDEX login_failures_ip_idx ON login_failures (client_ip, at);
