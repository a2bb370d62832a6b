//! REST API v1 over real HTTP: a batch launched, followed and downloaded; every refusal a
//! problem document naming the fields; the OpenAPI document covering every route. Tokens and
//! the example script: `api_tokens`.

use std::time::Duration;

use factory::auth::tokens::{self, Scope, TokenName};
use factory::jobs::worker::{WorkerConfig, WorkerHandle};
use reqwest::Method;
use serde_json::{json, Value};
use server::http::auth::{Auth, AuthOptions};

use crate::support::TestApp;

/// A request to the API, with `token` as the bearer when given; the status and the JSON body
/// (or `Null` when it is not JSON).
pub(crate) async fn api(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, String) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        kind,
    )
}

pub(crate) fn assert_problem(
    what: &str,
    (status, body, kind): &(u16, Value, String),
    expected: u16,
) {
    assert_eq!(*status, expected, "{what}: {body}");
    assert_eq!(kind, "application/problem+json", "{what}: {body}");
    assert_eq!(body["status"], expected, "{what}: {body}");
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:art-factory:problem:"),
        "{what}: {body}"
    );
    assert!(
        body["detail"].as_str().unwrap().len() > 10,
        "{what}: {body}"
    );
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn worker(app: &TestApp) -> WorkerHandle {
    app.engine.start_worker(
        WorkerConfig {
            idle_poll: Duration::from_millis(50),
            ..WorkerConfig::default()
        },
        Duration::from_secs(1),
    )
}

/// The same app behind a password (set in its database), answering on another port.
pub(crate) async fn with_password(app: &TestApp) -> TestApp {
    let pool = app.db.as_ref().unwrap().pool();
    let hash = factory::auth::hash(
        &factory::auth::Password::new("the heron waits at dawn".into()).unwrap(),
    );
    let mut conn = factory::db::get_conn(&pool).await.unwrap();
    factory::auth::set_password(&mut conn, &hash).await.unwrap();
    TestApp::spawn_with_auth(app.engine.clone(), Auth::on(pool, AuthOptions::default())).await
}

pub(crate) async fn token(app: &TestApp, name: &str, scope: Scope) -> tokens::NewToken {
    let mut conn = app.engine.conn().await.unwrap();
    tokens::create(&mut conn, &TokenName::parse(name).unwrap(), scope)
        .await
        .unwrap()
}

pub(crate) fn launch_body(project: i64, prompt: &str) -> Value {
    json!({
        "project_id": project, "provider": "local", "model": "waves", "prompt": prompt,
        "params": {"width": 64, "height": 64}, "count": 1, "seed_mode": "fixed", "seed": 7
    })
}

#[tokio::test]
async fn a_script_makes_a_project_launches_follows_and_downloads_a_batch() {
    let app = TestApp::spawn().await;
    let worker = worker(&app);

    // Projects: made, listed, changed; wrong input named field by field.
    let (status, made, _) = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"name": "Cards", "description": "for the holidays"})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let project = made["id"].as_i64().unwrap();
    let taken = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"name": "Cards"})),
    )
    .await;
    assert_problem("a taken name", &taken, 422);
    assert_eq!(fields(&taken.1), ["name"]);
    let blank = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"name": "  "})),
    )
    .await;
    assert_problem("a blank name", &blank, 422);
    let typo = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"nmae": "x"})),
    )
    .await;
    assert_problem("an unknown field", &typo, 422);
    assert!(
        typo.1["detail"].as_str().unwrap().contains("nmae"),
        "{}",
        typo.1
    );
    let (status, changed, _) = api(
        &app,
        Method::PATCH,
        &format!("/api/v1/projects/{project}"),
        None,
        Some(json!({"name": "Holiday cards"})),
    )
    .await;
    assert_eq!(
        (status, changed["name"].as_str()),
        (200, Some("Holiday cards"))
    );
    assert_eq!(changed["description"], "for the holidays");
    let (_, listed, _) = api(&app, Method::GET, "/api/v1/projects", None, None).await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == project));
    assert_problem(
        "no such project",
        &api(&app, Method::GET, "/api/v1/projects/999999", None, None).await,
        404,
    );
    assert_problem(
        "an id that is not a number",
        &api(&app, Method::GET, "/api/v1/projects/abc", None, None).await,
        404,
    );
    assert_problem(
        "no such route",
        &api(&app, Method::GET, "/api/v1/nothing", None, None).await,
        404,
    );

    // A launch checked like the Generate form's: every wrong field at once, nothing queued.
    let bad = api(
        &app,
        Method::POST,
        "/api/v1/launches",
        None,
        Some(json!({
            "project_id": project, "provider": "local", "model": "waves", "prompt": "",
            "params": {"width": 64, "height": 64}, "count": 0
        })),
    )
    .await;
    assert_problem("a launch with a blank prompt and no items", &bad, 422);
    let named = fields(&bad.1);
    assert!(
        named.contains(&"prompt".to_string()) && named.contains(&"count".to_string()),
        "{named:?}"
    );
    let fixed_without_seed = api(
        &app,
        Method::POST,
        "/api/v1/launches",
        None,
        Some(json!({
            "project_id": project, "provider": "local", "model": "waves", "prompt": "x",
            "seed_mode": "fixed"
        })),
    )
    .await;
    assert_eq!(fields(&fixed_without_seed.1), ["seed"]);

    // A dry run expands and prices without queueing.
    let prompt = "a {red|green} fox, {woodcut|etching}";
    let (status, dry, _) = api(
        &app,
        Method::POST,
        "/api/v1/launches?dry_run=true",
        None,
        Some(launch_body(project, prompt)),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        (dry["queued"].as_bool(), dry["items"].as_u64()),
        (Some(false), Some(4))
    );
    assert_eq!(dry["prompts"][0], "a red fox, woodcut");
    assert!(dry["job_ids"].as_array().unwrap().is_empty());
    let (_, batches, _) = api(
        &app,
        Method::GET,
        "/api/v1/batches?section=finished",
        None,
        None,
    )
    .await;
    assert!(
        batches["batches"].as_array().unwrap().is_empty(),
        "the dry run queued: {batches}"
    );

    // The launch itself, followed to the end.
    let (status, launched, _) = api(
        &app,
        Method::POST,
        "/api/v1/launches",
        None,
        Some(launch_body(project, prompt)),
    )
    .await;
    assert_eq!(status, 201, "{launched}");
    let batch = launched["batch_id"].as_i64().unwrap();
    assert_eq!(launched["job_ids"].as_array().unwrap().len(), 4);
    let summary = factory::testing::eventually(Duration::from_secs(30), async || {
        let (_, s, _) = api(
            &app,
            Method::GET,
            &format!("/api/v1/batches/{batch}"),
            None,
            None,
        )
        .await;
        (s["counts"]["succeeded"] == 4).then_some(s)
    })
    .await;
    assert_eq!(summary["project_id"], project);
    let (_, jobs, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/batches/{batch}/jobs?filter=succeeded"),
        None,
        None,
    )
    .await;
    let jobs = jobs["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 4);
    let job = jobs[0]["job"]["id"].as_i64().unwrap();
    let (_, one, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/jobs/{job}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (one["state"].as_str(), one["seed"].as_i64()),
        (Some("succeeded"), Some(7))
    );
    assert_problem(
        "retrying a job that succeeded",
        &api(
            &app,
            Method::POST,
            &format!("/api/v1/jobs/{job}/retry"),
            None,
            None,
        )
        .await,
        409,
    );
    let (_, none_left, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/batches/{batch}/cancel"),
        None,
        None,
    )
    .await;
    assert_eq!(none_left["changed"], 0);
    assert_problem(
        "no such batch",
        &api(
            &app,
            Method::POST,
            "/api/v1/batches/999999/cancel",
            None,
            None,
        )
        .await,
        404,
    );

    // The products, two pages by cursor, with their metadata and files.
    let (_, first, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/products?batch={batch}&limit=3"),
        None,
        None,
    )
    .await;
    let cursor = first["next"].as_str().expect("a second page").to_string();
    let (_, second, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/products?batch={batch}&limit=3&cursor={cursor}"),
        None,
        None,
    )
    .await;
    assert_eq!(second["next"], Value::Null);
    let mut ids: Vec<i64> = first["products"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["products"].as_array().unwrap())
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "{first} {second}");
    let (_, searched, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/products?batch={batch}&q=green"),
        None,
        None,
    )
    .await;
    assert_eq!(
        searched["products"].as_array().unwrap().len(),
        2,
        "{searched}"
    );
    assert_problem(
        "a filter the gallery does not know",
        &api(&app, Method::GET, "/api/v1/products?colour=red", None, None).await,
        422,
    );
    assert_problem(
        "a page size out of range",
        &api(&app, Method::GET, "/api/v1/products?limit=0", None, None).await,
        422,
    );
    let (_, detail, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/products/{}", ids[0]),
        None,
        None,
    )
    .await;
    assert_eq!(detail["product"]["batch_id"], batch);
    assert!(
        detail["params"].as_str().unwrap().contains("width"),
        "{detail}"
    );
    let original = app
        .get(&format!("/api/v1/products/{}/original", ids[0]))
        .await;
    assert_eq!(original.status(), 200);
    assert_eq!(original.headers()["content-type"], "image/png");
    assert!(original.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("art-factory-{}.png", ids[0])));
    assert_eq!(&original.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    let thumb = app
        .get(&format!("/api/v1/products/{}/thumbnail?size=768", ids[0]))
        .await;
    assert_eq!(thumb.headers()["content-type"], "image/webp");
    assert_eq!(&thumb.bytes().await.unwrap()[..4], b"RIFF");
    assert_problem(
        "a thumbnail size there is none of",
        &api(
            &app,
            Method::GET,
            &format!("/api/v1/products/{}/thumbnail?size=100", ids[0]),
            None,
            None,
        )
        .await,
        422,
    );

    // A project with work in it is not deleted; an empty one is.
    assert_problem(
        "deleting a project with products",
        &api(
            &app,
            Method::DELETE,
            &format!("/api/v1/projects/{project}"),
            None,
            None,
        )
        .await,
        409,
    );
    let (_, empty, _) = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"name": "Empty"})),
    )
    .await;
    let (status, _, _) = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/projects/{}", empty["id"]),
        None,
        None,
    )
    .await;
    assert_eq!(status, 204);
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_docs_page_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let (status, doc, _) = api(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    for schema in [
        "ProjectDto",
        "LaunchSpec",
        "Launch",
        "JobDto",
        "ProductPage",
        "Problem",
        "CharacterDto",
        "CharacterLocks",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "no schema {schema}"
        );
    }
    let undocumented = [
        "/api/v1/openapi.json",
        "/api/v1/docs",
        "/api/v1/docs/",
        "/api/v1/docs/{*file}",
        "/api/v1/{*rest}",
    ];
    let mut described = 0;
    for (path, _, _) in server::http::http_routes() {
        if !path.starts_with("/api/v1/") || undocumented.contains(&path) {
            continue;
        }
        let entry = &doc["paths"][path];
        assert!(entry.is_object(), "{path} is not in the OpenAPI document");
        described += 1;
    }
    assert!(described >= 15, "{described}");
    // Each documented operation is answered by the router (no 404 and no 405).
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/api/v1/events" {
            continue; // A stream that does not end; the live tests read it.
        }
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "999999");
            let (status, body, _) = api(
                &app,
                method.to_uppercase().parse().unwrap(),
                &concrete,
                None,
                Some(json!({})),
            )
            .await;
            assert!(status != 405, "{method} {path}: {status} {body}");
            assert!(
                !body["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such API route"),
                "{method} {path} is not routed: {status} {body}"
            );
        }
    }
    // JSON goes compressed to a client that accepts it; the live feed never is.
    let compressed = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "br");
    let plain_len = serde_json::to_vec(&doc).unwrap().len();
    let sent = compressed.bytes().await.unwrap().len();
    assert!(sent * 3 < plain_len, "{sent} bytes sent for {plain_len}");
    let feed = app
        .client
        .get(app.url("/events"))
        .header("accept-encoding", "br, gzip")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(feed.headers()["content-type"], "text/event-stream");
    assert!(feed.headers().get("content-encoding").is_none());
    drop(feed);
    let page = app.get("/api/v1/docs/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let init = app
        .get("/api/v1/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    let moved = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.headers()["location"], "/api/v1/docs/");
}
