//! Server-only parts of sign-in: the session store over "Session", password hashing, the
//! role check, the signed anonymous-state cookie, and the HTTP handlers for the form posts.

use super::CurrentUser;
use crate::config::{Config, Secret};
use crate::error::AppError;
use crate::model::{Platform, Role};
use crate::state::AppState;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session};

pub const SESSION_COOKIE: &str = "portal_session";
pub const STATE_COOKIE: &str = "portal_state";

// Keys of the tower-sessions record that map to columns of "Session" rather than its
// `data`; the store moves them between the two.
const K_USER_ID: &str = "uid";
const K_PLATFORM: &str = "platform";
const K_DEVICE: &str = "device";
const K_ROW_ID: &str = "sid";
const K_USER: &str = "user";
const K_PENDING_EVENT: &str = "pending_event";
const COLUMN_KEYS: &[&str] = &[
    K_USER_ID,
    K_PLATFORM,
    K_DEVICE,
    K_ROW_ID,
    K_USER,
    K_PENDING_EVENT,
];

// ---------------------------------------------------------------------------------------
// The role check

/// The one authorization check. Every server function calls it first, and the page guard
/// calls it for every staff route.
pub fn check_role(user: Option<&CurrentUser>, min: Role) -> Result<CurrentUser, AppError> {
    match user {
        None => Err(AppError::Unauthorized.noted()),
        Some(u) if u.must_change_password => Err(AppError::PasswordChangeRequired.noted()),
        Some(u) if u.role >= min => Ok(u.clone()),
        Some(_) => Err(AppError::Forbidden.noted()),
    }
}

/// Anyone signed in, even with a one-time password still to replace: only for changing
/// that password and signing out.
pub fn require_user_pending_password() -> Result<CurrentUser, AppError> {
    current_user().ok_or_else(|| AppError::Unauthorized.noted())
}

/// The caller of the current server function or page render.
pub fn current_user() -> Option<CurrentUser> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<CurrentUser>().cloned())
}

pub fn require_role(min: Role) -> Result<CurrentUser, AppError> {
    check_role(current_user().as_ref(), min)
}

/// Anyone signed in, of any role.
pub fn require_user() -> Result<CurrentUser, AppError> {
    check_role(current_user().as_ref(), Role::User)
}

// ---------------------------------------------------------------------------------------
// Passwords

/// OWASP's argon2id parameters: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"),
    )
}

pub const MIN_PASSWORD_LEN: usize = 12;

pub async fn hash_password(password: Secret) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    })
}

/// A hash of a password nobody has, checked when the phone is unknown so that both
/// answers take the same time.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(b"no-such-user-no-such-password", &salt)
            .expect("hash dummy")
            .to_string()
    })
}

pub async fn verify_password(password: Secret, phc: Option<String>) -> bool {
    let known = phc.is_some();
    tokio::task::spawn_blocking(move || {
        let phc = phc.unwrap_or_else(|| dummy_hash().to_string());
        let ok = PasswordHash::new(&phc)
            .map(|h| {
                argon2()
                    .verify_password(password.expose().as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// Phones

/// Normalises what people type into E.164 (`+998901234567`). Spaces, dashes, dots and
/// brackets are ignored; Uzbek numbers may come without the plus, or as 9 local digits.
pub fn normalize_phone(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '(' | ')' | '.' | '\u{a0}' => {}
            _ => return Err(format!("phone: {c:?} is not part of a phone number")),
        }
    }
    if !plus {
        if let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_string();
        } else if digits.len() == 9 {
            digits = format!("998{digits}");
        }
    }
    if digits.len() < 8 || digits.len() > 15 || digits.starts_with('0') {
        return Err(
            "phone: enter the full number with its country code, e.g. +998 90 123 45 67".into(),
        );
    }
    if digits.starts_with("998") && digits.len() != 12 {
        return Err("phone: an Uzbek number has 9 digits after +998".into());
    }
    Ok(format!("+{digits}"))
}

// ---------------------------------------------------------------------------------------
// Clients

/// The client's address: the peer, or the first untrusted hop of X-Forwarded-For when the
/// peer is a trusted proxy.
pub fn client_ip(config: &Config, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = peer?;
    if !config.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if config.trusted_proxies.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

pub fn peer_of(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(512).collect())
}

/// "Chrome 131 on Android": enough for a person to recognise their own device.
pub fn device_info(ua: Option<&str>) -> Option<String> {
    let ua = ua?;
    let version_after = |marker: &str| -> Option<String> {
        let i = ua.find(marker)? + marker.len();
        let v: String = ua[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
        (!v.is_empty()).then_some(v)
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("YaBrowser/", "Yandex"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
        ("curl/", "curl"),
        ("okhttp/", "okhttp"),
    ]
    .iter()
    .find_map(|(m, name)| version_after(m).map(|v| format!("{name} {v}")))
    .or_else(|| ua.contains("Telegram").then(|| "Telegram".to_string()));
    let os = if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        Some("iOS")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (browser, os) {
        (Some(b), Some(o)) => Some(format!("{b} on {o}")),
        (Some(b), None) => Some(b),
        (None, Some(o)) => Some(o.to_string()),
        (None, None) => Some(ua.chars().take(40).collect()),
    }
}

// ---------------------------------------------------------------------------------------
// Events

/// An EventLog row the portal writes about a person's own sign-in activity or a staff
/// action. `updatedAt` does not exist on "EventLog"; ids are UUID strings like Prisma's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewEvent {
    pub user_id: String,
    pub event_type: String,
    pub platform: Platform,
    pub metadata: serde_json::Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn insert_event<'e, E>(db: E, ev: &NewEvent) -> Result<(), sqlx::Error>
where
    E: sqlx::PgExecutor<'e>,
{
    sqlx::query!(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata", "ipAddress", "userAgent")
           VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
        uuid::Uuid::new_v4().to_string(),
        ev.user_id,
        ev.event_type,
        ev.platform as Platform,
        ev.metadata,
        ev.ip,
        ev.user_agent,
    )
    .execute(db)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The session store

/// Stores signed-in sessions as rows of the seed's "Session" table. The client holds the
/// tower-sessions id; the row keeps only its SHA-256, so a leaked database cannot be
/// replayed as cookies. Anonymous visitors never reach the store (their state lives in a
/// signed cookie), which is why every row has a user.
#[derive(Debug, Clone)]
pub struct PgSessionStore {
    pool: PgPool,
}

impl PgSessionStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Deletes expired rows; run periodically.
    pub async fn purge_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
        let r =
            sqlx::query!(r#"DELETE FROM "Session" WHERE "expiresAt" < (now() AT TIME ZONE 'UTC')"#)
                .execute(pool)
                .await?;
        Ok(r.rows_affected())
    }
}

pub fn token_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn to_utc(t: time::OffsetDateTime) -> chrono::NaiveDateTime {
    DateTime::<Utc>::from_timestamp(t.unix_timestamp(), t.nanosecond())
        .unwrap_or_default()
        .naive_utc()
}

fn from_utc(t: chrono::NaiveDateTime) -> time::OffsetDateTime {
    let u = t.and_utc();
    time::OffsetDateTime::from_unix_timestamp(u.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn row_data(record: &Record) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = record
        .data
        .iter()
        .filter(|(k, _)| !COLUMN_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::Value::Object(map)
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let Some(user_id) = record
            .data
            .get(K_USER_ID)
            .and_then(|v| v.as_str())
            .map(String::from)
        else {
            // Nothing to persist for an anonymous session; the table requires a user.
            return Ok(());
        };
        let platform: Platform = record
            .data
            .get(K_PLATFORM)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or(Platform::Web);
        let device = record
            .data
            .get(K_DEVICE)
            .and_then(|v| v.as_str())
            .map(String::from);
        let pending: Option<NewEvent> = record
            .data
            .remove(K_PENDING_EVENT)
            .and_then(|v| serde_json::from_value(v).ok());
        let row_id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // A collision of 128-bit random ids is not expected, but the unique index would
        // turn one into an error rather than a shared session, so retry with a new id.
        loop {
            let inserted = sqlx::query!(
                r#"INSERT INTO "Session" ("id", "userId", "token", "platform", "deviceInfo", "expiresAt", "data")
                   VALUES ($1, $2, $3, $4, $5, $6, $7)
                   ON CONFLICT ("token") DO NOTHING"#,
                row_id,
                user_id,
                token_digest(&record.id.to_string()),
                platform as Platform,
                device,
                to_utc(record.expiry_date),
                row_data(record),
            )
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                break;
            }
            record.id = Id::default();
        }
        if let Some(mut ev) = pending {
            ev.metadata["sessionId"] = serde_json::Value::String(row_id.clone());
            insert_event(&mut *tx, &ev).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        record
            .data
            .insert(K_ROW_ID.into(), serde_json::Value::String(row_id));
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // A row deleted meanwhile (revoked, signed out elsewhere) stays deleted.
        sqlx::query!(
            r#"UPDATE "Session" SET "data" = $2, "expiresAt" = $3 WHERE "token" = $1"#,
            token_digest(&record.id.to_string()),
            row_data(record),
            to_utc(record.expiry_date),
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query!(
            r#"SELECT s."id", s."userId" AS user_id, s."platform" AS "platform: Platform", s."deviceInfo" AS device,
                      s."expiresAt" AS expires_at, s."data" AS data,
                      u."role" AS "role: Role", u."firstName" AS first_name, u."lastName" AS last_name,
                      u."phone", u."telegramUsername" AS telegram_username,
                      u."passwordChangeRequired" AS must_change_password
               FROM "Session" s JOIN "User" u ON u."id" = s."userId"
               WHERE s."token" = $1 AND s."expiresAt" > (now() AT TIME ZONE 'UTC')
                 AND u."blockedAt" IS NULL"#,
            token_digest(&id.to_string()),
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let mut data: std::collections::HashMap<String, serde_json::Value> = match row.data {
            serde_json::Value::Object(m) => m.into_iter().collect(),
            _ => Default::default(),
        };
        let user = CurrentUser {
            id: row.user_id.clone(),
            role: row.role,
            first_name: row.first_name,
            last_name: row.last_name,
            phone: row.phone,
            telegram_username: row.telegram_username,
            session_id: row.id.clone(),
            must_change_password: row.must_change_password,
        };
        data.insert(K_USER_ID.into(), row.user_id.into());
        data.insert(K_ROW_ID.into(), row.id.into());
        data.insert(
            K_PLATFORM.into(),
            serde_json::to_value(row.platform).map_err(backend)?,
        );
        if let Some(d) = row.device {
            data.insert(K_DEVICE.into(), d.into());
        }
        data.insert(K_USER.into(), serde_json::to_value(user).map_err(backend)?);
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: from_utc(row.expires_at),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query!(
            r#"DELETE FROM "Session" WHERE "token" = $1"#,
            token_digest(&id.to_string())
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }
}

/// Turns the session in hand into a signed-in one: a new id (so a cookie planted before
/// sign-in is worthless after it), the absolute lifetime, and the LOGIN event that the
/// store writes in the same transaction as the row.
pub async fn establish_session(
    session: &Session,
    config: &Config,
    user_id: &str,
    platform: Platform,
    login_event: NewEvent,
) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.clear().await;
    let expires =
        time::OffsetDateTime::now_utc() + time::Duration::seconds(config.session_ttl_secs);
    session.set_expiry(Some(Expiry::AtDateTime(expires)));
    session.insert(K_USER_ID, user_id).await?;
    session.insert(K_PLATFORM, platform).await?;
    if let Some(d) = device_info(login_event.user_agent.as_deref()) {
        session.insert(K_DEVICE, d).await?;
    }
    session.insert(K_PENDING_EVENT, login_event).await?;
    session.save().await?;
    Ok(())
}

/// A session row opened inside the caller's transaction, for the sign-ins that must create
/// the user, the session and the LOGIN event atomically (Telegram, the API). The caller
/// hands the secret to the client: as the session cookie (then it must be a tower-sessions
/// id, see [`new_cookie_secret`]) or as a bearer token ([`new_bearer_secret`]).
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub secret: String,
    pub row_id: String,
    pub expires_at: DateTime<Utc>,
}

pub fn new_cookie_secret() -> String {
    Id::default().to_string()
}

pub fn new_bearer_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64.encode(bytes)
}

pub async fn open_session_row(
    conn: &mut sqlx::PgConnection,
    config: &Config,
    user_id: &str,
    platform: Platform,
    user_agent: Option<&str>,
    secret: String,
) -> Result<OpenedSession, sqlx::Error> {
    let row_id = uuid::Uuid::new_v4().to_string();
    let expires_at = Utc::now() + chrono::Duration::seconds(config.session_ttl_secs);
    sqlx::query!(
        r#"INSERT INTO "Session" ("id", "userId", "token", "platform", "deviceInfo", "expiresAt")
           VALUES ($1, $2, $3, $4, $5, $6)"#,
        row_id,
        user_id,
        token_digest(&secret),
        platform as Platform,
        device_info(user_agent),
        expires_at.naive_utc(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(OpenedSession {
        secret,
        row_id,
        expires_at,
    })
}

/// The Set-Cookie of a session opened by [`open_session_row`], with the same attributes
/// the session layer uses.
pub fn session_cookie(config: &Config, opened: &OpenedSession) -> String {
    let expires = time::OffsetDateTime::from_unix_timestamp(opened.expires_at.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    tower_sessions::cookie::Cookie::build((SESSION_COOKIE, opened.secret.clone()))
        .path("/")
        .http_only(true)
        .same_site(tower_sessions::cookie::SameSite::Lax)
        .secure(config.cookie_secure)
        .expires(expires)
        .build()
        .to_string()
}

/// The caller behind `Authorization: Bearer <token>`, when the token is a live session.
pub async fn bearer_session(
    pool: &PgPool,
    headers: &HeaderMap,
) -> Result<Option<(CurrentUser, Platform)>, AppError> {
    let Some(token) = bearer_token(headers) else {
        return Ok(None);
    };
    let row = sqlx::query!(
        r#"SELECT s."id", s."userId" AS user_id, s."platform" AS "platform: Platform",
                  u."role" AS "role: Role", u."firstName" AS first_name, u."lastName" AS last_name,
                  u."phone", u."telegramUsername" AS telegram_username,
                  u."passwordChangeRequired" AS must_change_password
           FROM "Session" s JOIN "User" u ON u."id" = s."userId"
           WHERE s."token" = $1 AND s."expiresAt" > (now() AT TIME ZONE 'UTC')
             AND u."blockedAt" IS NULL"#,
        token_digest(token),
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        (
            CurrentUser {
                id: r.user_id,
                role: r.role,
                first_name: r.first_name,
                last_name: r.last_name,
                phone: r.phone,
                telegram_username: r.telegram_username,
                session_id: r.id,
                must_change_password: r.must_change_password,
            },
            r.platform,
        )
    }))
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

// ---------------------------------------------------------------------------------------
// The anonymous-state cookie

/// What an anonymous visitor carries between requests: the page to return to after sign-in
/// and a one-time message. Signed with PORTAL_SECRET and short-lived.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AnonState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash: Option<String>,
    pub exp: i64,
}

const STATE_TTL_SECS: i64 = 15 * 60;

fn mac(secret: &Secret, payload: &[u8]) -> Vec<u8> {
    let mut m =
        Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("hmac takes any key");
    m.update(payload);
    m.finalize().into_bytes().to_vec()
}

/// Signs any serialisable value as `payload.mac` (base64url); used for the state cookie
/// and for list cursors.
pub fn sign_value<T: Serialize>(secret: &Secret, purpose: &str, value: &T) -> String {
    let payload = serde_json::to_vec(value).expect("serialisable");
    let mut tagged = purpose.as_bytes().to_vec();
    tagged.push(0);
    tagged.extend_from_slice(&payload);
    format!(
        "{}.{}",
        B64.encode(&payload),
        B64.encode(mac(secret, &tagged))
    )
}

pub fn verify_value<T: for<'de> Deserialize<'de>>(
    secret: &Secret,
    purpose: &str,
    token: &str,
) -> Option<T> {
    let (p, m) = token.split_once('.')?;
    let payload = B64.decode(p).ok()?;
    let given = B64.decode(m).ok()?;
    let mut tagged = purpose.as_bytes().to_vec();
    tagged.push(0);
    tagged.extend_from_slice(&payload);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).ok()?;
    mac.update(&tagged);
    mac.verify_slice(&given).ok()?;
    serde_json::from_slice(&payload).ok()
}

pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .find_map(|c| c.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
}

pub fn read_state(config: &Config, headers: &HeaderMap) -> AnonState {
    let Some(secret) = config.portal_secret.as_ref() else {
        return AnonState::default();
    };
    read_cookie(headers, STATE_COOKIE)
        .and_then(|v| verify_value::<AnonState>(secret, "state", v))
        .filter(|s| s.exp > Utc::now().timestamp())
        .unwrap_or_default()
}

fn cookie_attrs(config: &Config) -> &'static str {
    if config.cookie_secure {
        "; Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax"
    }
}

/// A Set-Cookie value carrying `state`, or clearing the cookie when it is empty.
pub fn state_cookie(config: &Config, mut state: AnonState) -> String {
    let attrs = cookie_attrs(config);
    let Some(secret) = config.portal_secret.as_ref() else {
        return format!("{STATE_COOKIE}={attrs}; Max-Age=0");
    };
    if state.next.is_none() && state.flash.is_none() {
        return format!("{STATE_COOKIE}={attrs}; Max-Age=0");
    }
    state.exp = Utc::now().timestamp() + STATE_TTL_SECS;
    format!(
        "{STATE_COOKIE}={}{attrs}; Max-Age={STATE_TTL_SECS}",
        sign_value(secret, "state", &state)
    )
}

/// Only a local path may be a place to return to: never another host, a scheme, or a
/// protocol-relative `//host`.
pub fn safe_next(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2048;
    ok.then(|| next.to_string())
}

/// Where a person chooses a new password; a one-time password leads only here.
pub const PASSWORD_PAGE: &str = "/account/password";

pub fn landing_for(role: Role) -> &'static str {
    if role.is_staff() {
        "/admin"
    } else {
        "/account"
    }
}

// ---------------------------------------------------------------------------------------
// Middleware

/// Resolves who is calling, once per request, for pages, server functions and routes.
pub async fn resolve_user(session: Session, mut req: Request, next: Next) -> Response {
    if let Ok(Some(user)) = session.get::<CurrentUser>(K_USER).await {
        req.extensions_mut().insert(user);
    }
    next.run(req).await
}

/// Pages under /admin and /account need a signed-in caller: anonymous visitors go to
/// /login and come back afterwards. Roles are then checked by each page's own data.
pub async fn page_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // "/account/" renders the account page too, so it is guarded the same.
    let path = req.uri().path().trim_end_matches('/');
    let guarded = path == "/admin"
        || path.starts_with("/admin/")
        || path == "/account"
        || path.starts_with("/account/");
    let me = req.extensions().get::<CurrentUser>();
    if guarded
        && req.method() == Method::GET
        && me.is_some_and(|u| u.must_change_password)
        && path != PASSWORD_PAGE
    {
        return Redirect::to(PASSWORD_PAGE).into_response();
    }
    if guarded && req.method() == Method::GET && me.is_none() {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/admin".into());
        let cookie = state_cookie(
            &state.config,
            AnonState {
                next: safe_next(&target),
                flash: None,
                exp: 0,
            },
        );
        return ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response();
    }
    next.run(req).await
}

/// Cross-site request forgery: a state-changing request that carries cookies must come
/// from this site. Bearer-token API calls carry no cookie and are exempt.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The JSON API authenticates by bearer token only, never by cookie, so a forged
    // cross-site request has nothing to ride on there.
    let api = req.uri().path().starts_with("/api/");
    if changes_state
        && !api
        && req.headers().contains_key(header::COOKIE)
        && !same_site(&state.config, req.headers())
    {
        return (
            StatusCode::FORBIDDEN,
            "cross-site request refused: the Origin is not this portal",
        )
            .into_response();
    }
    next.run(req).await
}

fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(u.origin().ascii_serialization())
}

fn same_site(config: &Config, headers: &HeaderMap) -> bool {
    // "null" is what sandboxed frames and data: pages send: an opaque, foreign origin.
    if headers
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() == b"null")
    {
        return false;
    }
    let claimed = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(origin_of)
        });
    let Some(claimed) = claimed else {
        // Neither header: not a browser's cross-site form post, which always sends one.
        return true;
    };
    if origin_of(&config.public_url).as_deref() == Some(claimed.as_str()) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (url::Url::parse(&claimed), host) {
        (Ok(u), Some(host)) => {
            let claimed_host = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_string(),
            };
            claimed_host == host
        }
        _ => false,
    }
}

pub type SharedConfig = Arc<Config>;
