//! API keys: creation, listing, revocation (shared by the CLI and the admin page) and the
//! resolution of a bearer credential to the platform it speaks for.

use super::{ApiKeyRow, CreatedKey};
use crate::auth::ssr::{bearer_session, bearer_token, token_digest};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::model::Platform;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::NaiveDateTime;
use http::HeaderMap;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Every key starts with this, so a leaked key is recognisable (secret scanners, logs) and
/// a bearer credential is told apart from a session token without a database lookup.
pub const KEY_PREFIX: &str = "upk_";

pub const MAX_NAME_CHARS: usize = 100;

/// A new key: the prefix and 32 random bytes from the OS, base64url.
pub fn new_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", B64.encode(bytes))
}

/// What "ApiKey"."keyHash" holds. A key carries 256 random bits, so a plain SHA-256 is
/// enough: there is nothing to brute-force that a slow password hash would protect, and a
/// fast digest lets every request find its key through the unique index on "keyHash".
/// Comparing digests in that index lookup leaks nothing useful about the key itself (an
/// attacker learns at most a prefix of a hash of their own guess), so the lookup is
/// effectively constant-time with respect to the secret.
pub fn key_digest(key: &str) -> String {
    token_digest(key)
}

pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("name: give the key a name (who uses it)".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("name: at most {MAX_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("name: control characters are not allowed".into());
    }
    Ok(name.to_string())
}

pub async fn create_key(
    pool: &PgPool,
    name: &str,
    platform: Platform,
) -> Result<CreatedKey, AppError> {
    let name = check_name(name).map_err(AppError::bad)?;
    let id = uuid::Uuid::new_v4().to_string();
    let key = new_key();
    sqlx::query!(
        r#"INSERT INTO "ApiKey" ("id", "name", "platform", "keyHash") VALUES ($1, $2, $3, $4)"#,
        id,
        name,
        platform as Platform,
        key_digest(&key),
    )
    .execute(pool)
    .await?;
    Ok(CreatedKey {
        id,
        name,
        platform,
        key,
    })
}

/// A key as stored, with its times in UTC.
pub struct StoredKey {
    pub id: String,
    pub name: String,
    pub platform: Platform,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub async fn list_keys(pool: &PgPool) -> Result<Vec<StoredKey>, AppError> {
    let rows = sqlx::query_as!(
        StoredKey,
        r#"SELECT "id", "name", "platform" AS "platform: Platform", "createdAt" AS created_at,
                  "lastUsedAt" AS last_used_at, "revokedAt" AS revoked_at
           FROM "ApiKey" ORDER BY ("revokedAt" IS NOT NULL), "createdAt" DESC, "id""#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub fn to_rows(keys: Vec<StoredKey>, tz: chrono_tz::Tz) -> Vec<ApiKeyRow> {
    use crate::time_fmt::local;
    keys.into_iter()
        .map(|k| ApiKeyRow {
            id: k.id,
            name: k.name,
            platform: k.platform,
            created: local(tz, k.created_at),
            last_used: k.last_used_at.map(|t| local(tz, t)),
            revoked: k.revoked_at.map(|t| local(tz, t)),
        })
        .collect()
}

pub enum Revoked {
    Now(StoredKey),
    Already(StoredKey),
}

/// Revokes a key; a key revoked before stays revoked at its first time.
pub async fn revoke_key(pool: &PgPool, id: &str) -> Result<Revoked, AppError> {
    if id.contains('\0') {
        return Err(AppError::not_found("API key"));
    }
    let updated = sqlx::query_as!(
        StoredKey,
        r#"UPDATE "ApiKey" SET "revokedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1 AND "revokedAt" IS NULL
           RETURNING "id", "name", "platform" AS "platform: Platform", "createdAt" AS created_at,
                     "lastUsedAt" AS last_used_at, "revokedAt" AS revoked_at"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    if let Some(k) = updated {
        return Ok(Revoked::Now(k));
    }
    let existing = sqlx::query_as!(
        StoredKey,
        r#"SELECT "id", "name", "platform" AS "platform: Platform", "createdAt" AS created_at,
                  "lastUsedAt" AS last_used_at, "revokedAt" AS revoked_at
           FROM "ApiKey" WHERE "id" = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    existing
        .map(Revoked::Already)
        .ok_or_else(|| AppError::not_found("API key"))
}

// ---------------------------------------------------------------------------------------
// Who is posting

/// The credential behind a request to the ingestion API.
#[derive(Debug, Clone)]
pub enum Caller {
    Key {
        id: String,
        platform: Platform,
    },
    Session {
        user: CurrentUser,
        platform: Platform,
    },
}

impl Caller {
    pub fn platform(&self) -> Platform {
        match self {
            Caller::Key { platform, .. } | Caller::Session { platform, .. } => *platform,
        }
    }
}

/// `Authorization: Bearer <API key or session token>` → the caller, or a 401 that says why.
pub async fn authenticate(pool: &PgPool, headers: &HeaderMap) -> Result<Caller, AppError> {
    let Some(token) = bearer_token(headers) else {
        return Err(AppError::Rejected(
            "send Authorization: Bearer <API key or session token>".into(),
        ));
    };
    if token.starts_with(KEY_PREFIX) {
        let row = sqlx::query!(
            r#"SELECT "id", "platform" AS "platform: Platform", "revokedAt" AS revoked_at,
                      "lastUsedAt" AS last_used_at
               FROM "ApiKey" WHERE "keyHash" = $1"#,
            key_digest(token)
        )
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else {
            return Err(AppError::Rejected("unknown API key".into()));
        };
        if row.revoked_at.is_some() {
            return Err(AppError::Rejected("this API key has been revoked".into()));
        }
        touch(pool, &row.id, row.last_used_at);
        return Ok(Caller::Key {
            id: row.id,
            platform: row.platform,
        });
    }
    match bearer_session(pool, headers).await? {
        Some((user, platform)) => Ok(Caller::Session { user, platform }),
        None => Err(AppError::Rejected(
            "unknown or expired session token".into(),
        )),
    }
}

/// Records that a key was used, at most about once a minute per key so that a busy key does
/// not turn every batch into an extra row update; off the request's path.
fn touch(pool: &PgPool, id: &str, last_used: Option<NaiveDateTime>) {
    let now = chrono::Utc::now().naive_utc();
    if last_used.is_some_and(|t| now - t < chrono::Duration::seconds(60)) {
        return;
    }
    let pool = pool.clone();
    let id = id.to_string();
    tokio::spawn(async move {
        let r = sqlx::query!(
            r#"UPDATE "ApiKey" SET "lastUsedAt" = now() AT TIME ZONE 'UTC'
               WHERE "id" = $1
                 AND ("lastUsedAt" IS NULL OR "lastUsedAt" < (now() AT TIME ZONE 'UTC') - interval '1 minute')"#,
            id
        )
        .execute(&pool)
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not record the API key's last use");
        }
    });
}

// ---------------------------------------------------------------------------------------
// The key shown once

/// A created key waits here for the page that shows it, keyed by the creator's session:
/// with JavaScript off the form post is answered by a redirect back to the page, so the
/// key cannot travel in the response. It lives only in this process's memory, for at most
/// ten minutes, and is removed when shown; it is never written to the database.
fn flash() -> &'static Mutex<HashMap<String, (Instant, CreatedKey)>> {
    static F: OnceLock<Mutex<HashMap<String, (Instant, CreatedKey)>>> = OnceLock::new();
    F.get_or_init(Default::default)
}

const FLASH_TTL: Duration = Duration::from_secs(600);

pub fn put_flash(session_id: &str, key: CreatedKey) {
    if let Ok(mut m) = flash().lock() {
        m.retain(|_, (at, _)| at.elapsed() < FLASH_TTL);
        m.insert(session_id.to_string(), (Instant::now(), key));
    }
}

pub fn take_flash(session_id: &str) -> Option<CreatedKey> {
    let mut m = flash().lock().ok()?;
    m.remove(session_id)
        .filter(|(at, _)| at.elapsed() < FLASH_TTL)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_random_and_hashed_as_hex() {
        let a = new_key();
        let b = new_key();
        assert!(a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 43);
        assert_ne!(a, b);
        let d = key_digest(&a);
        assert_eq!(d.len(), 64);
        assert!(d.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("  bot ").unwrap(), "bot");
        assert!(check_name(" ").is_err());
        assert!(check_name("a\u{0}b").is_err());
        assert!(check_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn the_flash_is_shown_once() {
        let k = CreatedKey {
            id: "i".into(),
            name: "n".into(),
            platform: Platform::Web,
            key: "upk_x".into(),
        };
        put_flash("s1", k.clone());
        assert_eq!(take_flash("s1"), Some(k));
        assert_eq!(take_flash("s1"), None);
    }
}
