//! Diesel table definitions shared by both backends; kept in step with `migrations/*/`.
//! (The migration test in `tests/` checks that both migration sets give these columns.)

diesel::table! {
    states (code) {
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    facilities (id) {
        id -> Text,
        state_code -> Text,
        district -> Text,
        kind -> Text,
        name -> Text,
        address -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        role -> Text,
        name -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        username -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        facility_id -> Nullable<Text>,
        state_code -> Nullable<Text>,
        registration_number -> Nullable<Text>,
        specialty -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    patients (id) {
        id -> Text,
        account_id -> Nullable<Text>,
        registered_by -> Nullable<Text>,
        name -> Text,
        sex -> Text,
        birth_date -> Nullable<Date>,
        birth_year -> Integer,
        preferred_language -> Text,
        abha_number -> Nullable<Text>,
        relation -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    otp_challenges (id) {
        id -> Text,
        identifier -> Text,
        code_hash -> Text,
        client_ip -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        attempts -> Integer,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        device_name -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject_id -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::joinable!(facilities -> states (state_code));
diesel::joinable!(patients -> users (account_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    states,
    facilities,
    users,
    patients,
    otp_challenges,
    sessions,
    audit_events,
);
