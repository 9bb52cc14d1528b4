//! Queries and staff actions behind one user's page.

use super::detail::{TimelineEvent, TimelineQuery, UserDetail};
use super::ssr::{cursor_param, date_param, day_start_utc, portal_secret};
use crate::auth::ssr::{insert_event, sign_value, NewEvent};
use crate::auth::{display_name, CurrentUser};
use crate::error::AppError;
use crate::model::{Platform, Region, Role};
use crate::state::AppState;
use crate::time_fmt::local;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

const PAGE: i64 = 50;

#[derive(Debug, Serialize, Deserialize)]
struct EventCursor {
    u: String,
    t: NaiveDateTime,
    id: String,
}

/// ADMIN manages people whose role is USER or SUPPORT; SUPER_ADMIN manages anyone
/// (CONTRACT §2).
pub fn may_manage(actor: Role, target: Role) -> bool {
    actor == Role::SuperAdmin || (actor == Role::Admin && target <= Role::Support)
}

/// The roles `actor` may give someone whose role is `target`.
pub fn role_choices(actor: Role, target: Role) -> Vec<Role> {
    match actor {
        Role::SuperAdmin => Role::ALL.to_vec(),
        Role::Admin if target <= Role::Support => vec![Role::User, Role::Support],
        _ => vec![],
    }
}

/// How deep the timeline draws metadata as a tree; anything deeper is shown as its JSON text.
/// The page carries the value to the browser too, whose serde_json stops at 128 levels.
const META_DEPTH: usize = 16;

fn shallow(v: serde_json::Value, depth: usize) -> serde_json::Value {
    use serde_json::Value;
    let inner = depth.saturating_sub(1);
    match v {
        Value::Object(m) if depth == 0 && !m.is_empty() => {
            Value::String(Value::Object(m).to_string())
        }
        Value::Array(a) if depth == 0 && !a.is_empty() => {
            Value::String(Value::Array(a).to_string())
        }
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k, shallow(v, inner))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|v| shallow(v, inner)).collect()),
        other => other,
    }
}

// One row of "EventLog", column by column, as the page shows it.
#[allow(clippy::too_many_arguments)]
fn event(
    tz: Tz,
    id: String,
    event_type: String,
    platform: Platform,
    created_at: NaiveDateTime,
    ip: Option<String>,
    user_agent: Option<String>,
    metadata: Option<String>,
) -> TimelineEvent {
    let local_t = created_at.and_utc().with_timezone(&tz);
    TimelineEvent {
        id,
        event_type,
        platform,
        day: local_t.format("%Y-%m-%d (%A)").to_string(),
        time: local_t.format("%H:%M:%S %:z").to_string(),
        ip,
        user_agent,
        metadata: crate::events::ssr::parse_metadata(metadata).map(|m| shallow(m, META_DEPTH)),
        actor: None,
        actor_id: None,
    }
}

pub async fn load(
    state: &AppState,
    me: &CurrentUser,
    id: &str,
    q: &TimelineQuery,
) -> Result<UserDetail, AppError> {
    let tz = state.config.timezone;
    if id.is_empty() || id.len() > 200 || id.contains(char::is_control) {
        return Err(AppError::not_found("user"));
    }
    // Parameters are checked before anything is read, so a bad one is a 400 naming it.
    let platform = q
        .platform
        .as_deref()
        .map(str::parse::<Platform>)
        .transpose()
        .map_err(|e| AppError::bad(format!("platform: {e}")))?;
    if let Some(t) = &q.event_type {
        if t.len() > 64 {
            return Err(AppError::bad("type: at most 64 characters"));
        }
    }
    let date = date_param("date", &q.date)?;
    let secret = portal_secret(state)?;
    // Both directions hold the same kind of cursor, signed for this user's timeline.
    let cursor = |name, raw: &Option<String>| {
        cursor_param::<EventCursor>(
            secret,
            "timeline",
            name,
            raw.as_deref(),
            |c| c.u == id,
            "start from the newest",
        )
    };
    let before = cursor("before", &q.before)?;
    let after = cursor("after", &q.after)?;
    if after.is_some() && (before.is_some() || q.at.is_some() || date.is_some()) {
        return Err(AppError::bad(
            "after: pages towards newer events on its own, without before, at or date",
        ));
    }
    // Towards newer events the page is read oldest first, then turned round.
    let newer_first = after.is_none();

    let user = async {
        sqlx::query!(
            r#"SELECT "id", "firstName" AS first_name, "lastName" AS last_name, "phone", "role" AS "role: Role",
                      "telegramId" AS telegram_id, "telegramUsername" AS telegram_username,
                      "telegramPhotoUrl" AS telegram_photo_url,
                      "registrationSource" AS "source: Platform", "region" AS "region: Region", "language",
                      "createdAt" AS created_at, "updatedAt" AS updated_at,
                      "blockedAt" AS blocked_at, "blockedReason" AS blocked_reason, "erasedAt" AS erased_at
               FROM "User" WHERE "id" = $1"#,
            id
        )
        .fetch_optional(&state.pool)
        .await
        .map_err(AppError::from)
    };

    // An `at` this user has no event of is a 400, but only once the user is known to
    // exist (else 404): the lookup reports it as Some(None) rather than failing.
    let timeline_rows = async {
        let at = match &q.at {
            None => None,
            Some(at) => Some(
                sqlx::query!(
                    r#"SELECT "createdAt" AS created_at, "id" FROM "EventLog" WHERE "id" = $1 AND "userId" = $2"#,
                    at,
                    id
                )
                .fetch_optional(&state.pool)
                .await?,
            ),
        };
        let at = match at {
            Some(None) => return Ok::<_, AppError>(None),
            found => found.flatten(),
        };
        let day_end = date.map(|d| day_start_utc(tz, d + chrono::Duration::days(1)));

        let rows = sqlx::query!(
            r#"SELECT "id", "eventType" AS event_type, "platform" AS "platform: Platform", "createdAt" AS created_at,
                      "ipAddress" AS ip, "userAgent" AS user_agent, "metadata"::text AS metadata
               FROM "EventLog"
               WHERE "userId" = $1
                 AND ($2::text IS NULL OR "eventType" = $2)
                 AND ($3::"RegistrationSource" IS NULL OR "platform" = $3)
                 AND ($5::text IS NULL OR ("createdAt", "id") < ($4::timestamp, $5))
                 AND ($7::text IS NULL OR ("createdAt", "id") <= ($6::timestamp, $7))
                 AND ($8::timestamp IS NULL OR "createdAt" < $8)
                 AND ($11::text IS NULL OR ("createdAt", "id") > ($10::timestamp, $11))
               ORDER BY CASE WHEN $12 THEN "createdAt" END DESC, CASE WHEN $12 THEN "id" END DESC,
                        CASE WHEN NOT $12 THEN "createdAt" END ASC, CASE WHEN NOT $12 THEN "id" END ASC
               LIMIT $9"#,
            id,
            q.event_type,
            platform as Option<Platform>,
            before.as_ref().map(|c| c.t),
            before.as_ref().map(|c| c.id.clone()),
            at.as_ref().map(|a| a.created_at),
            at.as_ref().map(|a| a.id.clone()),
            day_end,
            PAGE + 1,
            after.as_ref().map(|c| c.t),
            after.as_ref().map(|c| c.id.clone()),
            newer_first,
        )
        .fetch_all(&state.pool)
        .await?;
        Ok(Some((at, rows)))
    };

    let staff_actions = async {
        Ok::<_, AppError>(sqlx::query!(
            r#"SELECT e."id", e."eventType" AS event_type, e."platform" AS "platform: Platform",
                      e."createdAt" AS created_at, e."ipAddress" AS ip, e."userAgent" AS user_agent, e."metadata"::text AS metadata,
                      e."userId" AS actor_id, a."firstName" AS actor_first, a."lastName" AS actor_last,
                      a."phone" AS actor_phone, a."telegramUsername" AS actor_tg
               FROM "EventLog" e JOIN "User" a ON a."id" = e."userId"
               WHERE e."metadata" ? 'targetUserId' AND e."metadata" ->> 'targetUserId' = $1 AND e."userId" <> $1
                 AND (starts_with(e."eventType", 'ADMIN_') OR e."eventType" = 'SESSION_REVOKED')
               ORDER BY e."createdAt" DESC, e."id" DESC LIMIT 50"#,
            id
        )
        .fetch_all(&state.pool)
        .await?
        .into_iter()
        .map(|r| {
            let mut e = event(
                tz,
                r.id,
                r.event_type,
                r.platform,
                r.created_at,
                r.ip,
                r.user_agent,
                r.metadata,
            );
            e.actor = Some(display_name(
                r.actor_first.as_deref(),
                r.actor_last.as_deref(),
                r.actor_phone.as_deref(),
                r.actor_tg.as_deref(),
            ));
            e.actor_id = Some(r.actor_id);
            e
        })
    .collect::<Vec<_>>())
    };

    let sessions = crate::account::ssr::live_sessions(state, id, &me.session_id);

    let (u, timeline_rows, staff_actions, sessions) =
        tokio::try_join!(user, timeline_rows, staff_actions, sessions)?;
    let u = u.ok_or_else(|| AppError::not_found("user"))?;
    let (at, mut rows) =
        timeline_rows.ok_or_else(|| AppError::bad("at: this user has no such event"))?;

    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    if !newer_first {
        rows.reverse();
    }
    let cursor = |t: NaiveDateTime, event_id: &str| {
        sign_value(
            secret,
            "timeline",
            &EventCursor {
                u: id.to_string(),
                t,
                id: event_id.to_string(),
            },
        )
    };
    // Paging newer, the page came from an older one; else older ones exist when the page
    // overflowed.
    let older = if more || !newer_first {
        rows.last().map(|r| cursor(r.created_at, &r.id))
    } else {
        None
    };
    let newer = match rows.first() {
        Some(first) if !newer_first && more => Some(cursor(first.created_at, &first.id)),
        // A page opened lower down (older, a date, an event) has newer events above it
        // unless it is the top: one probe of the index says which.
        Some(first) if newer_first && (before.is_some() || at.is_some() || date.is_some()) => {
            let above = sqlx::query_scalar!(
                r#"SELECT EXISTS (
                       SELECT 1 FROM "EventLog"
                       WHERE "userId" = $1
                         AND ($2::text IS NULL OR "eventType" = $2)
                         AND ($3::"RegistrationSource" IS NULL OR "platform" = $3)
                         AND ("createdAt", "id") > ($4::timestamp, $5)) AS "above!""#,
                id,
                q.event_type,
                platform as Option<Platform>,
                first.created_at,
                first.id,
            )
            .fetch_one(&state.pool)
            .await?;
            above.then(|| cursor(first.created_at, &first.id))
        }
        _ => None,
    };
    let timeline = rows
        .into_iter()
        .map(|r| {
            event(
                tz,
                r.id,
                r.event_type,
                r.platform,
                r.created_at,
                r.ip,
                r.user_agent,
                r.metadata,
            )
        })
        .collect();

    Ok(UserDetail {
        name: display_name(
            u.first_name.as_deref(),
            u.last_name.as_deref(),
            u.phone.as_deref(),
            u.telegram_username.as_deref(),
        ),
        can_manage: may_manage(me.role, u.role),
        role_choices: role_choices(me.role, u.role),
        id: u.id,
        first_name: u.first_name,
        last_name: u.last_name,
        phone: u.phone,
        role: u.role,
        telegram_id: u.telegram_id,
        telegram_username: u.telegram_username,
        telegram_photo_url: u.telegram_photo_url,
        source: u.source,
        region: u.region,
        language: u.language,
        created: local(tz, u.created_at),
        updated: local(tz, u.updated_at),
        blocked: u.blocked_at.map(|t| local(tz, t)),
        blocked_reason: u.blocked_reason,
        erased: u.erased_at.map(|t| local(tz, t)),
        sessions,
        staff_actions,
        timeline,
        older,
        newer,
        highlight: at.map(|a| a.id),
    })
}

pub async fn set_role(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    role: Role,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    // Every SUPER_ADMIN row is locked, so two demotions at once cannot both pass the
    // last-one check.
    let supers = sqlx::query_scalar!(
        r#"SELECT "id" FROM "User" WHERE "role" = 'SUPER_ADMIN' ORDER BY "id" FOR UPDATE"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let current = sqlx::query_scalar!(
        r#"SELECT "role" AS "role: Role" FROM "User" WHERE "id" = $1 FOR UPDATE"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    if !role_choices(me.role, current).contains(&role) {
        return Err(AppError::Forbidden.noted());
    }
    if current == role {
        return Ok(());
    }
    if current == Role::SuperAdmin && supers.len() <= 1 {
        return Err(AppError::Conflict(
            "the last SUPER_ADMIN keeps the role; make someone else SUPER_ADMIN first".into(),
        )
        .noted());
    }
    sqlx::query!(
        r#"UPDATE "User" SET "role" = $2, "updatedAt" = now() AT TIME ZONE 'UTC' WHERE "id" = $1"#,
        user_id,
        role as Role
    )
    .execute(&mut *tx)
    .await?;
    insert_event(
        &mut *tx,
        &NewEvent {
            user_id: me.id.clone(),
            event_type: "ADMIN_ROLE_CHANGE".into(),
            platform: Platform::Web,
            metadata: serde_json::json!({
                "targetUserId": user_id, "oldRole": current, "newRole": role,
            }),
            ip: None,
            user_agent: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, target = user_id, from = %current, to = %role, "role changed");
    Ok(())
}

/// The target of a staff action, locked for the rest of the caller's transaction, after
/// the permission matrix allowed `me` to manage them.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub role: Role,
    pub blocked: bool,
    pub erased: bool,
}

pub async fn lock_target(
    tx: &mut sqlx::PgConnection,
    me: &CurrentUser,
    user_id: &str,
) -> Result<Target, AppError> {
    let t = sqlx::query!(
        r#"SELECT "id", "role" AS "role: Role", "blockedAt" IS NOT NULL AS "blocked!",
                  "erasedAt" IS NOT NULL AS "erased!"
           FROM "User" WHERE "id" = $1 FOR UPDATE"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    if !may_manage(me.role, t.role) {
        return Err(AppError::Forbidden.noted());
    }
    Ok(Target {
        id: t.id,
        role: t.role,
        blocked: t.blocked,
        erased: t.erased,
    })
}

/// Logs a staff action as the actor's EventLog row naming the target (CONTRACT §2), in the
/// caller's transaction. `details` is an object; `targetUserId` is added to it.
pub async fn staff_action(
    tx: &mut sqlx::PgConnection,
    me: &CurrentUser,
    event_type: &str,
    target_id: &str,
    details: serde_json::Value,
) -> Result<(), AppError> {
    let mut metadata = match details {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => serde_json::Map::new(),
        other => {
            let mut m = serde_json::Map::new();
            m.insert("details".into(), other);
            m
        }
    };
    metadata.insert("targetUserId".into(), target_id.into());
    insert_event(
        &mut *tx,
        &NewEvent {
            user_id: me.id.clone(),
            event_type: event_type.to_string(),
            platform: Platform::Web,
            metadata: serde_json::Value::Object(metadata),
            ip: None,
            user_agent: None,
        },
    )
    .await?;
    Ok(())
}

pub async fn revoke_session(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    session_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.pool.begin().await?;
    let target = sqlx::query_scalar!(
        r#"SELECT "role" AS "role: Role" FROM "User" WHERE "id" = $1"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    if !may_manage(me.role, target) {
        return Err(AppError::Forbidden.noted());
    }
    crate::account::ssr::revoke_audited(&mut tx, &me.id, user_id, session_id, "staff").await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix() {
        assert!(may_manage(Role::Admin, Role::User));
        assert!(may_manage(Role::Admin, Role::Support));
        assert!(!may_manage(Role::Admin, Role::Admin));
        assert!(!may_manage(Role::Support, Role::User));
        assert!(may_manage(Role::SuperAdmin, Role::SuperAdmin));
        assert_eq!(
            role_choices(Role::Admin, Role::User),
            vec![Role::User, Role::Support]
        );
        assert!(role_choices(Role::Admin, Role::Admin).is_empty());
        assert!(role_choices(Role::Support, Role::User).is_empty());
        assert_eq!(role_choices(Role::SuperAdmin, Role::User).len(), 4);
    }
}
