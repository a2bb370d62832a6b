//! Wildcard lists, templates, and launching prompt templates, on a real PostgreSQL.

use factory::batches::{LaunchError, LaunchRequest, SeedChoice};
use factory::library::{templates, wildcards, LibraryError, Scope};
use factory::prompt::{derive_seed, Bindings, Mode};
use serde_json::json;

use crate::queue::setup_with_providers;

#[tokio::test(flavor = "multi_thread")]
async fn a_projects_list_hides_the_global_one_and_names_are_unique_per_scope() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let conn = &mut *setup.db.conn().await;
    let global = wildcards::create(conn, Scope::Global, "colors", vec!["red".into()])
        .await
        .unwrap();
    wildcards::create(conn, Scope::Global, "size", vec!["big".into()])
        .await
        .unwrap();
    wildcards::create(
        conn,
        Scope::Project(setup.project),
        "colors",
        vec!["teal".into(), "plum".into()],
    )
    .await
    .unwrap();
    let taken = wildcards::create(conn, Scope::Global, "__colors__", vec!["x".into()]).await;
    assert!(
        matches!(taken, Err(LibraryError::NameTaken { .. })),
        "{taken:?}"
    );

    let lists = wildcards::for_project(conn, setup.project).await.unwrap();
    assert_eq!(lists["colors"], ["teal", "plum"]);
    assert_eq!(lists["size"], ["big"]);

    let renamed = wildcards::update(
        conn,
        global.id,
        "colors/all",
        vec!["red".into(), "blue".into()],
    )
    .await
    .unwrap();
    assert_eq!(renamed.name, "colors/all");
    wildcards::delete(conn, global.id).await.unwrap();
    assert!(matches!(
        wildcards::delete(conn, global.id).await,
        Err(LibraryError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn templates_are_searched_renamed_duplicated_and_deleted() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let conn = &mut *setup.db.conn().await;
    let form = json!({"prompt": "a {red|blue} fox", "mode": "combinatorial"});
    let portrait = templates::create(conn, Scope::Global, "Portrait 50%", &form)
        .await
        .unwrap();
    templates::create(conn, Scope::Project(setup.project), "Landscape", &form)
        .await
        .unwrap();
    for i in 0..300 {
        templates::create(conn, Scope::Global, &format!("bulk {i:03}"), &form)
            .await
            .unwrap();
    }
    let found = templates::search(conn, Some(setup.project), "50%")
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "% is matched literally");
    assert_eq!(found[0].form, form);
    let in_project = templates::search(conn, Some(setup.project), "land")
        .await
        .unwrap();
    assert_eq!(in_project.len(), 1);
    assert!(templates::search(conn, None, "land")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        templates::search(conn, None, "bulk").await.unwrap().len(),
        300
    );

    let copy = templates::duplicate(conn, portrait.id).await.unwrap();
    assert_eq!(copy.name, "Portrait 50% (copy)");
    let again = templates::duplicate(conn, portrait.id).await.unwrap();
    assert_eq!(again.name, "Portrait 50% (copy 2)");
    let clash = templates::rename(conn, again.id, "portrait 50% (COPY)").await;
    assert!(
        matches!(clash, Err(LibraryError::NameTaken { .. })),
        "names ignore case"
    );
    templates::delete(conn, copy.id).await.unwrap();
}

fn launch(project: i64, prompt: &str, count: u32) -> LaunchRequest {
    LaunchRequest {
        project_id: project,
        provider: "local".into(),
        model: "waves".into(),
        prompt: prompt.into(),
        negative_prompt: String::new(),
        params: json!({"width": 64, "height": 64})
            .as_object()
            .unwrap()
            .clone(),
        count,
        mode: Mode::Combinatorial,
        seed: SeedChoice::Derived(Some(42)),
        confirmed: false,
        networks: Vec::new(),
        input_image: None,
        made_from: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_launch_expands_wildcards_and_stores_each_jobs_prompt_bindings_and_seed() {
    let setup = setup_with_providers(5, Vec::new()).await;
    wildcards::create(
        &mut *setup.db.conn().await,
        Scope::Project(setup.project),
        "animal",
        vec!["cat".into(), "fox".into(), "owl".into()],
    )
    .await
    .unwrap();
    let (batch, jobs) = setup
        .engine
        .launch(&launch(setup.project, "a {red|blue} __animal__", 1))
        .await
        .unwrap();
    assert_eq!(batch.item_count, 6);
    assert_eq!(batch.expansion_mode, "combinatorial");
    assert_eq!(batch.seed_mode, "derived");
    assert_eq!(
        batch.tokens,
        json!([{"key": "t0", "label": "{red|blue}"}, {"key": "t1", "label": "__animal__"}])
    );
    let prompts: Vec<String> = jobs.iter().map(|j| j.request().unwrap().prompt).collect();
    assert_eq!(
        prompts,
        [
            "a red cat",
            "a red fox",
            "a red owl",
            "a blue cat",
            "a blue fox",
            "a blue owl"
        ]
    );
    for job in &jobs {
        let bindings: Bindings = serde_json::from_value(job.bindings.clone()).unwrap();
        assert_eq!(job.seed, derive_seed(42, &bindings));
        assert_eq!(job.request().unwrap().seed, job.seed);
    }
    assert_eq!(jobs[5].bindings["t1"], json!({"i": [2], "v": "owl"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn launches_over_the_cap_or_with_a_broken_prompt_queue_nothing() {
    let setup = setup_with_providers(5, Vec::new()).await;
    // The setup caps launches at 20 items: 3 × 3 combinations × 2 images = 18 fit.
    let big = launch(setup.project, "{a|b|c} {d|e|f}", 2);
    assert_eq!(setup.engine.launch(&big).await.unwrap().1.len(), 18);

    let over = launch(setup.project, "{a|b|c} {d|e|f|g}", 2);
    match setup.engine.launch(&over).await {
        Err(LaunchError::Invalid(errors)) => {
            assert_eq!(errors[0].field, "prompt");
            assert!(
                errors[0].message.contains("24 items"),
                "{}",
                errors[0].message
            );
        }
        other => panic!("{other:?}"),
    }
    for (prompt, expected) in [
        ("a {red|blue", "line 1, column 12"),
        ("a ${x=red}", "variables"),
        ("__nobody__", "unknown wildcard __nobody__"),
        ("{~a|b}", "switch the mode to random"),
    ] {
        match setup.engine.launch(&launch(setup.project, prompt, 1)).await {
            Err(LaunchError::Invalid(errors)) => {
                assert!(errors[0].message.contains(expected), "{prompt}: {errors:?}")
            }
            other => panic!("{prompt}: {other:?}"),
        }
    }
    let totals = factory::jobs::queue::totals(&mut *setup.db.conn().await)
        .await
        .unwrap();
    assert_eq!(totals.active(), 18, "only the first launch queued anything");
}

#[tokio::test(flavor = "multi_thread")]
async fn above_the_warning_threshold_a_launch_waits_for_confirmation() {
    let setup = setup_with_providers(5, Vec::new()).await;
    let limits = factory::batches::ItemLimits {
        cap: 1000,
        confirm_above: 4,
    };
    let lists = std::collections::HashMap::new();
    let providers = factory::providers::Providers::builtin();
    let request = launch(setup.project, "{a|b|c|d|e}", 1);
    let errors = factory::batches::plan(&providers, limits, &lists, &request, None).unwrap_err();
    assert_eq!(errors[0].field, "confirm");
    assert!(
        errors[0].message.contains("This queues 5 images"),
        "{errors:?}"
    );
    let confirmed = LaunchRequest {
        confirmed: true,
        ..request
    };
    let plan = factory::batches::plan(&providers, limits, &lists, &confirmed, None).unwrap();
    assert_eq!(plan.items.len(), 5);
}
