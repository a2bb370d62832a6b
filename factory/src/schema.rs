// @generated automatically by Diesel CLI.

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
