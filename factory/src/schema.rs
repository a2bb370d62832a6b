// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    batches (id) {
        id -> Int8,
        project_id -> Int8,
        provider -> Text,
        model -> Text,
        prompt_template -> Text,
        negative_prompt -> Text,
        params -> Jsonb,
        expansion_mode -> Text,
        batch_seed -> Int8,
        item_count -> Int4,
        created_at -> Timestamptz,
        seed_mode -> Text,
        tokens -> Jsonb,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        batch_id -> Int8,
        project_id -> Int8,
        item_index -> Int4,
        provider -> Text,
        model -> Text,
        input -> Jsonb,
        bindings -> Jsonb,
        seed -> Int8,
        state -> Text,
        priority -> Int8,
        attempts -> Int4,
        max_attempts -> Int4,
        run_after -> Timestamptz,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamptz>,
        submit_started_at -> Nullable<Timestamptz>,
        provider_request_id -> Nullable<Text>,
        possibly_duplicated -> Bool,
        provider_status -> Nullable<Text>,
        progress -> Nullable<Float4>,
        error -> Nullable<Text>,
        cancel_requested -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        lease_token -> Int8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    products (id) {
        id -> Int8,
        project_id -> Int8,
        kind -> Text,
        content_hash -> Text,
        path -> Text,
        mime -> Text,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        bytes -> Int8,
        prompt -> Text,
        negative_prompt -> Text,
        params -> Jsonb,
        provider -> Nullable<Text>,
        model -> Nullable<Text>,
        seed -> Nullable<Int8>,
        job_id -> Nullable<Int8>,
        batch_id -> Nullable<Int8>,
        output_index -> Int4,
        bindings -> Jsonb,
        parent_id -> Nullable<Int8>,
        rating -> Nullable<Int2>,
        favourite -> Bool,
        rejected -> Bool,
        thumbhash -> Nullable<Text>,
        created_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        search_tsv -> Nullable<Tsvector>,
        duration_ms -> Nullable<Int4>,
        av_info -> Nullable<Jsonb>,
    }
}

diesel::table! {
    projects (id) {
        id -> Int8,
        name -> Text,
        slug -> Text,
        description -> Text,
        archived_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    queue_settings (id) {
        id -> Bool,
        paused -> Bool,
    }
}

diesel::table! {
    templates (id) {
        id -> Int8,
        project_id -> Nullable<Int8>,
        name -> Text,
        form -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    wildcards (id) {
        id -> Int8,
        project_id -> Nullable<Int8>,
        name -> Text,
        items -> Array<Nullable<Text>>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(batches -> projects (project_id));
diesel::joinable!(jobs -> batches (batch_id));
diesel::joinable!(jobs -> projects (project_id));
diesel::joinable!(products -> batches (batch_id));
diesel::joinable!(products -> jobs (job_id));
diesel::joinable!(products -> projects (project_id));
diesel::joinable!(templates -> projects (project_id));
diesel::joinable!(wildcards -> projects (project_id));

diesel::allow_tables_to_appear_in_same_query!(
    batches,
    jobs,
    products,
    projects,
    queue_settings,
    templates,
    wildcards,
);
