//! API tokens over real HTTP: read-only ones cannot change anything, revoked ones are refused
//! at once, with and without a password; Settings makes and revokes them; and the example
//! script in docs/ runs against a live server with one.

use std::time::Duration;

use factory::auth::tokens::{self, Scope};
use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{api, assert_problem, launch_body, token, with_password, worker};
use crate::support::TestApp;

#[tokio::test]
async fn tokens_let_scripts_in_read_only_ones_only_read_and_revoked_ones_are_refused_at_once() {
    let app = TestApp::spawn().await;
    let door = with_password(&app).await;
    let mut conn = app.engine.conn().await.unwrap();
    let reader = token(&app, "gallery sync", Scope::ReadOnly).await;
    let writer = token(&app, "render farm", Scope::Full).await;
    assert!(reader.expose().starts_with("aft_") && reader.expose().len() == 47);

    // No token, a made-up one, a malformed header: refused with a problem.
    assert_problem(
        "no token",
        &api(&door, Method::GET, "/api/v1/projects", None, None).await,
        401,
    );
    let forged = format!("aft_{}", "A".repeat(43));
    assert_problem(
        "a made-up token",
        &api(&door, Method::GET, "/api/v1/projects", Some(&forged), None).await,
        401,
    );
    let basic = door
        .client
        .get(door.url("/api/v1/projects"))
        .basic_auth("me", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    // A read-only token reads, and cannot change anything.
    let (status, _, _) = api(
        &door,
        Method::GET,
        "/api/v1/projects",
        Some(reader.expose()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let refused = api(
        &door,
        Method::POST,
        "/api/v1/projects",
        Some(reader.expose()),
        Some(json!({"name": "Sneaky"})),
    )
    .await;
    assert_problem("a read-only token making a project", &refused, 403);
    assert!(refused.1["detail"].as_str().unwrap().contains("read-only"));
    let refused = api(
        &door,
        Method::POST,
        "/api/v1/launches",
        Some(reader.expose()),
        Some(launch_body(1, "x")),
    )
    .await;
    assert_problem("a read-only token launching", &refused, 403);
    let (_, listed, _) = api(
        &door,
        Method::GET,
        "/api/v1/projects",
        Some(reader.expose()),
        None,
    )
    .await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["name"] != "Sneaky"));

    // A full token changes things; tokens do not open the pages or the media.
    let (status, made, _) = api(
        &door,
        Method::POST,
        "/api/v1/projects",
        Some(writer.expose()),
        Some(json!({"name": "Farm"})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let page = door
        .client
        .get(door.url("/settings"))
        .bearer_auth(writer.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 401, "a token is for the API only");

    // Last use recorded; revoked: refused on the very next request.
    let listed = tokens::list(&mut conn).await.unwrap();
    assert!(
        listed.iter().all(|t| t.last_used_at.is_some()),
        "{listed:?}"
    );
    assert!(tokens::revoke(&mut conn, writer.token.id).await.unwrap());
    assert_problem(
        "a revoked token",
        &api(
            &door,
            Method::GET,
            "/api/v1/projects",
            Some(writer.expose()),
            None,
        )
        .await,
        401,
    );

    // Without a password the API answers on loopback, but a token given is still held to its scope.
    assert_problem(
        "a read-only token without a password",
        &api(
            &app,
            Method::POST,
            "/api/v1/projects",
            Some(reader.expose()),
            Some(json!({"name": "Also sneaky"})),
        )
        .await,
        403,
    );
    assert_problem(
        "a revoked token without a password",
        &api(
            &app,
            Method::GET,
            "/api/v1/projects",
            Some(writer.expose()),
            None,
        )
        .await,
        401,
    );

    // The database holds hashes only.
    let dump: Vec<Dumped> = diesel_async::RunQueryDsl::load(
        diesel::sql_query("SELECT string_agg(t::text, ' ') AS text FROM api_tokens t"),
        &mut conn,
    )
    .await
    .unwrap();
    assert!(
        !dump[0].text.contains(&reader.expose()[4..]),
        "{}",
        dump[0].text
    );
}

#[derive(diesel::QueryableByName)]
struct Dumped {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

#[tokio::test]
async fn settings_make_a_token_shown_once_and_revoke_it() {
    let app = TestApp::spawn().await;
    let made: Value = app
        .call("tokens/create", &[("name", "nightly"), ("scope", "full")])
        .await
        .json()
        .await
        .unwrap();
    let secret = made["secret"]
        .as_str()
        .expect("the secret, once")
        .to_string();
    assert_eq!(
        made["token"]["hint"].as_str().unwrap(),
        &secret[secret.len() - 4..]
    );
    let bad = app
        .call("tokens/create", &[("name", " "), ("scope", "read_only")])
        .await;
    assert_eq!(bad.status(), 422);
    let listed = app.call("tokens/list", &[]).await.text().await.unwrap();
    assert!(
        listed.contains("nightly") && !listed.contains(&secret),
        "{listed}"
    );
    let (status, _, _) = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        Some(&secret),
        Some(json!({"name": "By token"})),
    )
    .await;
    assert_eq!(status, 201);
    let id = made["token"]["id"].as_i64().unwrap().to_string();
    assert_eq!(
        app.call("tokens/revoke", &[("id", &id)]).await.status(),
        200
    );
    assert_eq!(
        app.call("tokens/revoke", &[("id", &id)]).await.status(),
        404
    );
    assert_problem(
        "a token revoked in Settings",
        &api(&app, Method::GET, "/api/v1/projects", Some(&secret), None).await,
        401,
    );
}

#[tokio::test]
async fn the_example_script_in_docs_launches_a_batch_and_downloads_it_with_curl() {
    let app = TestApp::spawn().await;
    let door = with_password(&app).await;
    let token = token(&app, "example", Scope::Full).await;
    let worker = worker(&app);
    let out = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api-example.sh");
    let run = tokio::process::Command::new("bash")
        .arg(&script)
        .args(["Script cards", "a {red|green} fox in the snow"])
        .arg(out.path())
        .env("ART_FACTORY_URL", door.url(""))
        .env("ART_FACTORY_TOKEN", token.expose())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 images"), "{stdout}");
    assert!(!stdout.contains(token.expose()) && !stderr.contains(token.expose()));
    let files: Vec<_> = std::fs::read_dir(out.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), 2, "{stdout}");
    for file in files {
        let bytes = std::fs::read(file.path()).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{:?}", file.path());
    }
    // Run again: the project is found by name, not made twice.
    let (_, projects, _) = api(
        &door,
        Method::GET,
        "/api/v1/projects",
        Some(token.expose()),
        None,
    )
    .await;
    assert_eq!(
        projects
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == "Script cards")
            .count(),
        1
    );
    worker.shut_down(Duration::from_secs(1)).await;
}
