//! Projects against a real database: one fresh database per test.

use factory::projects::{self, Description, Listing, ProjectError, ProjectName};
use factory::testing::TestDb;

fn name(s: &str) -> ProjectName {
    ProjectName::parse(s).unwrap()
}

fn no_description() -> Description {
    Description::default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_created_project_is_listed_as_active_with_its_slug_and_description() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let description = Description::parse("Cats, in neon.").unwrap();
    let created = projects::create(&mut conn, &name("Neon Cats"), &description)
        .await
        .unwrap();
    assert_eq!(created.slug, "neon-cats");

    let active = projects::list(&mut conn, Listing::Active).await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].name, "Neon Cats");
    assert_eq!(active[0].description, "Cats, in neon.");
    assert!(projects::list(&mut conn, Listing::Archived)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_already_used_in_any_letter_case_is_refused_and_nothing_is_stored() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    projects::create(&mut conn, &name("Moodboard"), &no_description())
        .await
        .unwrap();
    let err = projects::create(&mut conn, &name("MOODBOARD"), &no_description())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProjectError::NameTaken(ref n) if n == "MOODBOARD"),
        "{err:?}"
    );
    assert_eq!(
        projects::list(&mut conn, Listing::Active)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_that_make_the_same_slug_get_numbered_slugs() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let a = projects::create(&mut conn, &name("Hello World"), &no_description())
        .await
        .unwrap();
    let b = projects::create(&mut conn, &name("hello-world"), &no_description())
        .await
        .unwrap();
    let c = projects::create(&mut conn, &name("Hello, World!"), &no_description())
        .await
        .unwrap();
    assert_eq!(
        (a.slug.as_str(), b.slug.as_str(), c.slug.as_str()),
        ("hello-world", "hello-world-2", "hello-world-3")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn renaming_changes_the_name_and_slug_and_a_taken_name_leaves_the_project_as_it_was() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let p = projects::create(&mut conn, &name("Draft"), &no_description())
        .await
        .unwrap();
    projects::create(&mut conn, &name("Final"), &no_description())
        .await
        .unwrap();

    let renamed = projects::rename(&mut conn, p.id, &name("Sketches"))
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.slug.as_str()),
        ("Sketches", "sketches")
    );
    assert!(renamed.updated_at >= p.updated_at);

    let err = projects::rename(&mut conn, p.id, &name("final"))
        .await
        .unwrap_err();
    assert!(matches!(err, ProjectError::NameTaken(_)), "{err:?}");
    assert_eq!(
        projects::get(&mut conn, p.id).await.unwrap().name,
        "Sketches"
    );

    let same = projects::rename(&mut conn, p.id, &name("sketches"))
        .await
        .unwrap();
    assert_eq!(
        same.name, "sketches",
        "a change of letter case only is a rename, not a clash"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn archiving_moves_a_project_to_the_archived_list_and_unarchiving_brings_it_back() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let p = projects::create(&mut conn, &name("Old"), &no_description())
        .await
        .unwrap();
    let archived = projects::set_archived(&mut conn, p.id, true).await.unwrap();
    assert!(archived.is_archived());
    assert!(projects::list(&mut conn, Listing::Active)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        projects::list(&mut conn, Listing::Archived).await.unwrap()[0].id,
        p.id
    );

    let restored = projects::set_archived(&mut conn, p.id, false)
        .await
        .unwrap();
    assert!(!restored.is_archived());
    assert_eq!(
        projects::list(&mut conn, Listing::Active).await.unwrap()[0].id,
        p.id
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_description_can_be_edited_and_cleared() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let p = projects::create(&mut conn, &name("P"), &no_description())
        .await
        .unwrap();
    let edited =
        projects::set_description(&mut conn, p.id, &Description::parse(" Portraits ").unwrap())
            .await
            .unwrap();
    assert_eq!(edited.description, "Portraits");
    let cleared = projects::set_description(&mut conn, p.id, &no_description())
        .await
        .unwrap();
    assert_eq!(cleared.description, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_project_can_be_deleted_and_a_missing_one_is_reported_as_not_found() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let p = projects::create(&mut conn, &name("Scratch"), &no_description())
        .await
        .unwrap();
    projects::delete(&mut conn, p.id).await.unwrap();
    assert!(projects::list(&mut conn, Listing::Active)
        .await
        .unwrap()
        .is_empty());
    let err = projects::delete(&mut conn, p.id).await.unwrap_err();
    assert!(
        matches!(err, ProjectError::NotFound(id) if id == p.id),
        "{err:?}"
    );
    let err = projects::rename(&mut conn, p.id, &name("Ghost"))
        .await
        .unwrap_err();
    assert!(matches!(err, ProjectError::NotFound(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_test_database_starts_empty_and_migrated() {
    let a = TestDb::new().await;
    let b = TestDb::new().await;
    assert_ne!(a.url(), b.url());
    let mut conn = a.conn().await;
    projects::create(&mut conn, &name("Only in A"), &no_description())
        .await
        .unwrap();
    let mut conn_b = b.conn().await;
    assert!(projects::list(&mut conn_b, Listing::Active)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_with_only_wildcard_lists_or_templates_is_not_empty_and_keeps_them() {
    use factory::library::{templates, wildcards, Scope};
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let p = projects::create(&mut conn, &name("Lists"), &no_description())
        .await
        .unwrap();
    wildcards::create(
        &mut conn,
        Scope::Project(p.id),
        "colors",
        vec!["red".into()],
    )
    .await
    .unwrap();
    let form = serde_json::json!({"prompt": "a {red|blue} fox"});
    templates::create(&mut conn, Scope::Project(p.id), "Foxes", &form)
        .await
        .unwrap();

    let err = projects::delete(&mut conn, p.id).await.unwrap_err();
    assert!(
        matches!(err, ProjectError::NotEmpty { contents, .. }
            if contents.wildcard_lists == 1 && contents.templates == 1),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "“Lists” still holds 1 wildcard list and 1 template. Delete them first, or archive the \
         project instead."
    );
    assert_eq!(
        wildcards::list(&mut conn, Scope::Project(p.id))
            .await
            .unwrap()
            .len(),
        1,
        "nothing was deleted"
    );
    assert!(projects::get(&mut conn, p.id).await.is_ok());
}
