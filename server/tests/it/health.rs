use factory::providers::Providers;
use factory::{Engine, EngineSettings};

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn healthz_reports_the_version_and_a_reachable_database() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["reachable"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_answers_503_when_the_database_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("host='{}' user=nobody dbname=nothing", dir.path().display());
    let pool = factory::db::pool(&nowhere, 1).unwrap();
    let engine = Engine::new(pool, Providers::builtin(), EngineSettings::new(dir.path()));
    let app = TestApp::spawn_with(engine).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["database"]["reachable"], false);
}
