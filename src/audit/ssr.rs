//! Server-only parts of the audit log.

use super::{AuditPage, AuditQuery, AuditRow, Person};
use crate::auth::display_name;
use crate::auth::ssr::sign_value;
use crate::error::AppError;
use crate::state::AppState;
use crate::time_fmt::local;
// The log pages like the events explorer: the same cursor shape and parameter rules.
use crate::events::ssr::{day, text_param, Cursor};
use crate::users::ssr::{cursor_param, day_start_utc, portal_secret};
use chrono::NaiveDateTime;

pub const PAGE: i64 = 50;
/// The type filter offers the types among this many newest staff actions.
const TYPES_WINDOW: i64 = 5_000;

pub struct Filters {
    pub actor: Option<String>,
    pub target: Option<String>,
    pub event_type: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub before: Option<Cursor>,
}

pub fn parse(state: &AppState, q: &AuditQuery) -> Result<Filters, AppError> {
    let tz = state.config.timezone;
    let actor = text_param("actor", &q.actor, 200)?;
    let target = text_param("target", &q.target, 200)?;
    let event_type = text_param("type", &q.event_type, 64)?;
    let from = day("from", &q.from)?;
    let to = day("to", &q.to)?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(AppError::bad("from, to: the range ends before it starts"));
        }
    }
    let before = cursor_param::<Cursor>(
        portal_secret(state)?,
        "audit",
        "before",
        q.before.as_deref(),
        |_| true,
        "start from the newest",
    )?;
    Ok(Filters {
        actor,
        target,
        event_type,
        from: from.map(|d| day_start_utc(tz, d)),
        to: to.map(|d| day_start_utc(tz, d + chrono::Duration::days(1))),
        before,
    })
}

/// The metadata as the page shows it: the target has its own column, text stays text.
pub fn details(metadata: Option<serde_json::Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = match metadata {
        Some(serde_json::Value::Object(m)) => m
            .into_iter()
            .filter(|(k, _)| k != "targetUserId")
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect(),
        Some(serde_json::Value::Null) | None => vec![],
        Some(other) => vec![("details".into(), other.to_string())],
    };
    // The same order whether or not serde_json keeps insertion order.
    out.sort();
    out
}

fn person(
    id: String,
    exists: bool,
    erased: bool,
    first: Option<&str>,
    last: Option<&str>,
    phone: Option<&str>,
    tg: Option<&str>,
) -> Person {
    Person {
        name: (exists && !erased).then(|| display_name(first, last, phone, tg)),
        id,
    }
}

async fn named(state: &AppState, id: &Option<String>) -> Result<Option<Person>, AppError> {
    let Some(id) = id else { return Ok(None) };
    let r = sqlx::query!(
        r#"SELECT "firstName" AS first_name, "lastName" AS last_name, "phone",
                  "telegramUsername" AS telegram_username, "erasedAt" IS NOT NULL AS "erased!"
           FROM "User" WHERE "id" = $1"#,
        id
    )
    .fetch_optional(&state.pool)
    .await?;
    Ok(Some(match r {
        Some(r) => person(
            id.clone(),
            true,
            r.erased,
            r.first_name.as_deref(),
            r.last_name.as_deref(),
            r.phone.as_deref(),
            r.telegram_username.as_deref(),
        ),
        None => person(id.clone(), false, false, None, None, None, None),
    }))
}

pub async fn list(state: &AppState, q: &AuditQuery) -> Result<AuditPage, AppError> {
    let f = parse(state, q)?;
    let tz = state.config.timezone;
    let secret = portal_secret(state)?;
    let cur = f.before.as_ref();
    // The staff-action predicate is written exactly as in the partial index
    // "EventLog_staffActionType_createdAt_idx", so the planner can walk that index.
    let mut rows = sqlx::query!(
        r#"SELECT e."id", e."userId" AS actor_id, e."eventType" AS event_type,
                  e."createdAt" AS created_at, e."metadata"::text AS metadata, e."metadata" ->> 'targetUserId' AS target_id,
                  a."id" IS NOT NULL AS "actor_exists!", a."erasedAt" IS NOT NULL AS "actor_erased!",
                  a."firstName" AS "actor_first?", a."lastName" AS "actor_last?",
                  a."phone" AS "actor_phone?", a."telegramUsername" AS "actor_tg?",
                  t."id" IS NOT NULL AS "target_exists!", t."erasedAt" IS NOT NULL AS "target_erased!",
                  t."firstName" AS "target_first?", t."lastName" AS "target_last?",
                  t."phone" AS "target_phone?", t."telegramUsername" AS "target_tg?"
           FROM (
               SELECT "id", "userId", "eventType", "createdAt", "metadata"
               FROM "EventLog"
               WHERE (starts_with("eventType", 'ADMIN_') OR "eventType" = 'SESSION_REVOKED')
                 AND ($1::text IS NULL OR "userId" = $1)
                 AND ($2::text IS NULL OR "metadata" ->> 'targetUserId' = $2)
                 AND ($3::text IS NULL OR "eventType" = $3)
                 AND ($4::timestamp IS NULL OR "createdAt" >= $4)
                 AND ($5::timestamp IS NULL OR "createdAt" < $5)
                 AND ($6::timestamp IS NULL OR ("createdAt", "id") < ($6, $7::text))
               ORDER BY "createdAt" DESC, "id" DESC
               LIMIT $8
           ) e
           LEFT JOIN "User" a ON a."id" = e."userId"
           LEFT JOIN "User" t ON t."id" = e."metadata" ->> 'targetUserId'
           ORDER BY e."createdAt" DESC, e."id" DESC"#,
        f.actor,
        f.target,
        f.event_type,
        f.from,
        f.to,
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
                "audit",
                &Cursor {
                    t: r.created_at,
                    id: r.id.clone(),
                },
            )
        })
    } else {
        None
    };
    let types = sqlx::query_scalar!(
        r#"SELECT DISTINCT s.t AS "t!" FROM (
               SELECT "eventType" AS t FROM "EventLog"
               WHERE (starts_with("eventType", 'ADMIN_') OR "eventType" = 'SESSION_REVOKED')
               ORDER BY "createdAt" DESC, "id" DESC
               LIMIT $1
           ) s ORDER BY 1"#,
        TYPES_WINDOW
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(AuditPage {
        rows: rows
            .into_iter()
            .map(|r| AuditRow {
                at: local(tz, r.created_at),
                actor: person(
                    r.actor_id,
                    r.actor_exists,
                    r.actor_erased,
                    r.actor_first.as_deref(),
                    r.actor_last.as_deref(),
                    r.actor_phone.as_deref(),
                    r.actor_tg.as_deref(),
                ),
                target: r.target_id.map(|id| {
                    person(
                        id,
                        r.target_exists,
                        r.target_erased,
                        r.target_first.as_deref(),
                        r.target_last.as_deref(),
                        r.target_phone.as_deref(),
                        r.target_tg.as_deref(),
                    )
                }),
                id: r.id,
                event_type: r.event_type,
                details: details(crate::events::ssr::parse_metadata(r.metadata)),
            })
            .collect(),
        next,
        types,
        actor: named(state, &f.actor).await?,
        target: named(state, &f.target).await?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn details_leave_out_the_target_and_keep_text_as_text() {
        let d = super::details(Some(serde_json::json!({
            "targetUserId": "u1", "oldRole": "USER", "sessionsEnded": 2, "note": "<b>Ш</b>"
        })));
        assert_eq!(
            d,
            vec![
                ("note".to_string(), "<b>Ш</b>".to_string()),
                ("oldRole".to_string(), "USER".to_string()),
                ("sessionsEnded".to_string(), "2".to_string()),
            ]
        );
        assert!(super::details(None).is_empty());
    }
}
