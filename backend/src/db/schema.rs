// Diesel table definitions; keep in step with migrations/.

diesel::table! {
    agents (id) {
        id -> Uuid,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        client_identity -> Text,
        status -> Text,
        status_changed_at -> Timestamptz,
        last_call_ended_at -> Nullable<Timestamptz>,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        agent_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        email -> Text,
        client_ip -> Text,
        at -> Timestamptz,
    }
}

diesel::joinable!(sessions -> agents (agent_id));
diesel::allow_tables_to_appear_in_same_query!(agents, sessions, login_failures);
