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
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        away_reason -> Nullable<Text>,
        missed_call_from -> Nullable<Text>,
        wrap_up_call_id -> Nullable<Uuid>,
        wrap_up_until -> Nullable<Timestamptz>,
        wrap_up_extended -> Bool,
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

diesel::table! {
    calls (id) {
        id -> Uuid,
        customer_call_sid -> Text,
        from_number -> Text,
        to_number -> Text,
        conference_name -> Text,
        conference_sid -> Nullable<Text>,
        status -> Text,
        owner_agent_id -> Nullable<Uuid>,
        queued_at -> Timestamptz,
        created_at -> Timestamptz,
        answered_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
        prefer_agent_id -> Nullable<Uuid>,
        avoid_agent_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    participants (id) {
        id -> Uuid,
        call_id -> Uuid,
        kind -> Text,
        agent_id -> Nullable<Uuid>,
        phone -> Nullable<Text>,
        call_sid -> Nullable<Text>,
        status -> Text,
        on_hold -> Bool,
        muted -> Bool,
        end_conference_on_exit -> Bool,
        flags_sequence -> Int4,
        created_at -> Timestamptz,
        joined_at -> Nullable<Timestamptz>,
        left_at -> Nullable<Timestamptz>,
        call_ended_at -> Nullable<Timestamptz>,
        monitor_mode -> Nullable<Text>,
    }
}

diesel::table! {
    transfers (id) {
        id -> Uuid,
        call_id -> Uuid,
        from_agent_id -> Nullable<Uuid>,
        to_agent_id -> Nullable<Uuid>,
        to_number -> Nullable<Text>,
        mode -> Text,
        status -> Text,
        target_participant_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        answered_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        note -> Nullable<Text>,
        end_reason -> Nullable<Text>,
        ended_by -> Nullable<Uuid>,
        requeued -> Bool,
    }
}

diesel::table! {
    call_events (id) {
        id -> Int8,
        call_id -> Uuid,
        at -> Timestamptz,
        kind -> Text,
        data -> Jsonb,
        dedupe_key -> Nullable<Text>,
    }
}

diesel::joinable!(participants -> calls (call_id));
diesel::joinable!(transfers -> calls (call_id));
diesel::joinable!(call_events -> calls (call_id));
diesel::allow_tables_to_appear_in_same_query!(agents, calls, participants, transfers, call_events);

diesel::table! {
    callback_inbox (id) {
        id -> Int8,
        kind -> Text,
        call_key -> Text,
        sequence -> Nullable<Int8>,
        payload -> Jsonb,
        received_at -> Timestamptz,
        attempts -> Int4,
        claimed_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        processed_at -> Nullable<Timestamptz>,
        failed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    dialing_policy (id) {
        id -> Bool,
        allowed_country_codes -> Array<Int4>,
        allowed_prefixes -> Array<Text>,
        allowed_premium_prefixes -> Array<Text>,
        international_for_agents -> Bool,
        max_dials_per_agent_per_hour -> Int4,
        max_dials_per_call -> Int4,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    outside_dials (id) {
        id -> Int8,
        call_id -> Uuid,
        agent_id -> Uuid,
        number -> Text,
        allowed -> Bool,
        refusal -> Nullable<Text>,
        at -> Timestamptz,
    }
}

diesel::table! {
    wrap_up_settings (id) {
        id -> Bool,
        wrap_up_seconds -> Int4,
        extension_seconds -> Int4,
        require_disposition -> Bool,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    dispositions (code) {
        code -> Text,
        label -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    away_reasons (code) {
        code -> Text,
        label -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    call_dispositions (call_id) {
        call_id -> Uuid,
        code -> Nullable<Text>,
        notes -> Nullable<Text>,
        by_agent_id -> Nullable<Uuid>,
        at -> Timestamptz,
    }
}
