use super::{EventQuery, EventsPage, ExplorerRow};
use crate::account::EventRow;
use crate::auth::display_name;
use crate::auth::ssr::sign_value;
use crate::error::AppError;
use crate::model::Platform;
use crate::state::AppState;
use crate::time_fmt::local;
use crate::users::ssr::{cursor_param, date_param, day_start_utc, portal_secret};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// Metadata read as text (`"metadata"::text`) and parsed here. Decoded by sqlx, a JSONB value
/// nested more than 128 levels (serde_json's limit) failed its query, and so the whole page:
/// other services write "EventLog", and one such row made a user's page a 500. Here such a
/// value stays its text; JSON `null` is no metadata.
pub fn parse_metadata(text: Option<String>) -> Option<serde_json::Value> {
    let text = text?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Null) => None,
        Ok(v) => Some(v),
        Err(_) => Some(serde_json::Value::String(text)),
    }
}

fn meta_text(text: Option<String>) -> Option<String> {
    let text = text?;
    // serde_json writes non-ASCII as itself, so Cyrillic stays readable.
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Null) => None,
        Ok(v) => Some(v.to_string()),
        Err(_) => Some(text),
    }
}

pub async fn recent_for_user(
    state: &AppState,
    user_id: &str,
    limit: i64,
) -> Result<Vec<EventRow>, AppError> {
    let tz = state.config.timezone;
    let rows = sqlx::query!(
        r#"SELECT "id", "eventType" AS event_type, "platform" AS "platform: Platform", "createdAt" AS created_at,
                  "ipAddress" AS ip, "metadata"::text AS metadata
           FROM "EventLog" WHERE "userId" = $1
           ORDER BY "createdAt" DESC, "id" DESC LIMIT $2"#,
        user_id,
        limit
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EventRow {
            id: r.id,
            event_type: r.event_type,
            platform: r.platform,
            at: local(tz, r.created_at),
            ip: r.ip,
            metadata: meta_text(r.metadata),
        })
        .collect())
}

pub const PAGE: i64 = 50;

/// The explorer's position: the last row's sort key, signed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    pub t: NaiveDateTime,
    pub id: String,
}

pub struct Filters {
    pub event_type: Option<String>,
    pub platform: Option<Platform>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub user: Option<String>,
    pub before: Option<Cursor>,
}

/// A YYYY-MM-DD parameter within years PostgreSQL and chrono both hold.
pub(crate) fn day(name: &str, v: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    let d = date_param(name, v)?;
    if let Some(d) = d {
        if !(1900..=9999).contains(&d.year()) {
            return Err(AppError::bad(format!(
                "{name}: {d} is outside the years 1900 to 9999"
            )));
        }
    }
    Ok(d)
}

/// A free-text parameter: trimmed, empty means absent, bounded, no control characters.
pub(crate) fn text_param(
    name: &str,
    v: &Option<String>,
    max: usize,
) -> Result<Option<String>, AppError> {
    match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(t) if t.chars().count() > max => {
            Err(AppError::bad(format!("{name}: at most {max} characters")))
        }
        Some(t) if t.contains(char::is_control) => Err(AppError::bad(format!(
            "{name}: control characters are not allowed"
        ))),
        Some(t) => Ok(Some(t.to_string())),
    }
}

pub fn parse(state: &AppState, q: &EventQuery) -> Result<Filters, AppError> {
    let tz = state.config.timezone;
    let event_type = text_param("type", &q.event_type, 64)?;
    let platform = q
        .platform
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::parse::<Platform>)
        .transpose()
        .map_err(|e| AppError::bad(format!("platform: {e}")))?;
    let from = day("from", &q.from)?;
    let to = day("to", &q.to)?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(AppError::bad("from, to: the range ends before it starts"));
        }
    }
    let user = text_param("user", &q.user, 200)?;
    let before = cursor_param::<Cursor>(
        portal_secret(state)?,
        "events",
        "before",
        q.before.as_deref(),
        |_| true,
        "start from the newest",
    )?;
    Ok(Filters {
        event_type,
        platform,
        from: from.map(|d| day_start_utc(tz, d)),
        to: to.map(|d| day_start_utc(tz, d + chrono::Duration::days(1))),
        user,
        before,
    })
}

pub async fn list(state: &AppState, q: &EventQuery) -> Result<EventsPage, AppError> {
    let f = parse(state, q)?;
    let tz = state.config.timezone;
    let secret = portal_secret(state)?;
    // `user` is a user id, or else a Telegram id.
    let mut user = None;
    if let Some(u) = &f.user {
        let telegram_id = u.parse::<i64>().ok();
        let found = sqlx::query!(
            r#"SELECT "id", "firstName" AS first_name, "lastName" AS last_name, "phone",
                      "telegramUsername" AS telegram_username
               FROM "User" WHERE "id" = $1 OR "telegramId" = $2
               ORDER BY ("id" = $1) DESC LIMIT 1"#,
            u,
            telegram_id
        )
        .fetch_optional(&state.pool)
        .await?;
        match found {
            None => {
                return Ok(EventsPage {
                    rows: vec![],
                    next: None,
                    user: None,
                    user_missing: true,
                })
            }
            Some(r) => {
                let name = display_name(
                    r.first_name.as_deref(),
                    r.last_name.as_deref(),
                    r.phone.as_deref(),
                    r.telegram_username.as_deref(),
                );
                user = Some((r.id, name));
            }
        }
    }
    let cur = f.before.as_ref();
    let mut rows = sqlx::query!(
        r#"SELECT e."id", e."userId" AS user_id, e."eventType" AS event_type,
                  e."platform" AS "platform: Platform", e."createdAt" AS created_at,
                  e."ipAddress" AS ip, e."metadata"::text AS metadata,
                  u."firstName" AS "first_name?", u."lastName" AS "last_name?",
                  u."phone" AS "phone?", u."telegramUsername" AS "telegram_username?"
           FROM (
               SELECT "id", "userId", "eventType", "platform", "createdAt", "ipAddress", "metadata"
               FROM "EventLog"
               WHERE ($1::text IS NULL OR "eventType" = $1)
                 AND ($2::"RegistrationSource" IS NULL OR "platform" = $2)
                 AND ($3::timestamp IS NULL OR "createdAt" >= $3)
                 AND ($4::timestamp IS NULL OR "createdAt" < $4)
                 AND ($5::text IS NULL OR "userId" = $5)
                 AND ($6::timestamp IS NULL OR ("createdAt", "id") < ($6, $7::text))
               ORDER BY "createdAt" DESC, "id" DESC
               LIMIT $8
           ) e
           LEFT JOIN "User" u ON u."id" = e."userId"
           ORDER BY e."createdAt" DESC, e."id" DESC"#,
        f.event_type,
        f.platform as Option<Platform>,
        f.from,
        f.to,
        user.as_ref().map(|(id, _)| id.clone()),
        cur.map(|c| c.t),
        cur.map(|c| c.id.clone()),
        PAGE + 1,
    )
    .fetch_all(&state.pool)
    .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next = if more {
        rows.last().map(|r| {
            sign_value(
                secret,
                "events",
                &Cursor {
                    t: r.created_at,
                    id: r.id.clone(),
                },
            )
        })
    } else {
        None
    };
    Ok(EventsPage {
        rows: rows
            .into_iter()
            .map(|r| ExplorerRow {
                user_name: display_name(
                    r.first_name.as_deref(),
                    r.last_name.as_deref(),
                    r.phone.as_deref(),
                    r.telegram_username.as_deref(),
                ),
                id: r.id,
                user_id: r.user_id,
                event_type: r.event_type,
                platform: r.platform,
                at: local(tz, r.created_at),
                ip: r.ip,
                metadata: meta_text(r.metadata),
            })
            .collect(),
        next,
        user,
        user_missing: false,
    })
}
