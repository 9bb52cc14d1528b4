//! Server-only parts of the password change.

use super::PasswordInfo;
use crate::auth::handlers::backoff_secs;
use crate::auth::ssr::{
    client_ip, hash_password, insert_event, landing_for, token_digest, user_agent, verify_password,
    NewEvent, MIN_PASSWORD_LEN,
};
use crate::auth::CurrentUser;
use crate::config::Secret;
use crate::error::AppError;
use crate::forms::Done;
use crate::model::{Platform, Role};
use crate::state::AppState;

/// Long enough for any passphrase, short enough that hashing it costs nothing unusual.
pub const MAX_PASSWORD_LEN: usize = 256;

pub struct Change {
    pub current: Secret,
    pub new: Secret,
    pub confirm: Secret,
}

pub async fn info(state: &AppState, me: &CurrentUser) -> Result<PasswordInfo, AppError> {
    let u = sqlx::query!(
        r#"SELECT "passwordHash" IS NOT NULL AS "has_password!", "passwordChangeRequired" AS pending
           FROM "User" WHERE "id" = $1"#,
        me.id
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    Ok(PasswordInfo {
        has_password: u.has_password,
        pending: u.pending,
        min_len: MIN_PASSWORD_LEN,
        max_len: MAX_PASSWORD_LEN,
    })
}

/// Checks a password someone chose (not its strength beyond length: the length is what
/// matters against guessing, and rules about symbols only make people write them down).
pub fn check_new_password(field: &str, p: &str) -> Result<(), AppError> {
    let n = p.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(AppError::bad(format!(
            "{field}: must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(AppError::bad(format!(
            "{field}: must be at most {MAX_PASSWORD_LEN} characters"
        )));
    }
    if p.trim().is_empty() {
        return Err(AppError::bad(format!("{field}: must not be only spaces")));
    }
    Ok(())
}

// Failed checks of the current password count in "LoginAttempt" like failed sign-ins, under
// a key of their own per person: a stolen session must not become a way to guess the
// password at full speed, and the sign-in form's counters stay the sign-in form's.
fn attempt_key(user_id: &str) -> String {
    token_digest(&format!("password-change|{user_id}"))
}

pub async fn change(state: &AppState, me: &CurrentUser, c: Change) -> Result<Done, AppError> {
    if c.current.expose().is_empty() {
        return Err(AppError::bad(
            "current_password: enter your current password",
        ));
    }
    if c.current.expose().chars().count() > MAX_PASSWORD_LEN {
        return Err(AppError::bad("current_password: wrong password"));
    }
    check_new_password("new_password", c.new.expose())?;
    if c.confirm.expose() != c.new.expose() {
        return Err(AppError::bad(
            "confirm: does not match the new password; type it again",
        ));
    }
    let key = attempt_key(&me.id);
    let locked = sqlx::query_scalar!(
        r#"SELECT GREATEST(0, CEIL(EXTRACT(EPOCH FROM ("lockedUntil" - (now() AT TIME ZONE 'UTC')))))::BIGINT AS "secs!"
           FROM "LoginAttempt" WHERE "key" = $1 AND "lockedUntil" > (now() AT TIME ZONE 'UTC')"#,
        key
    )
    .fetch_optional(&state.pool)
    .await?;
    if let Some(secs) = locked {
        return Err(AppError::TooManyRequests(secs.max(1) as u64).noted());
    }
    let user = sqlx::query!(
        r#"SELECT "role" AS "role: Role", "passwordHash" AS password_hash FROM "User" WHERE "id" = $1"#,
        me.id
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    let Some(old_hash) = user.password_hash else {
        return Err(AppError::Conflict(
            "this account signs in with Telegram and has no password to change".into(),
        )
        .noted());
    };
    let (ip, ua) = client();
    if !verify_password(Secret::new(c.current.expose()), Some(old_hash.clone())).await {
        let mut tx = state.pool.begin().await?;
        let failures = sqlx::query_scalar!(
            r#"INSERT INTO "LoginAttempt" ("key", "failures", "updatedAt") VALUES ($1, 1, now() AT TIME ZONE 'UTC')
               ON CONFLICT ("key") DO UPDATE SET "failures" = "LoginAttempt"."failures" + 1, "updatedAt" = EXCLUDED."updatedAt"
               RETURNING "failures""#,
            key
        )
        .fetch_one(&mut *tx)
        .await?;
        let wait = backoff_secs(failures);
        if wait > 0 {
            sqlx::query!(
                r#"UPDATE "LoginAttempt" SET "lockedUntil" = (now() AT TIME ZONE 'UTC') + make_interval(secs => $2) WHERE "key" = $1"#,
                key,
                wait as f64
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::info!(user_id = %me.id, failures, "password change refused: wrong current password");
        return Err(AppError::bad("current_password: wrong password"));
    }
    if c.new.expose() == c.current.expose() {
        return Err(AppError::bad(
            "new_password: must differ from the current password",
        ));
    }
    let new_hash = hash_password(Secret::new(c.new.expose())).await?;

    let mut tx = state.pool.begin().await?;
    // Only if the hash is still the one just verified: a change made meanwhile (another
    // tab, a SUPER_ADMIN) wins, and this one is refused rather than silently undoing it.
    let updated = sqlx::query!(
        r#"UPDATE "User" SET "passwordHash" = $3, "passwordChangeRequired" = false,
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1 AND "passwordHash" = $2"#,
        me.id,
        old_hash,
        new_hash
    )
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::Conflict(
            "current_password: your password was changed meanwhile; sign in again".into(),
        )
        .noted());
    }
    let ended = sqlx::query!(
        r#"DELETE FROM "Session" WHERE "userId" = $1 AND "id" <> $2"#,
        me.id,
        me.session_id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    insert_event(
        &mut *tx,
        &NewEvent {
            user_id: me.id.clone(),
            event_type: "PASSWORD_CHANGED".into(),
            platform: Platform::Web,
            metadata: serde_json::json!({
                "otherSessionsEnded": ended,
                "wasOneTime": me.must_change_password,
            }),
            ip,
            user_agent: ua,
        },
    )
    .await?;
    sqlx::query!(r#"DELETE FROM "LoginAttempt" WHERE "key" = $1"#, key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(user_id = %me.id, other_sessions_ended = ended, "password changed");
    let msg = match ended {
        0 => "Password changed.".to_string(),
        1 => "Password changed; your other session was signed out.".to_string(),
        n => format!("Password changed; your {n} other sessions were signed out."),
    };
    Ok(Done::new(msg).then_go(landing_for(user.role)))
}

/// The caller's address and user agent, as the sign-in form records them.
fn client() -> (Option<String>, Option<String>) {
    let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
        return (None, None);
    };
    let Ok(state) = AppState::get() else {
        return (None, None);
    };
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    (
        client_ip(&state.config, peer, &parts.headers).map(|i| i.to_string()),
        user_agent(&parts.headers),
    )
}
