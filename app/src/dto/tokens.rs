//! API tokens on the wire (Settings → API tokens). The token itself travels once: in the
//! answer to its creation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read anything, change nothing.
    #[default]
    ReadOnly,
    /// Everything the API offers, launches included.
    Full,
}

impl TokenScope {
    pub fn label(self) -> &'static str {
        match self {
            TokenScope::ReadOnly => "Read-only",
            TokenScope::Full => "Full access",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenDto {
    pub id: i64,
    pub name: String,
    pub scope: TokenScope,
    /// The token's last four characters.
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just made, with its secret: shown once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiTokenDto {
    pub token: ApiTokenDto,
    pub secret: String,
}

#[cfg(feature = "ssr")]
mod from_engine {
    use super::*;
    use factory::auth::tokens::{ApiToken, Scope};

    impl From<Scope> for TokenScope {
        fn from(s: Scope) -> Self {
            match s {
                Scope::ReadOnly => TokenScope::ReadOnly,
                Scope::Full => TokenScope::Full,
            }
        }
    }

    impl From<TokenScope> for Scope {
        fn from(s: TokenScope) -> Self {
            match s {
                TokenScope::ReadOnly => Scope::ReadOnly,
                TokenScope::Full => Scope::Full,
            }
        }
    }

    impl From<ApiToken> for ApiTokenDto {
        fn from(t: ApiToken) -> Self {
            Self {
                id: t.id,
                name: t.name,
                scope: t.scope.into(),
                hint: t.hint,
                created_at: t.created_at,
                last_used_at: t.last_used_at,
            }
        }
    }
}
