//! API tokens: how scripts and other tools use the REST API.
//!
//! A token is `aft_` and a random 256-bit value in base64url. It is shown once, when made; the
//! database keeps its SHA-256, a name, a scope and when it was last used. Revoking deletes the
//! row, so the very next request with it is refused. A check is one statement that also
//! records the use (at most once a minute, like sessions).

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bytea, Nullable, Text, Timestamptz};
use diesel::{sql_query, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use zeroize::Zeroizing;

use super::token_sha256;

/// What every token starts with (so secret scanners and people recognise one).
pub const PREFIX: &str = "aft_";
/// The longest token name.
pub const NAME_MAX_CHARS: usize = 80;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read anything (GET and HEAD); change nothing.
    ReadOnly,
    /// Everything the API offers, launches included.
    Full,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReadOnly => "read_only",
            Scope::Full => "full",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "read_only" => Some(Scope::ReadOnly),
            "full" => Some(Scope::Full),
            _ => None,
        }
    }
}

/// A token's name: 1 to [`NAME_MAX_CHARS`] characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars == 0 {
            return Err(
                "Give the token a name that says what uses it, like “render script on the NAS”."
                    .into(),
            );
        }
        if chars > NAME_MAX_CHARS {
            return Err(format!(
                "Token names can be at most {NAME_MAX_CHARS} characters; this one has {chars}."
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(
                "Token names cannot contain line breaks or other control characters.".into(),
            );
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    /// The token's last four characters.
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just made: the only time the secret exists outside the caller's script.
pub struct NewToken {
    pub token: ApiToken,
    secret: Zeroizing<String>,
}

impl NewToken {
    pub fn expose(&self) -> &str {
        &self.secret
    }
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &self.token)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    scope: String,
    #[diesel(sql_type = Text)]
    hint: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_used_at: Option<DateTime<Utc>>,
}

impl From<Row> for ApiToken {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            name: r.name,
            // The column's CHECK allows only the two.
            scope: Scope::parse(&r.scope).unwrap_or(Scope::ReadOnly),
            hint: r.hint,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

const COLUMNS: &str = "id, name, scope, hint, created_at, last_used_at";

/// Makes a token; the secret is in the answer and nowhere else.
pub async fn create(
    conn: &mut AsyncPgConnection,
    name: &TokenName,
    scope: Scope,
) -> QueryResult<NewToken> {
    let secret = Zeroizing::new(format!("{PREFIX}{}", *super::random_token()));
    let hint: String = secret[secret.len() - 4..].to_string();
    let row: Row = sql_query(format!(
        "INSERT INTO api_tokens (name, scope, token_sha256, hint) VALUES ($1, $2, $3, $4)
         RETURNING {COLUMNS}"
    ))
    .bind::<Text, _>(name.as_str())
    .bind::<Text, _>(scope.as_str())
    .bind::<Bytea, _>(token_sha256(&secret))
    .bind::<Text, _>(hint)
    .get_result(conn)
    .await?;
    Ok(NewToken {
        token: row.into(),
        secret,
    })
}

/// Every token, newest first.
pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ApiToken>> {
    let rows: Vec<Row> = sql_query(format!(
        "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC"
    ))
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Revokes a token at once; answers whether there was one.
pub async fn revoke(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    sql_query("DELETE FROM api_tokens WHERE id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await
        .map(|n| n == 1)
}

#[derive(QueryableByName)]
struct Checked {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    scope: String,
}

/// The token's id and scope when `presented` is a live token (and marks it used); `None`
/// otherwise.
pub async fn check(
    conn: &mut AsyncPgConnection,
    presented: &str,
) -> QueryResult<Option<(i64, Scope)>> {
    // Anything not shaped like a token never reaches the database.
    if presented.len() != PREFIX.len() + 43 || !presented.starts_with(PREFIX) {
        return Ok(None);
    }
    let rows: Vec<Checked> = sql_query(
        "WITH live AS (
             SELECT id, scope, last_used_at FROM api_tokens WHERE token_sha256 = $1),
         touched AS (
             UPDATE api_tokens t SET last_used_at = now() FROM live
             WHERE t.id = live.id
               AND (live.last_used_at IS NULL OR live.last_used_at < now() - interval '1 minute'))
         SELECT id, scope FROM live",
    )
    .bind::<Bytea, _>(token_sha256(presented))
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| Scope::parse(&r.scope).map(|s| (r.id, s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_single_line() {
        assert_eq!(TokenName::parse("  nightly  ").unwrap().as_str(), "nightly");
        assert!(TokenName::parse("   ").unwrap_err().contains("name"));
        assert!(TokenName::parse(&"x".repeat(81))
            .unwrap_err()
            .contains("at most 80"));
        assert!(TokenName::parse("a\nb")
            .unwrap_err()
            .contains("line breaks"));
        assert_eq!(Scope::parse(Scope::Full.as_str()), Some(Scope::Full));
        assert_eq!(
            Scope::parse(Scope::ReadOnly.as_str()),
            Some(Scope::ReadOnly)
        );
        assert_eq!(Scope::parse("admin"), None);
    }
}
