//! The request guard, over every route the router knows: the extra HTTP routes, every Leptos
//! page, every registered server function (a route added later is walked too, and a path
//! parameter nobody gave a value for fails the test). From a foreign Host or Origin, nothing
//! changes and no data leaves; from the app's own origin everything still answers.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::Method;
use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use factory::jobs::worker::WorkerConfig;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{project, run_batch, TestApp};

/// Every request the router knows: (method, concrete path).
pub(crate) fn every_route(app: &TestApp, known: &Known) -> Vec<(Method, String)> {
    let all_methods = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    let mut routes = BTreeSet::new();
    for (path, _, _) in server::http::http_routes() {
        for method in &all_methods {
            routes.insert((method.to_string(), known.fill(path)));
        }
    }
    for listing in leptos_axum::generate_route_list(app::App) {
        for method in &all_methods {
            routes.insert((method.to_string(), known.fill(listing.path())));
        }
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        routes.insert((method.to_string(), path.to_string()));
    }
    let _ = app;
    routes
        .into_iter()
        .map(|(m, p)| (m.parse().unwrap(), p))
        .collect()
}

/// Values for path parameters: real rows, so a request that got through would find something.
pub(crate) struct Known {
    pub batch: i64,
    pub project: i64,
    pub file: String,
}

impl Known {
    fn fill(&self, path: &str) -> String {
        path.split('/')
            .map(|segment| {
                let name = segment
                    .strip_prefix(':')
                    .or_else(|| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
                match name {
                    None => segment.to_string(),
                    Some("id") => self.batch.to_string(),
                    Some("project") => self.project.to_string(),
                    Some("file") => self.file.clone(),
                    // The API docs' files, and the API's catch-all.
                    Some("*file") => "swagger-ui.css".to_string(),
                    Some("*rest") => "no-such-route".to_string(),
                    Some(other) => panic!(
                        "the route {path} has a parameter “{other}”: give it a value here so \
                         the guard test covers it"
                    ),
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Everything a request could change: every table's rows and the files on disk.
pub(crate) async fn fingerprint(app: &TestApp) -> String {
    #[derive(QueryableByName)]
    struct Digest {
        #[diesel(sql_type = Text)]
        digest: String,
    }
    let mut conn = app.engine.conn().await.unwrap();
    let mut parts = Vec::new();
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
    }
    // Every table, so a table added later is watched too.
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t.name == "characters"));
    for table in tables.iter().map(|t| t.name.as_str()) {
        let rows: Vec<Digest> = diesel::sql_query(format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest \
             FROM {table} t"
        ))
        .load(&mut conn)
        .await
        .unwrap();
        parts.push(format!("{table}:{}", rows[0].digest));
    }
    let mut files: Vec<String> = crate::support::walk(app.engine.media().root())
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    parts.push(files.join(","));
    parts.join(" ")
}

/// The data a leak would show: the project's name, prompts, and the image bytes' PNG magic.
pub(crate) const SECRET_NAME: &str = "Guarded Project Zebra";
pub(crate) const SECRET_PROMPT: &str = "a heron in moonlight";

pub(crate) async fn seeded() -> (TestApp, Known) {
    let app = TestApp::spawn().await;
    let project = project(&app, SECRET_NAME).await;
    let worker = app.engine.start_worker(
        WorkerConfig {
            idle_poll: Duration::from_millis(50),
            ..WorkerConfig::default()
        },
        Duration::from_secs(1),
    );
    let (batch, products) = run_batch(&app, project, SECRET_PROMPT, 1).await;
    worker.shut_down(Duration::from_secs(1)).await;
    let file = products[0].url.rsplit('/').next().unwrap().to_string();
    (
        app,
        Known {
            batch,
            project,
            file,
        },
    )
}

/// What a refused request got back: its status and its whole body.
pub(crate) async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    headers: &[(&str, String)],
) -> (u16, String) {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("id=1&archived=false&paused=true&name=Forged&description=");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    // A route that never answers fails here, named, instead of stalling the whole suite.
    let response = tokio::time::timeout(Duration::from_secs(60), request.send())
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no answer within 60 s"))
        .unwrap();
    let status = response.status().as_u16();
    let body = tokio::time::timeout(Duration::from_secs(5), response.text())
        .await
        .map(|b| b.unwrap_or_default())
        .unwrap_or_else(|_| "<a stream that kept going>".into());
    (status, body)
}

fn assert_refused(what: &str, method: &Method, path: &str, (status, body): &(u16, String)) {
    assert_eq!(
        *status, 403,
        "{what}: {method} {path} answered {status}: {body}"
    );
    // A HEAD answer has no body at all.
    let refusal_only = if *method == Method::HEAD {
        body.is_empty()
    } else {
        body.starts_with("Art Factory ")
    };
    assert!(
        refusal_only && !body.contains(SECRET_NAME) && !body.contains(SECRET_PROMPT),
        "{what}: {method} {path} leaked: {body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_host_gets_nothing_from_any_route_and_changes_nothing() {
    let (app, known) = seeded().await;
    let before = fingerprint(&app).await;
    let routes = every_route(&app, &known);
    assert!(routes.len() > 40, "{routes:?}");
    let port = app.addr.port();
    for host in [
        format!("rebind.attacker.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        format!("127.0.0.1:{}", port + 1),
    ] {
        for (method, path) in &routes {
            let origin = format!("http://{host}");
            let answer = send(
                &app,
                method,
                path,
                &[("host", host.clone()), ("origin", origin)],
            )
            .await;
            assert_refused("foreign Host", method, path, &answer);
        }
    }
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_website_can_change_nothing_and_read_no_feed() {
    let (app, known) = seeded().await;
    let before = fingerprint(&app).await;
    let port = app.addr.port();
    let foreign = [
        vec![("origin", "https://evil.example".to_string())],
        vec![("origin", format!("http://127.0.0.1:{}", port + 1))],
        vec![("origin", "null".to_string())],
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![("sec-fetch-site", "same-site".to_string())],
    ];
    let mut checked = 0;
    for (method, path) in every_route(&app, &known) {
        let changes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
            || path.starts_with("/api/")
            || path == "/ws"
            || path == "/events";
        if !changes {
            continue;
        }
        for headers in &foreign {
            let answer = send(&app, &method, &path, headers).await;
            assert_refused("foreign Origin", &method, &path, &answer);
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");

    // A WebSocket from another site is refused before the upgrade.
    let mut request = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_apps_own_pages_still_reach_every_server_function_and_feed() {
    let (app, known) = seeded().await;
    let own = format!("http://{}", app.addr);
    // Every route answers something other than the guard's refusal from the app's own origin
    // (a request with made-up arguments may well be refused by the function itself).
    for (method, path) in every_route(&app, &known) {
        if path == "/events" || path == "/ws" {
            continue;
        }
        let (status, body) = send(&app, &method, &path, &[("origin", own.clone())]).await;
        assert!(
            !(status == 403 && body.starts_with("Art Factory ")),
            "{method} {path} was refused from the app's own origin"
        );
    }
    let created = app
        .client
        .post(app.url("/api/projects/create"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", own.clone())
        .header("sec-fetch-site", "same-origin")
        .body("name=Made+here&description=")
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        200,
        "a form from the app's own page creates a project"
    );

    let mut request = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert("origin", own.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(60), socket.next()).await;
    assert!(matches!(first, Ok(Some(Ok(_)))), "the snapshot arrives");

    // An EventSource of the app's own page sends no Origin, only Sec-Fetch-Site.
    let mut events = app
        .client
        .get(app.url("/events"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let chunk = tokio::time::timeout(Duration::from_secs(60), events.chunk())
        .await
        .expect("the event stream answers within 60 s")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("snapshot"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_forbids_framing_and_embedding_by_other_sites() {
    let (app, known) = seeded().await;
    for path in [
        "/".to_string(),
        "/generate".to_string(),
        format!("/media/{}/{}", known.project, known.file),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["content-security-policy"], "frame-ancestors 'none'");
        assert_eq!(headers["cross-origin-resource-policy"], "same-origin");
    }
}
