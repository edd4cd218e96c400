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
        optional_messages -> Bool,
        phone_verified_at -> Nullable<Timestamp>,
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
        registered_facility_id -> Nullable<Text>,
        phone -> Nullable<Text>,
        abha_address -> Nullable<Text>,
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
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    consultations (id) {
        id -> Text,
        token_id -> Text,
        patient_id -> Text,
        doctor_id -> Text,
        opd_id -> Text,
        chief_complaint -> Text,
        history -> Text,
        examination -> Text,
        vitals_id -> Nullable<Text>,
        provisional_diagnosis -> Text,
        icd10_code -> Nullable<Text>,
        investigations -> Text,
        advice -> Text,
        follow_up_on -> Nullable<Date>,
        referral_opd_id -> Nullable<Text>,
        referral_token_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        public_key -> Text,
        private_key -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    prescriptions (id) {
        id -> Text,
        code -> Text,
        consultation_id -> Text,
        patient_id -> Text,
        doctor_id -> Text,
        opd_id -> Text,
        hub_id -> Text,
        issued_at -> Timestamp,
        valid_until -> Timestamp,
        kid -> Text,
        signed_payload -> Text,
        cancelled_at -> Nullable<Timestamp>,
        cancel_reason -> Nullable<Text>,
        dispensing_pharmacy_id -> Nullable<Text>,
        fully_dispensed_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    prescription_items (id) {
        id -> Text,
        prescription_id -> Text,
        position -> Integer,
        medicine -> Text,
        form -> Text,
        strength -> Text,
        dose -> Text,
        frequency -> Text,
        timing -> Text,
        route -> Text,
        duration_days -> Integer,
        quantity -> Integer,
        instructions -> Text,
        dispensed_quantity -> Integer,
    }
}

diesel::table! {
    dispensations (id) {
        id -> Text,
        prescription_id -> Text,
        item_id -> Text,
        pharmacy_id -> Text,
        pharmacist_id -> Text,
        quantity -> Integer,
        dispensed_at -> Timestamp,
    }
}

diesel::table! {
    programmes (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        eligibility -> Text,
        sensitive -> Bool,
        created_at -> Timestamp,
        public_label -> Nullable<Text>,
        targets -> Nullable<Text>,
    }
}

diesel::table! {
    opds (id) {
        id -> Text,
        programme_id -> Text,
        hub_id -> Text,
        code -> Text,
        name -> Text,
        specialty -> Text,
        languages -> Text,
        always_open -> Bool,
        capacity_per_session -> Integer,
        booking_days_ahead -> Integer,
        priority_every -> Integer,
        join_window_seconds -> Integer,
        requeue_no_show -> Bool,
        near_turn_threshold -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        pace_version -> BigInt,
    }
}

diesel::table! {
    opd_schedule_slots (id) {
        id -> Text,
        opd_id -> Text,
        weekday -> Integer,
        starts_at -> Text,
        ends_at -> Text,
    }
}

diesel::table! {
    opd_closures (id) {
        id -> Text,
        opd_id -> Text,
        closed_on -> Date,
        reason -> Text,
    }
}

diesel::table! {
    opd_doctors (opd_id, doctor_id) {
        opd_id -> Text,
        doctor_id -> Text,
    }
}

diesel::table! {
    opd_sessions (id) {
        id -> Text,
        opd_id -> Text,
        session_date -> Date,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        capacity -> Integer,
        tokens_issued -> Integer,
        active_tokens -> Integer,
        last_queue_order -> Integer,
        regular_since_priority -> Integer,
        version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    vitals (id) {
        id -> Text,
        patient_id -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
        systolic_mmhg -> Nullable<Integer>,
        diastolic_mmhg -> Nullable<Integer>,
        pulse_per_min -> Nullable<Integer>,
        temperature_c -> Nullable<Double>,
        spo2_percent -> Nullable<Integer>,
        weight_kg -> Nullable<Double>,
        blood_sugar_mg_dl -> Nullable<Integer>,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        session_id -> Text,
        opd_id -> Text,
        patient_id -> Text,
        booked_by -> Text,
        channel -> Text,
        spoke_id -> Nullable<Text>,
        number -> Integer,
        display -> Text,
        queue_order -> Integer,
        priority_reason -> Nullable<Text>,
        status -> Text,
        doctor_id -> Nullable<Text>,
        requeues -> Integer,
        booked_at -> Timestamp,
        called_at -> Nullable<Timestamp>,
        join_deadline -> Nullable<Timestamp>,
        joined_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        no_show_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        near_turn_at -> Nullable<Timestamp>,
        vitals_id -> Nullable<Text>,
    }
}

diesel::table! {
    token_events (id) {
        id -> Text,
        token_id -> Text,
        session_id -> Text,
        kind -> Text,
        actor_id -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    doctor_presence (id) {
        id -> Text,
        doctor_id -> Text,
        opd_id -> Text,
        hub_id -> Text,
        online_at -> Timestamp,
        last_heartbeat_at -> Timestamp,
        offline_at -> Nullable<Timestamp>,
        offline_reason -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(facilities -> states (state_code));
diesel::table! {
    notifications (id) {
        id -> Text,
        template -> Text,
        channel -> Text,
        destination -> Text,
        language -> Text,
        essential -> Bool,
        subject -> Text,
        body_text -> Text,
        body_html -> Nullable<Text>,
        patient_id -> Nullable<Text>,
        facility_id -> Nullable<Text>,
        state_code -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    programme_admins (programme_id, user_id) {
        programme_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    programme_roster (programme_id, card_number) {
        programme_id -> Text,
        card_number -> Text,
        holder_name -> Text,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    programme_members (id) {
        id -> Text,
        programme_id -> Text,
        account_id -> Text,
        card_number -> Text,
        status -> Text,
        verified_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    report_daily (day, opd_id, doctor_id) {
        day -> Date,
        opd_id -> Text,
        hub_id -> Text,
        doctor_id -> Text,
        consultations -> Integer,
        women -> Integer,
        seniors -> Integer,
        no_shows -> Integer,
    }
}

diesel::table! {
    report_waits (hub_id, day, programme_id, wait_minutes) {
        hub_id -> Text,
        day -> Date,
        programme_id -> Text,
        wait_minutes -> Integer,
        consultations -> Integer,
    }
}

diesel::joinable!(opds -> facilities (hub_id));
diesel::joinable!(opd_schedule_slots -> opds (opd_id));
diesel::joinable!(opd_sessions -> opds (opd_id));
diesel::joinable!(tokens -> opd_sessions (session_id));
diesel::joinable!(tokens -> patients (patient_id));
diesel::joinable!(patients -> users (account_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    report_daily,
    report_waits,
    states,
    facilities,
    users,
    patients,
    otp_challenges,
    sessions,
    audit_events,
    programmes,
    opds,
    opd_schedule_slots,
    opd_closures,
    opd_doctors,
    opd_sessions,
    vitals,
    tokens,
    token_events,
    doctor_presence,
    notifications,
    idempotency_keys,
    programme_admins,
    programme_roster,
    programme_members,
    consultations,
    signing_keys,
    prescriptions,
    prescription_items,
    dispensations,
);

// ---- the consultation call (migration 000007_calls) ------------------------------------------
// Its own `allow_tables_to_appear_in_same_query!`: these tables are queried on their own, so the
// list above stays untouched.

diesel::table! {
    calls (id) {
        id -> Text,
        token_id -> Text,
        doctor_id -> Text,
        opened_at -> Timestamp,
        doctor_joined_at -> Nullable<Timestamp>,
        patient_joined_at -> Nullable<Timestamp>,
        connected_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        ended_how -> Nullable<Text>,
    }
}

diesel::table! {
    call_events (id) {
        id -> Text,
        call_id -> Text,
        user_id -> Text,
        side -> Text,
        event -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    call_messages (id) {
        id -> Text,
        token_id -> Text,
        call_id -> Text,
        sender_id -> Text,
        sender_name -> Text,
        side -> Text,
        body -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    call_files (id) {
        id -> Text,
        token_id -> Text,
        uploaded_by -> Text,
        file_name -> Text,
        media_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(calls, call_events, call_messages, call_files);

// ---- throttles against password guessing and code flooding (migration 000009_auth_throttles) --
// Their own `allow_tables_to_appear_in_same_query!`: they are never joined with other tables.

diesel::table! {
    login_client_throttles (username, client) {
        username -> Text,
        client -> Text,
        failures -> Integer,
        last_failed_at -> Timestamp,
    }
}

diesel::table! {
    login_throttles (username) {
        username -> Text,
        failures -> Integer,
        last_failed_at -> Nullable<Timestamp>,
        locked_at -> Nullable<Timestamp>,
        trusted_client -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    throttle_windows (scope, window_start, client) {
        scope -> Text,
        window_start -> Timestamp,
        client -> Text,
        hits -> Integer,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    login_client_throttles,
    login_throttles,
    throttle_windows
);

// ---- walk-in link offers (migration 000010_walk_in_links) -------------------------------------

diesel::table! {
    walk_in_offers (patient_id) {
        patient_id -> Text,
        phone -> Text,
        created_at -> Timestamp,
        decision -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(walk_in_offers -> patients (patient_id));
diesel::allow_tables_to_appear_in_same_query!(walk_in_offers, patients);
diesel::allow_tables_to_appear_in_same_query!(walk_in_offers, facilities);

// ---- retry safety (migration 000011_retry_safe) -------------------------------------------------
// One row (id 1): when the queue was last swept, by any API process.

diesel::table! {
    queue_sweeps (id) {
        id -> Integer,
        swept_at -> Nullable<Timestamp>,
    }
}

// ---- per-process caches (migration 000021_cache_generations) ----------------------------------
// One row (id 1): the generations every cached session and OPD entry is checked against.

diesel::table! {
    cache_generations (id) {
        id -> Integer,
        sign_ins -> BigInt,
        catalogue -> BigInt,
    }
}
