//! Browser sessions: a random 256-bit token in the browser's cookie, its SHA-256 in
//! `auth_sessions`. Every check is one statement that also enforces the idle and absolute
//! expiries, and records the last use at most once a minute (so a gallery of a hundred
//! thumbnails does not write a hundred rows).

use diesel::sql_types::{BigInt, Bytea, Text};
use diesel::{sql_query, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use zeroize::Zeroizing;

use super::{token_sha256, Expiry};

/// A new session's token, as it goes into the cookie (43 characters of base64url).
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Starts a session for a client that just gave the password.
pub async fn start_session(
    conn: &mut AsyncPgConnection,
    client: &str,
) -> QueryResult<SessionToken> {
    let token = super::random_token();
    let client: String = client.chars().take(300).collect();
    sql_query("INSERT INTO auth_sessions (token_sha256, client) VALUES ($1, $2)")
        .bind::<Bytea, _>(token_sha256(&token))
        .bind::<Text, _>(client)
        .execute(conn)
        .await?;
    Ok(SessionToken(token))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Whether `token` names a live session (neither idle nor older than allowed); marks it used.
pub async fn check_session(
    conn: &mut AsyncPgConnection,
    token: &str,
    expiry: Expiry,
) -> QueryResult<bool> {
    if token.len() != 43 {
        return Ok(false);
    }
    let rows: Vec<Count> = sql_query(
        "WITH live AS (
             SELECT token_sha256, last_seen_at FROM auth_sessions
             WHERE token_sha256 = $1
               AND last_seen_at > now() - make_interval(secs => $2)
               AND created_at > now() - make_interval(secs => $3)),
         touched AS (
             UPDATE auth_sessions s SET last_seen_at = now() FROM live
             WHERE s.token_sha256 = live.token_sha256
               AND live.last_seen_at < now() - interval '1 minute')
         SELECT count(*) AS n FROM live",
    )
    .bind::<Bytea, _>(token_sha256(token))
    .bind::<BigInt, _>(expiry.idle.as_secs() as i64)
    .bind::<BigInt, _>(expiry.absolute.as_secs() as i64)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().is_some_and(|c| c.n == 1))
}

/// Ends one session.
pub async fn end_session(conn: &mut AsyncPgConnection, token: &str) -> QueryResult<()> {
    sql_query("DELETE FROM auth_sessions WHERE token_sha256 = $1")
        .bind::<Bytea, _>(token_sha256(token))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Ends every session (sign out everywhere); answers how many there were.
pub async fn end_all_sessions(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    sql_query("DELETE FROM auth_sessions").execute(conn).await
}
