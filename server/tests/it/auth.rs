//! Password mode over real HTTP: every route the router knows refuses a request without a
//! session; signing in makes a fresh strict cookie, signing out ends it (here or everywhere);
//! sign-in attempts past the limit wait; and the binary refuses a network address until a
//! password is set with `art-factory set-password`.

use std::num::NonZeroU32;

use axum::http::Method;
use factory::auth::{self, Password};
use governor::Quota;
use server::http::auth::{Auth, AuthOptions, COOKIE};

use crate::guard::{every_route, fingerprint, seeded, send, SECRET_NAME, SECRET_PROMPT};
use crate::support::{form_body, run_command, ServerProcess, TestApp};

const PASSWORD: &str = "the heron waits at dawn";

/// A door over the seeded app's engine, with the password set.
async fn door(app: &TestApp, options: AuthOptions) -> TestApp {
    let pool = app.db.as_ref().unwrap().pool();
    let hash = auth::hash(&Password::new(PASSWORD.into()).unwrap());
    auth::set_password(&mut factory::db::get_conn(&pool).await.unwrap(), &hash)
        .await
        .unwrap();
    let mut door = TestApp::spawn_with_auth(app.engine.clone(), Auth::on(pool, options)).await;
    // Redirects are answers to check, not to follow.
    door.client = no_redirects();
    door
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts the sign-in form from the app's own page; answers the response.
async fn sign_in(app: &TestApp, password: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut request = no_redirects()
        .post(app.url("/login"))
        .header("origin", format!("http://{}", app.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("password", password),
            ("next", "/gallery?q=fox"),
        ]));
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The session token a sign-in set, from its `Set-Cookie`.
fn token(response: &reqwest::Response) -> String {
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie
        .strip_prefix(&format!("{COOKIE}="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Posts the sign-out form (`everywhere=1` for every session) with `token` as the session.
async fn sign_out(app: &TestApp, token: &str, body: &'static str) -> reqwest::Response {
    no_redirects()
        .post(app.url("/logout"))
        .header("origin", format!("http://{}", app.addr))
        .header("cookie", format!("{COOKIE}={token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Lists projects with `token` as the session: the status.
async fn list_projects(app: &TestApp, token: &str) -> u16 {
    no_redirects()
        .post(app.url("/api/projects/list"))
        .header("origin", format!("http://{}", app.addr))
        .header("cookie", format!("theme=dark; {COOKIE}={token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("archived=false")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_password_no_route_answers_without_a_session() {
    let (app, known) = seeded().await;
    let door = door(&app, AuthOptions::default()).await;
    let before = fingerprint(&app).await;
    let own = format!("http://{}", door.addr);
    let routes = every_route(&door, &known);
    assert!(routes.len() > 40, "{routes:?}");
    let mut walked = 0;
    for (method, path) in &routes {
        let bare = path.split('?').next().unwrap();
        if bare == "/healthz" || bare == "/login" {
            continue;
        }
        walked += 1;
        // From the app's own origin (so the guard lets it through) and as a page would ask.
        let as_page = [
            ("origin", own.clone()),
            ("accept", "text/html,application/xhtml+xml".to_string()),
        ];
        let (status, body) = send(&door, method, path, &as_page).await;
        let page_like = matches!(*method, Method::GET | Method::HEAD);
        if page_like {
            assert_eq!(status, 303, "{method} {path} answered {status}: {body}");
        } else {
            assert_eq!(status, 401, "{method} {path} answered {status}: {body}");
        }
        let (status, body) = send(&door, method, path, &[("origin", own.clone())]).await;
        assert_eq!(
            status, 401,
            "{method} {path} (not a page) answered {status}: {body}"
        );
        assert!(
            !body.contains(SECRET_NAME) && !body.contains(SECRET_PROMPT),
            "{method} {path} leaked: {body}"
        );
        // A made-up session is no session.
        let forged = [
            ("origin", own.clone()),
            ("cookie", format!("{COOKIE}={}", "A".repeat(43))),
        ];
        let (status, _) = send(&door, method, path, &forged).await;
        assert_eq!(status, 401, "{method} {path} with a forged cookie");
    }
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
    let page = no_redirects()
        .get(door.url("/gallery?q=fox"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.headers()["location"].to_str().unwrap(),
        "/login?next=/gallery%3Fq%3Dfox"
    );
    assert_eq!(door.get("/healthz").await.status(), 200);
    let login = door.get("/login").await;
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains(r#"type="password""#));
    println!(
        "route walk: {walked} routes refused without a session ({} known; /healthz and /login open)",
        routes.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_makes_a_fresh_strict_cookie_and_signing_out_ends_it() {
    let (app, known) = seeded().await;
    let door = door(&app, AuthOptions::default()).await;

    let wrong = sign_in(&door, "not the password", &[]).await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("That is not the password."));

    // A cookie the browser brings (planted by someone else) is never kept: a new token.
    let planted = format!("{COOKIE}={}", "P".repeat(43));
    let right = sign_in(&door, PASSWORD, &[("cookie", &planted)]).await;
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], "/gallery?q=fox");
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP without a proxy: {cookie}"
    );
    let first = token(&right);
    assert_ne!(first, "P".repeat(43));
    assert_eq!(list_projects(&door, &first).await, 200);
    let media = no_redirects()
        .get(door.url(&format!("/media/{}/{}", known.project, known.file)))
        .header("cookie", format!("{COOKIE}={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 200);

    // Signing out ends that session at once.
    let out = sign_out(&door, &first, "").await;
    assert_eq!(out.status(), 303);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(list_projects(&door, &first).await, 401);

    // Everywhere: two browsers, both out.
    let a = token(&sign_in(&door, PASSWORD, &[]).await);
    let b = token(&sign_in(&door, PASSWORD, &[]).await);
    assert_eq!(list_projects(&door, &b).await, 200);
    let everywhere = sign_out(&door, &a, "everywhere=1").await;
    assert_eq!(everywhere.status(), 303);
    assert_eq!(list_projects(&door, &a).await, 401);
    assert_eq!(list_projects(&door, &b).await, 401);

    // Behind a TLS proxy that says so, the cookie is Secure.
    let proxied = TestApp::spawn_with_auth(
        app.engine.clone(),
        Auth::on(
            app.db.as_ref().unwrap().pool(),
            AuthOptions {
                behind_proxy: true,
                ..AuthOptions::default()
            },
        ),
    )
    .await;
    let over_https = sign_in(&proxied, PASSWORD, &[("x-forwarded-proto", "https")]).await;
    assert!(over_https.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_attempts_past_the_limit_wait_per_client_and_overall() {
    let (app, _) = seeded().await;
    let per_minute = |n| Quota::per_minute(NonZeroU32::new(n).unwrap());
    let door = door(
        &app,
        AuthOptions {
            behind_proxy: true,
            per_client: per_minute(3),
            overall: per_minute(5),
            ..AuthOptions::default()
        },
    )
    .await;
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    for _ in 0..3 {
        let wrong = sign_in(&door, "guess", &from("203.0.113.1")).await;
        assert_eq!(wrong.status(), 401);
    }
    let limited = sign_in(&door, PASSWORD, &from("203.0.113.1")).await;
    assert_eq!(limited.status(), 429, "even the right password waits");
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body = limited.text().await.unwrap();
    assert!(body.contains(&format!("Wait {wait} second")), "{body}");

    // Another address has its own allowance, until the server's is spent too.
    assert_eq!(
        sign_in(&door, PASSWORD, &from("198.51.100.2"))
            .await
            .status(),
        303
    );
    assert_eq!(
        sign_in(&door, "guess", &from("198.51.100.3"))
            .await
            .status(),
        401
    );
    assert_eq!(
        sign_in(&door, PASSWORD, &from("198.51.100.4"))
            .await
            .status(),
        429,
        "five attempts in all this minute"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_serves_the_network_only_after_set_password() {
    let data_dir = tempfile::tempdir().unwrap();
    let refused = run_command(&["serve", "--listen", "0.0.0.0:0"], data_dir.path(), "");
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("art-factory set-password"), "{err}");

    let short = run_command(&["set-password"], data_dir.path(), "short\nshort\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12"));
    let differ = run_command(
        &["set-password"],
        data_dir.path(),
        &format!("{PASSWORD}\n{PASSWORD}!\n"),
    );
    assert!(String::from_utf8_lossy(&differ.stderr).contains("differ"));
    let set = run_command(
        &["set-password"],
        data_dir.path(),
        &format!("{PASSWORD}\n{PASSWORD}\n"),
    );
    let said = String::from_utf8_lossy(&set.stdout);
    assert!(
        set.status.success() && said.contains("The password is set"),
        "{said}"
    );

    let server = ServerProcess::start_command(&["serve", "--listen", "0.0.0.0:0"], data_dir.path());
    let port = server
        .url("")
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    // Reached by any name the network gives it; a page asks to sign in.
    let page = no_redirects()
        .get(format!("http://127.0.0.1:{port}/"))
        .header("host", format!("studio.home.arpa:{port}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login?next=/");
    let signed_in = no_redirects()
        .post(format!("http://127.0.0.1:{port}/login"))
        .header("host", format!("studio.home.arpa:{port}"))
        .header("origin", format!("http://studio.home.arpa:{port}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("password", PASSWORD), ("next", "/")]))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = token(&signed_in);
    let home = no_redirects()
        .get(format!("http://127.0.0.1:{port}/"))
        .header("cookie", format!("{COOKIE}={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(!String::from_utf8_lossy(&set.stderr).contains(PASSWORD));
}
