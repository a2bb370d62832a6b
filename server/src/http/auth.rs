//! Password mode at the door: with a password set, no route answers without a signed-in
//! session, except `/healthz` and the sign-in page itself.
//!
//! - **Sessions.** Signing in makes a new random token (never one the browser brought: no
//!   fixation) in a cookie that is `HttpOnly`, `SameSite=Strict`, and `Secure` when the request
//!   came over HTTPS through a proxy that says so (`--behind-proxy` and `X-Forwarded-Proto`).
//!   The database enforces the idle and absolute expiries on every request
//!   ([`factory::auth::check_session`]). Signing out ends the session; "everywhere" ends all.
//! - **Attempts.** Every sign-in attempt passes two GCRA limits first: one per client address
//!   (the peer, or the proxy's `X-Forwarded-For` when behind one) and one for the whole server,
//!   so many addresses cannot guess faster together. Over either, the answer is 429 with the
//!   wait, in `Retry-After` and in words.
//! - **API tokens.** A request to `/api/v1` with `Authorization: Bearer aft_…` is let in by a
//!   live token instead of a session, with or without a password; a read-only token may only
//!   read (GET, HEAD). A revoked token is refused on its very next request.
//! - **Refusals.** A page asked for without a session is sent to `/login?next=…`; anything else
//!   (server functions, feeds, media, files) gets 401, the API's as a problem document.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use factory::auth::tokens::{self, Scope};
use factory::auth::{self, Expiry, Password};
use factory::db::Pool;
use factory::Engine;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

use super::api::{self, problem::Problem};

pub const COOKIE: &str = "af_session";
/// The paths that answer without a session.
const OPEN: &[&str] = &["/healthz", "/login"];

/// How the door is set up when a password is set.
#[derive(Debug, Clone)]
pub struct AuthOptions {
    pub expiry: Expiry,
    /// Trust `X-Forwarded-For` and `X-Forwarded-Proto` (only behind a proxy that sets them).
    pub behind_proxy: bool,
    /// Sign-in attempts per client address, and for the whole server.
    pub per_client: Quota,
    pub overall: Quota,
}

impl Default for AuthOptions {
    fn default() -> Self {
        let per_minute = |n| Quota::per_minute(NonZeroU32::new(n).expect("non-zero"));
        Self {
            expiry: Expiry::default(),
            behind_proxy: false,
            per_client: per_minute(5),
            overall: per_minute(30),
        }
    }
}

/// The door: off (no password: the server answers on loopback only) or on.
#[derive(Clone, Default)]
pub struct Auth(Option<Arc<Door>>);

pub struct Door {
    pool: Pool,
    options: AuthOptions,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    overall: DefaultDirectRateLimiter,
}

impl Auth {
    /// No password: every route answers (the server listens on loopback only).
    pub fn off() -> Self {
        Self(None)
    }

    pub fn on(pool: Pool, options: AuthOptions) -> Self {
        Self(Some(Arc::new(Door {
            pool,
            per_client: RateLimiter::keyed(options.per_client),
            overall: RateLimiter::direct(options.overall),
            options,
        })))
    }

    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }
}

/// The session token the request's cookie carries, if any.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The middleware: lets through open paths, requests with a live session, and API requests
/// with a live token (whose scope it enforces, with or without a password).
pub async fn require(
    State(auth): State<Auth>,
    State(engine): State<Engine>,
    request: Request,
    next: Next,
) -> Response {
    if is_api(request.uri().path()) && request.headers().contains_key(header::AUTHORIZATION) {
        let authorization = request.headers().get(header::AUTHORIZATION).cloned();
        let method = request.method().clone();
        return match admit_token(&engine, authorization, method).await {
            Ok(()) => next.run(request).await,
            Err(problem) => problem.into_response(),
        };
    }
    let Some(door) = &auth.0 else {
        return next.run(request).await;
    };
    if OPEN.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    if let Some(token) = session_cookie(request.headers()) {
        let checked = match factory::db::get_conn(&door.pool).await {
            Ok(mut conn) => auth::check_session(&mut conn, token, door.options.expiry)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match checked {
            Ok(true) => return next.run(request).await,
            Ok(false) => {}
            Err(e) => {
                tracing::error!("sessions could not be checked: {e}");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The sign-in could not be checked (the database did not answer); try again.",
                )
                    .into_response();
            }
        }
    }
    refuse(&request)
}

fn is_api(path: &str) -> bool {
    path == api::PREFIX || path.starts_with("/api/v1/")
}

/// An API request's `Authorization: Bearer aft_…`: a live token, allowed to do this.
async fn admit_token(
    engine: &Engine,
    authorization: Option<HeaderValue>,
    method: Method,
) -> Result<(), Problem> {
    let presented = authorization
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "Send the token as `Authorization: Bearer aft_…` (Settings → API tokens).",
            )
        })?;
    let checked = match engine.conn().await {
        Ok(mut conn) => tokens::check(&mut conn, presented)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match checked {
        Ok(Some((_, Scope::Full))) => Ok(()),
        Ok(Some((_, Scope::ReadOnly))) => match method {
            Method::GET | Method::HEAD => Ok(()),
            _ => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "This API token is read-only: it may read but not change anything. Make a token \
                 with full access in Settings → API tokens to do this.",
            )),
        },
        Ok(None) => Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "This API token is not valid: it was revoked, or is mistyped. Make a new one in \
             Settings → API tokens.",
        )),
        Err(e) => {
            tracing::error!("API tokens could not be checked: {e}");
            Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The token could not be checked (the database did not answer); try again.",
            ))
        }
    }
}

fn refuse(request: &Request) -> Response {
    let wants_page = matches!(*request.method(), Method::GET | Method::HEAD)
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if wants_page {
        let next = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let location = format!("/login?next={}", encode(&next));
        return (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, "no-store".into()),
            ],
        )
            .into_response();
    }
    if is_api(request.uri().path()) {
        return Problem::new(
            StatusCode::UNAUTHORIZED,
            "This studio has a password: send an API token as `Authorization: Bearer aft_…` \
             (Settings → API tokens), or sign in at /login.",
        )
        .into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"Sign in first: this studio has a password. Open /login in a browser."}"#,
    )
        .into_response()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Where to go after signing in: a path on this server, nothing else.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.chars().any(|c| c.is_control()) =>
        {
            p
        }
        _ => "/",
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login`: the sign-in page (with no password set, there is nothing to sign in to).
pub async fn page(State(auth): State<Auth>, Query(query): Query<NextQuery>) -> Response {
    if !auth.enabled() {
        return redirect("/", None);
    }
    login_page(StatusCode::OK, None, local_path(query.next.as_deref()))
}

#[derive(Deserialize)]
pub struct LoginForm {
    password: String,
    next: Option<String>,
}

/// `POST /login`: checks the limits, then the password; on success a new session.
pub async fn login(
    State(auth): State<Auth>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(form.next.as_deref()).to_string();
    let Some(door) = &auth.0 else {
        return redirect("/", None);
    };
    let client = client_address(
        &headers,
        connect.map(|Extension(ConnectInfo(peer))| peer),
        door.options.behind_proxy,
    );
    if let Err(wait) = door.admit(client) {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let message = format!(
            "Too many sign-in attempts. Wait {seconds} second{} and try again.",
            if seconds == 1 { "" } else { "s" }
        );
        let mut response = login_page(StatusCode::TOO_MANY_REQUESTS, Some(&message), &next);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }
    let attempt = Password::attempt(form.password);
    let result = async {
        let mut conn = factory::db::get_conn(&door.pool).await?;
        let Some(hash) = auth::password_hash(&mut conn).await? else {
            return anyhow::Ok(None);
        };
        let right = tokio::task::spawn_blocking(move || auth::verify(&hash, &attempt)).await?;
        if !right {
            return Ok(None);
        }
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(Some(
            auth::start_session(&mut conn, &format!("{client} {agent}")).await?,
        ))
    }
    .await;
    match result {
        Ok(Some(token)) => {
            tracing::info!(%client, "signed in");
            let secure = door.options.behind_proxy
                && headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|p| p.eq_ignore_ascii_case("https"));
            let cookie = format!(
                "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                token.expose(),
                door.options.expiry.absolute.as_secs(),
                if secure { "; Secure" } else { "" }
            );
            redirect(&next, Some(cookie))
        }
        Ok(None) => {
            tracing::warn!(%client, "a sign-in with a wrong password");
            login_page(
                StatusCode::UNAUTHORIZED,
                Some("That is not the password."),
                &next,
            )
        }
        Err(e) => {
            tracing::error!("a sign-in could not be checked: {e:#}");
            login_page(
                StatusCode::SERVICE_UNAVAILABLE,
                Some("The sign-in could not be checked (the database did not answer); try again."),
                &next,
            )
        }
    }
}

impl Door {
    /// Takes one attempt from the client's allowance and the server's; the wait when either
    /// is spent.
    fn admit(&self, client: IpAddr) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        if self.per_client.len() > 10_000 {
            self.per_client.retain_recent();
        }
        self.per_client
            .check_key(&client)
            .map_err(|until| until.wait_time_from(now))?;
        self.overall
            .check()
            .map_err(|until| until.wait_time_from(now))
    }
}

/// The client's address: the peer's, or with a proxy in front the last address it added.
fn client_address(headers: &HeaderMap, peer: Option<SocketAddr>, behind_proxy: bool) -> IpAddr {
    let forwarded = behind_proxy
        .then(|| headers.get("x-forwarded-for")?.to_str().ok())
        .flatten()
        .and_then(|list| list.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok());
    forwarded
        .or(peer.map(|p| p.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    everywhere: Option<String>,
}

/// `POST /logout`: ends this session (or, with `everywhere`, every session).
pub async fn logout(
    State(auth): State<Auth>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let Some(door) = &auth.0 else {
        return redirect("/", None);
    };
    let ended = async {
        let mut conn = factory::db::get_conn(&door.pool).await?;
        if form.everywhere.is_some() {
            let n = auth::end_all_sessions(&mut conn).await?;
            tracing::info!(sessions = n, "signed out everywhere");
        } else if let Some(token) = session_cookie(&headers) {
            auth::end_session(&mut conn, token).await?;
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = ended {
        tracing::error!("a sign-out failed: {e:#}");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The sign-out could not be recorded (the database did not answer); try again.",
        )
            .into_response();
    }
    let clear = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    redirect("/login", Some(clear))
}

fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut response = (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, to.to_string()),
            (header::CACHE_CONTROL, "no-store".into()),
        ],
    )
        .into_response();
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The sign-in page: plain HTML with its style inline, so it needs no other route.
fn login_page(status: StatusCode, message: Option<&str>, next: &str) -> Response {
    let alert = message
        .map(|m| format!(r#"<p role="alert" class="alert">{}</p>"#, escape(m)))
        .unwrap_or_default();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Art Factory</title>
<style>
:root {{ color-scheme: light dark; font-family: system-ui, sans-serif; }}
body {{ margin: 0; min-height: 100vh; display: grid; place-items: center; background: #fafaf9; color: #1c1917; }}
main {{ width: min(22rem, 90vw); padding: 2rem; border-radius: .75rem; background: #fff; box-shadow: 0 1px 3px #0002; }}
h1 {{ font-size: 1.25rem; margin: 0 0 1rem; }}
label {{ display: block; font-size: .875rem; font-weight: 600; }}
input {{ box-sizing: border-box; width: 100%; margin-top: .25rem; padding: .5rem .75rem; font: inherit; border: 1px solid #a8a29e; border-radius: .375rem; }}
input:focus, button:focus {{ outline: 3px solid #6366f1; outline-offset: 2px; }}
button {{ margin-top: 1rem; width: 100%; padding: .5rem; font: inherit; font-weight: 600; color: #fff; background: #4338ca; border: 0; border-radius: .375rem; cursor: pointer; }}
.alert {{ color: #b91c1c; font-size: .875rem; }}
@media (prefers-color-scheme: dark) {{
  body {{ background: #0c0a09; color: #f5f5f4; }}
  main {{ background: #1c1917; }}
  input {{ background: #0c0a09; color: #f5f5f4; border-color: #57534e; }}
  .alert {{ color: #f87171; }}
}}
</style>
</head>
<body>
<main>
<h1>Art Factory</h1>
{alert}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>"#,
        next = escape(next)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_server_are_followed_after_signing_in() {
        assert_eq!(local_path(Some("/gallery?q=fox")), "/gallery?q=fox");
        for away in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "",
            "gallery",
        ] {
            assert_eq!(local_path(Some(away)), "/", "{away}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_names_it() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(client_address(&headers, Some(peer), false), peer.ip());
        assert_eq!(
            client_address(&headers, Some(peer), true),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; af_session=abc; x=y".parse().unwrap(),
        );
        assert_eq!(session_cookie(&headers), Some("abc"));
    }
}
