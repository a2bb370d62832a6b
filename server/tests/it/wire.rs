//! The wire types: job states, expansion and seed modes travel as the engine's words, and an
//! unknown word is refused rather than shown or run.

use app::dto::{ExpansionMode, JobState, SeedMode, TemplateForm};
use serde_json::json;

use crate::support::{project, TestApp};

#[test]
fn job_states_and_modes_travel_as_words_and_unknown_words_are_refused() {
    assert_eq!(json!(JobState::RetryWait), json!("retry_wait"));
    assert_eq!(
        serde_json::from_value::<JobState>(json!("canceled")).unwrap(),
        JobState::Canceled
    );
    assert!(serde_json::from_value::<JobState>(json!("exploded")).is_err());
    assert!(serde_json::from_value::<SeedMode>(json!("sometimes")).is_err());
    assert_eq!(json!(ExpansionMode::Random), json!("random"));
}

#[test]
fn a_template_saved_by_an_older_version_with_empty_modes_reads_as_the_defaults() {
    let form: TemplateForm = serde_json::from_value(json!({
        "provider": "local", "model": "aurora", "params": "{}", "prompt": "a fox",
        "negative_prompt": "", "mode": "", "count": 1, "seed_mode": "", "seed": null
    }))
    .unwrap();
    assert_eq!(
        (form.mode, form.seed_mode),
        (ExpansionMode::Combinatorial, SeedMode::Derived)
    );
    assert!(serde_json::from_value::<TemplateForm>(json!({
        "provider": "local", "model": "aurora", "params": "{}", "prompt": "a fox",
        "negative_prompt": "", "mode": "sideways", "count": 1, "seed_mode": "", "seed": null
    }))
    .is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_launch_with_an_unknown_mode_is_refused_and_queues_nothing() {
    let app = TestApp::spawn().await;
    let project = project(&app, "Modes").await.to_string();
    let response = app
        .call(
            "generate/launch",
            &[
                ("form[project_id]", &project),
                ("form[provider]", "local"),
                ("form[model]", "aurora"),
                ("form[prompt]", "a fox"),
                ("form[negative_prompt]", ""),
                ("form[params]", "{}"),
                ("form[count]", "1"),
                ("form[seed_mode]", "sometimes"),
                ("form[mode]", "combinatorial"),
            ],
        )
        .await;
    assert!(response.status().is_client_error() || response.status().is_server_error());
    let totals = factory::jobs::queue::totals(&mut app.engine.conn().await.unwrap())
        .await
        .unwrap();
    assert_eq!(totals.active(), 0);
}
