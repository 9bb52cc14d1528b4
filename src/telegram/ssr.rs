//! Server-only Telegram sign-in: what a verified identity does to the database. Every
//! route (the widget's redirect, its JavaScript callback, the API) ends here, so they all
//! upsert, open the session and log the event the same way, in one transaction.

use super::verify::{TelegramIdentity, Verified, VerifyError};
use crate::auth::ssr::{insert_event, open_session_row, NewEvent, OpenedSession};
use crate::config::{Config, Secret};
use crate::error::AppError;
use crate::model::{Platform, Role};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Which of Telegram's hand-overs carried the identity; kept in the LOGIN event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    WidgetRedirect,
    WidgetCallback,
    MiniApp,
    ApiWidget,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::WidgetRedirect => "telegram_widget_redirect",
            Method::WidgetCallback => "telegram_widget_callback",
            Method::MiniApp => "telegram_mini_app",
            Method::ApiWidget => "telegram_widget_api",
        }
    }

    /// Mini App initData is exempt from replay protection: Telegram hands the same string
    /// to every reload of the app.
    fn single_use(self) -> bool {
        self != Method::MiniApp
    }
}

/// The configured bot token, or a clear answer that Telegram sign-in is off.
pub fn bot_token(config: &Config) -> Result<&Secret, AppError> {
    config.telegram_bot_token.as_ref().ok_or_else(|| {
        AppError::NotConfigured(
            "Telegram sign-in is not configured on this portal (TELEGRAM_BOT_TOKEN is unset)"
                .into(),
        )
        .noted()
    })
}

/// Maps a verification failure to the answer the client gets, and logs one line without
/// the payload.
pub fn refused(e: VerifyError) -> AppError {
    tracing::warn!(reason = %e, "telegram sign-in refused");
    if e.is_malformed() {
        AppError::bad(e.to_string())
    } else {
        AppError::Rejected(e.to_string()).noted()
    }
}

pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// Telegram serves profile photos from t.me and from numbered telesco.pe hosts; anything
/// else (another scheme, another host) is not stored, so a page never loads it.
pub fn photo_url_ok(raw: &str) -> bool {
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    if url.scheme() != "https" || url.port().is_some() || !url.username().is_empty() {
        return false;
    }
    match url.host_str() {
        Some(h) => h == "t.me" || h == "telesco.pe" || h.ends_with(".telesco.pe"),
        None => false,
    }
}

/// The portal's languages; Telegram may send any IETF tag.
pub fn language_of(code: Option<&str>) -> &'static str {
    match code.map(|c| {
        c.split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    }) {
        Some(c) if c == "ru" => "ru",
        Some(c) if c == "en" => "en",
        _ => "uz",
    }
}

/// A name as the portal keeps one: Telegram signs what its user typed, control characters
/// and all, but the edit form refuses control characters and more than
/// [`MAX_NAME`](crate::users::manage_ssr::MAX_NAME) characters, and a stored name it refuses
/// would block every later edit of that user. Control characters become spaces; the rest
/// is cut at the limit.
fn kept_name(v: &Option<String>) -> Option<String> {
    let cleaned: String = v
        .as_deref()?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let kept: String = cleaned
        .trim()
        .chars()
        .take(crate::users::manage_ssr::MAX_NAME)
        .collect();
    let kept = kept.trim_end();
    (!kept.is_empty()).then(|| kept.to_string())
}

#[cfg(test)]
#[test]
fn names_from_telegram_fit_the_edit_form() {
    assert_eq!(
        kept_name(&Some("a\u{1b}[31mb\nc ".into())).as_deref(),
        Some("a [31mb c")
    );
    assert_eq!(kept_name(&Some(" \n ".into())), None);
    assert_eq!(kept_name(&None), None);
    let long = kept_name(&Some("щ".repeat(5000))).unwrap();
    assert_eq!(long.chars().count(), crate::users::manage_ssr::MAX_NAME);
}

#[derive(Debug, Clone)]
pub struct TelegramUser {
    pub id: String,
    pub role: Role,
    pub is_new: bool,
    pub blocked: bool,
}

/// Finds the user by Telegram id or creates one. A returning user gets the current
/// username and photo (a removed one becomes NULL) and names only where theirs are empty;
/// a user is never found by username.
pub async fn upsert_user(
    conn: &mut PgConnection,
    who: &TelegramIdentity,
) -> Result<TelegramUser, AppError> {
    let photo = who.photo_url.as_deref().filter(|p| photo_url_ok(p));
    let row = sqlx::query!(
        r#"INSERT INTO "User" ("id", "telegramId", "firstName", "lastName", "telegramUsername",
                               "telegramPhotoUrl", "registrationSource", "language", "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $6, 'TELEGRAM', $7, now() AT TIME ZONE 'UTC')
           ON CONFLICT ("telegramId") DO UPDATE SET
               "telegramUsername" = EXCLUDED."telegramUsername",
               "telegramPhotoUrl" = EXCLUDED."telegramPhotoUrl",
               "firstName" = COALESCE(NULLIF("User"."firstName", ''), EXCLUDED."firstName"),
               "lastName" = COALESCE(NULLIF("User"."lastName", ''), EXCLUDED."lastName"),
               "updatedAt" = EXCLUDED."updatedAt"
           RETURNING "id", "role" AS "role: Role", (xmax = 0) AS "is_new!",
                     "blockedAt" IS NOT NULL AS "blocked!""#,
        uuid::Uuid::new_v4().to_string(),
        who.id,
        kept_name(&who.first_name),
        kept_name(&who.last_name),
        kept_name(&who.username),
        photo,
        language_of(who.language_code.as_deref()),
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(TelegramUser {
        id: row.id,
        role: row.role,
        is_new: row.is_new,
        blocked: row.blocked,
    })
}

/// Marks single-use widget data as used. `Ok(None)` when it was fresh; `Ok(Some(user))`
/// names whom an earlier use signed in.
pub async fn claim_payload(
    conn: &mut PgConnection,
    config: &Config,
    verified: &Verified,
    user_id: &str,
) -> Result<Option<String>, AppError> {
    let digest = hex::encode(verified.payload_digest);
    // Kept until the data itself is too old to be accepted, plus the allowed clock skew.
    let expires = DateTime::<Utc>::from_timestamp(
        verified.identity.auth_date
            + config.telegram_auth_max_age_secs
            + super::verify::MAX_FUTURE_SKEW_SECS,
        0,
    )
    .unwrap_or_else(Utc::now)
    .naive_utc();
    let inserted = sqlx::query!(
        r#"INSERT INTO "TelegramLoginReplay" ("digest", "userId", "expiresAt") VALUES ($1, $2, $3)
           ON CONFLICT ("digest") DO NOTHING"#,
        digest,
        user_id,
        expires
    )
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(None);
    }
    let first = sqlx::query_scalar!(
        r#"SELECT "userId" FROM "TelegramLoginReplay" WHERE "digest" = $1"#,
        digest
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(first))
}

pub const ALREADY_USED: &str = "this sign-in link was already used, sign in again";

#[derive(Debug)]
pub enum SignInOutcome {
    SignedIn {
        user: TelegramUser,
        session: OpenedSession,
    },
    /// Widget data used before; the id is whom it signed in.
    Replayed(String),
}

/// The whole sign-in: upsert, replay claim, session row and LOGIN event commit together,
/// or nothing is written.
#[allow(clippy::too_many_arguments)]
pub async fn sign_in(
    pool: &sqlx::PgPool,
    config: &Config,
    verified: &Verified,
    method: Method,
    platform: Platform,
    secret: String,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<SignInOutcome, AppError> {
    let mut tx = crate::db::begin_hot_write(pool).await?;
    let user = upsert_user(&mut tx, &verified.identity).await?;
    if user.blocked {
        // Rolled back: a blocked person's Telegram profile is not even refreshed.
        drop(tx);
        tracing::info!(user_id = %user.id, method = method.as_str(), "blocked user refused");
        return Err(AppError::Blocked.noted());
    }
    if method.single_use() {
        if let Some(first) = claim_payload(&mut tx, config, verified, &user.id).await? {
            drop(tx);
            tracing::warn!(method = method.as_str(), "telegram sign-in data replayed");
            return Ok(SignInOutcome::Replayed(first));
        }
    }
    let session = open_session_row(
        &mut tx,
        config,
        &user.id,
        platform,
        user_agent.as_deref(),
        secret,
    )
    .await?;
    insert_event(
        &mut *tx,
        &NewEvent {
            user_id: user.id.clone(),
            event_type: "LOGIN".into(),
            platform,
            metadata: serde_json::json!({
                "method": method.as_str(),
                "isNewUser": user.is_new,
                "sessionId": session.row_id,
            }),
            ip,
            user_agent,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, method = method.as_str(), is_new = user.is_new, "signed in with Telegram");
    Ok(SignInOutcome::SignedIn { user, session })
}

/// Attaches a verified Telegram identity to the signed-in person's own user. Refuses,
/// changing nothing, when the Telegram id belongs to someone else or the user already has
/// a different one.
pub async fn link(
    pool: &sqlx::PgPool,
    config: &Config,
    verified: &Verified,
    user_id: &str,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<(), AppError> {
    let who = &verified.identity;
    let mut tx = pool.begin().await?;
    let holder = sqlx::query_scalar!(r#"SELECT "id" FROM "User" WHERE "telegramId" = $1"#, who.id)
        .fetch_optional(&mut *tx)
        .await?;
    match holder {
        Some(h) if h == user_id => return Ok(()),
        Some(_) => {
            return Err(AppError::Conflict(
                "this Telegram account already belongs to another user; nothing was changed".into(),
            )
            .noted())
        }
        None => {}
    }
    if claim_payload(&mut tx, config, verified, user_id)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(ALREADY_USED.into()).noted());
    }
    let photo = who.photo_url.as_deref().filter(|p| photo_url_ok(p));
    let updated = sqlx::query!(
        r#"UPDATE "User" SET "telegramId" = $2, "telegramUsername" = $3, "telegramPhotoUrl" = $4,
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1 AND "telegramId" IS NULL"#,
        user_id,
        who.id,
        kept_name(&who.username),
        photo,
    )
    .execute(&mut *tx)
    .await;
    match updated {
        Ok(r) if r.rows_affected() == 1 => {}
        Ok(_) => {
            return Err(AppError::Conflict(
                "your account is already linked to another Telegram account; nothing was changed"
                    .into(),
            )
            .noted())
        }
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            return Err(AppError::Conflict(
                "this Telegram account already belongs to another user; nothing was changed".into(),
            )
            .noted())
        }
        Err(e) => return Err(e.into()),
    }
    insert_event(
        &mut *tx,
        &NewEvent {
            user_id: user_id.to_string(),
            event_type: "TELEGRAM_LINKED".into(),
            platform: Platform::Web,
            metadata: serde_json::json!({ "telegramId": who.id, "telegramUsername": who.username }),
            ip,
            user_agent,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id, "telegram account linked");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_hosts() {
        assert!(photo_url_ok("https://t.me/i/userpic/320/abc.jpg"));
        assert!(photo_url_ok("https://cdn4.telesco.pe/file/abc.jpg"));
        assert!(photo_url_ok("https://telesco.pe/x"));
        assert!(!photo_url_ok("http://t.me/i/userpic/320/abc.jpg"));
        assert!(!photo_url_ok("https://evil.example/t.me"));
        assert!(!photo_url_ok("https://t.me.evil.example/x"));
        assert!(!photo_url_ok("https://eviltelesco.pe/x"));
        assert!(!photo_url_ok("https://user@t.me/x"));
        assert!(!photo_url_ok("javascript:alert(1)"));
        assert!(!photo_url_ok(""));
    }

    #[test]
    fn languages() {
        assert_eq!(language_of(Some("ru")), "ru");
        assert_eq!(language_of(Some("en-US")), "en");
        assert_eq!(language_of(Some("uz")), "uz");
        assert_eq!(language_of(Some("de")), "uz");
        assert_eq!(language_of(None), "uz");
    }
}
