use super::{Account, SessionRow};
use crate::auth::ssr::{insert_event, NewEvent};
use crate::auth::{display_name, CurrentUser};
use crate::error::AppError;
use crate::model::{Platform, Region, Role};
use crate::state::AppState;
use crate::time_fmt::local;

/// A person's sessions that have not expired, newest first; `current` marks the caller's own.
/// The account page and a user's page in the portal show the same list.
pub async fn live_sessions(
    state: &AppState,
    user_id: &str,
    current_session: &str,
) -> Result<Vec<SessionRow>, AppError> {
    let tz = state.config.timezone;
    Ok(sqlx::query!(
        r#"SELECT "id", "platform" AS "platform: Platform", "deviceInfo" AS device, "createdAt" AS created_at,
                  "expiresAt" AS expires_at
           FROM "Session" WHERE "userId" = $1 AND "expiresAt" > (now() AT TIME ZONE 'UTC')
           ORDER BY "createdAt" DESC"#,
        user_id
    )
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|s| SessionRow {
        current: s.id == current_session,
        id: s.id,
        platform: s.platform,
        device: s.device,
        created: local(tz, s.created_at),
        expires: local(tz, s.expires_at),
    })
    .collect())
}

pub async fn load(state: &AppState, me: &CurrentUser) -> Result<Account, AppError> {
    let tz = state.config.timezone;
    let u = sqlx::query!(
        r#"SELECT "id", "firstName" AS first_name, "lastName" AS last_name, "phone", "role" AS "role: Role",
                  "telegramId" AS telegram_id, "telegramUsername" AS telegram_username,
                  "registrationSource" AS "source: Platform", "region" AS "region: Region", "language",
                  "createdAt" AS created_at
           FROM "User" WHERE "id" = $1"#,
        me.id
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    let sessions = live_sessions(state, &me.id, &me.session_id).await?;
    let events = crate::events::ssr::recent_for_user(state, &me.id, 50).await?;
    Ok(Account {
        name: display_name(
            u.first_name.as_deref(),
            u.last_name.as_deref(),
            u.phone.as_deref(),
            u.telegram_username.as_deref(),
        ),
        id: u.id,
        first_name: u.first_name,
        last_name: u.last_name,
        phone: u.phone,
        role: u.role,
        telegram_id: u.telegram_id,
        telegram_username: u.telegram_username,
        source: u.source,
        region: u.region,
        language: u.language,
        created: local(tz, u.created_at),
        telegram_bot: state
            .config
            .telegram_bot_token
            .as_ref()
            .and(state.config.telegram_bot_username.clone()),
        sessions,
        events,
    })
}

pub async fn revoke_own(
    state: &AppState,
    me: &CurrentUser,
    session_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    revoke_audited(&mut tx, &me.id, &me.id, session_id, "self").await?;
    tx.commit().await?;
    Ok(())
}

/// Ends one session of `user_id` and logs SESSION_REVOKED as the actor's action, in the
/// caller's transaction (the person themself, `by` = "self", or a staff member, "staff").
pub async fn revoke_audited(
    tx: &mut sqlx::PgConnection,
    actor_id: &str,
    user_id: &str,
    session_id: &str,
    by: &str,
) -> Result<(), AppError> {
    let gone = sqlx::query!(
        r#"DELETE FROM "Session" WHERE "id" = $1 AND "userId" = $2 RETURNING "platform" AS "platform: Platform""#,
        session_id,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("session"))?;
    insert_event(
        &mut *tx,
        &NewEvent {
            user_id: actor_id.to_string(),
            event_type: "SESSION_REVOKED".into(),
            platform: Platform::Web,
            metadata: serde_json::json!({
                "sessionId": session_id,
                "sessionPlatform": gone.platform,
                "targetUserId": user_id,
                "by": by,
            }),
            ip: None,
            user_agent: None,
        },
    )
    .await?;
    Ok(())
}
