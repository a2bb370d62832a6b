//! The request guard: one middleware in front of every route.
//!
//! The studio listens on this machine, and every web page the person opens runs on this machine
//! too. Without a guard, any of those pages could drive it: a form posted to
//! `http://127.0.0.1:3000/api/generate/launch` is sent by the browser with no questions asked (a
//! thousand billed images per forged request), `new WebSocket("ws://127.0.0.1:3000/ws")` reads
//! every prompt, and a domain whose DNS answer flips to 127.0.0.1 (DNS rebinding) reads every
//! response as its own. So:
//!
//! - **Host.** Every request must name, in `Host`, an address this server serves: a loopback
//!   name (`127.0.0.1`, `localhost`, `[::1]`) or the address it listens on, with its port. A
//!   rebinding domain sends its own name and is refused, whatever the request.
//! - **Origin.** Every request that changes something or streams data — any method but GET, HEAD
//!   and OPTIONS, every server function (`/api/...`), every WebSocket upgrade and the `/events`
//!   stream — must come from the app's own origin: `Origin` equal to the origin of the address
//!   asked for, or, where a browser sends no `Origin`, `Sec-Fetch-Site: same-origin`. Browsers
//!   always send one of them from a page (every cross-site POST, WebSocket and EventSource
//!   carries an `Origin`), so a request with neither comes from a program (a script, `curl`),
//!   which no website can make the browser be.
//!
//! Refusals are 403 with a plain sentence and nothing else. GET routes change nothing, so a
//! foreign page can at most make the browser fetch what it then cannot read (and the security
//! headers added to every answer stop it from framing the app or embedding its media).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// What the guard accepts: the addresses this server answers to.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Lowercase host names and IP literals (IPv6 in brackets), without port.
    hosts: Arc<Vec<String>>,
    port: u16,
    /// Any `Host` is served (password mode, where the session cookie, not the address, keeps
    /// other sites out); `Origin` must still match it.
    any_host: bool,
}

impl Guard {
    /// The guard for a server listening on `listen` (the real address, port 0 resolved).
    pub fn new(listen: SocketAddr) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(String::from)
            .collect();
        let own = host_literal(listen.ip());
        if !listen.ip().is_unspecified() && !hosts.contains(&own) {
            hosts.push(own);
        }
        Self {
            hosts: Arc::new(hosts),
            port: listen.port(),
            any_host: false,
        }
    }

    /// The guard in password mode: the server is reached by whatever name the network gives it
    /// (a rebinding site gets no cookie, since `SameSite=Strict` keeps it to this site, so it
    /// is refused at the door), while changes and feeds must still come from its own pages.
    pub fn answering_any_host(mut self) -> Self {
        self.any_host = true;
        self
    }

    /// `Host` (or an HTTP/2 authority) names this server.
    fn serves(&self, authority: &str) -> bool {
        let Some((name, port)) = split_authority(authority) else {
            return false;
        };
        self.any_host || (port.unwrap_or(80) == self.port && self.hosts.contains(&name))
    }

    /// The request comes from a page of this app, or from no browser page at all.
    fn same_origin(&self, headers: &HeaderMap, authority: &str) -> bool {
        match headers.get(header::ORIGIN).map(HeaderValue::to_str) {
            Some(Ok(origin)) => {
                let origin = origin.to_ascii_lowercase();
                let authority = authority.to_ascii_lowercase();
                origin == format!("http://{authority}") || origin == format!("https://{authority}")
            }
            // An Origin we cannot read is not ours.
            Some(Err(_)) => false,
            None => match headers.get("sec-fetch-site").map(HeaderValue::to_str) {
                Some(Ok(site)) => site.eq_ignore_ascii_case("same-origin"),
                Some(Err(_)) => false,
                None => true,
            },
        }
    }
}

/// The middleware: refuses what the guard does not accept, and adds the security headers to
/// every answer.
pub async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let authority = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let Some(authority) = authority.filter(|a| guard.serves(a)) else {
        tracing::warn!(
            path = %request.uri().path(),
            "refused a request for a host this server does not serve (DNS rebinding?)"
        );
        return refuse(format!(
            "Art Factory answers only to the addresses it serves (127.0.0.1, localhost, [::1] \
             and its listen address, port {}). Open it at http://127.0.0.1:{}/.",
            guard.port, guard.port
        ));
    };
    if changes_or_streams(&request)
        && !guard.same_origin(request.headers(), &authority)
        && !opened_by_the_person(&request)
    {
        tracing::warn!(
            method = %request.method(),
            path = %request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "refused a request another website made"
        );
        return refuse(
            "Art Factory refused this request: it came from another website. Only Art \
             Factory's own pages may change anything or read the live feed."
                .to_string(),
        );
    }
    let mut response = next.run(request).await;
    secure(response.headers_mut());
    response
}

/// A page the person opened themselves (typed, pasted, a bookmark): a GET navigation the browser
/// marks `Sec-Fetch-Site: none`, which no other site can cause. The API docs page and its
/// document are opened this way.
fn opened_by_the_person(request: &Request) -> bool {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.headers().contains_key(header::ORIGIN)
        && !request.headers().contains_key(header::UPGRADE)
        && header("sec-fetch-site").as_deref() == Some("none")
        && header("sec-fetch-mode").as_deref() == Some("navigate")
}

/// Requests that must come from the app's own pages.
fn changes_or_streams(request: &Request) -> bool {
    let path = request.uri().path();
    !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || path.starts_with("/api/")
        || path == "/ws"
        || path == "/events"
        || request.headers().contains_key(header::UPGRADE)
}

fn refuse(message: String) -> Response {
    let mut response = (StatusCode::FORBIDDEN, message).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secure(headers);
    response
}

/// Headers every answer carries: no framing by other sites (clickjacking the Generate button),
/// no embedding of responses (images included) in other sites' pages, no type sniffing, no
/// referrer leaving the app.
fn secure(headers: &mut HeaderMap) {
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("content-security-policy", "frame-ancestors 'none'"),
        ("cross-origin-resource-policy", "same-origin"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// `Host: 127.0.0.1:3000` -> ("127.0.0.1", Some(3000)); `[::1]:80` -> ("[::1]", Some(80)).
/// Names are lowercased; anything malformed is `None`.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let authority = authority.trim().to_ascii_lowercase();
    let (name, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let rest = &authority[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if rest.is_empty() => None,
            None => return None,
        };
        (authority[..=end].to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((name, port)) => (name.to_string(), Some(port.parse().ok()?)),
            None => (authority.clone(), None),
        }
    };
    let name = name.strip_suffix('.').unwrap_or(&name).to_string();
    (!name.is_empty()).then_some((name, port))
}

/// An IP as it appears in a `Host` header.
fn host_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// An empty body, for tests of the guard's decisions without a router.
#[cfg(test)]
fn request(method: Method, uri: &str, headers: &[(&str, &str)]) -> Request {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(axum::body::Body::empty()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new("127.0.0.1:3000".parse().unwrap())
    }

    #[test]
    fn only_the_addresses_served_with_their_port_are_served() {
        let g = guard();
        for ok in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST:3000",
            "[::1]:3000",
            "localhost.:3000",
        ] {
            assert!(g.serves(ok), "{ok}");
        }
        for refused in [
            "evil.example:3000",
            "127.0.0.1.nip.io:3000",
            "127.0.0.1:3001",
            "127.0.0.1",
            "localhost:80",
            "",
            "[::1",
            "127.0.0.1:x",
        ] {
            assert!(!g.serves(refused), "{refused}");
        }
        let wide = Guard::new("192.168.1.5:3000".parse().unwrap());
        assert!(wide.serves("192.168.1.5:3000"));
    }

    #[test]
    fn the_origin_must_be_the_address_asked_for_or_sec_fetch_site_same_origin() {
        let g = guard();
        let headers = |pairs: &[(&str, &str)]| request(Method::POST, "/", pairs).headers().clone();
        let host = "127.0.0.1:3000";
        assert!(g.same_origin(&headers(&[("origin", "http://127.0.0.1:3000")]), host));
        assert!(!g.same_origin(&headers(&[("origin", "http://localhost:3000")]), host));
        assert!(!g.same_origin(&headers(&[("origin", "http://127.0.0.1:8080")]), host));
        assert!(!g.same_origin(&headers(&[("origin", "https://evil.example")]), host));
        assert!(!g.same_origin(&headers(&[("origin", "null")]), host));
        assert!(g.same_origin(&headers(&[("sec-fetch-site", "same-origin")]), host));
        for site in ["same-site", "cross-site", "none"] {
            assert!(
                !g.same_origin(&headers(&[("sec-fetch-site", site)]), host),
                "{site}"
            );
        }
        assert!(g.same_origin(&headers(&[]), host), "not a browser page");
    }

    #[test]
    fn server_functions_sockets_and_streams_count_as_changes_whatever_the_method() {
        assert!(changes_or_streams(&request(
            Method::GET,
            "/api/projects/list",
            &[]
        )));
        assert!(changes_or_streams(&request(Method::GET, "/ws", &[])));
        assert!(changes_or_streams(&request(Method::GET, "/events", &[])));
        assert!(changes_or_streams(&request(
            Method::DELETE,
            "/projects",
            &[]
        )));
        assert!(changes_or_streams(&request(
            Method::GET,
            "/x",
            &[("upgrade", "websocket")]
        )));
        assert!(!changes_or_streams(&request(Method::GET, "/generate", &[])));
        assert!(!changes_or_streams(&request(
            Method::HEAD,
            "/media/1/x.png",
            &[]
        )));
    }

    #[test]
    fn only_a_navigation_the_person_made_passes_without_an_origin() {
        let typed = [("sec-fetch-site", "none"), ("sec-fetch-mode", "navigate")];
        assert!(opened_by_the_person(&request(
            Method::GET,
            "/api/v1/docs/",
            &typed
        )));
        assert!(!opened_by_the_person(&request(
            Method::POST,
            "/api/v1/launches",
            &typed
        )));
        assert!(!opened_by_the_person(&request(
            Method::GET,
            "/api/v1/docs/",
            &[
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "navigate")
            ]
        )));
        assert!(!opened_by_the_person(&request(
            Method::GET,
            "/ws",
            &[typed[0], typed[1], ("upgrade", "websocket")]
        )));
        assert!(!opened_by_the_person(&request(
            Method::GET,
            "/events",
            &[typed[0], typed[1], ("origin", "https://evil.example")]
        )));
    }
}
