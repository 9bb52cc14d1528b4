//! `POST /api/v1/events`: batch ingestion for the other platforms, and
//! `GET /api/v1/openapi.json`.
//!
//! A batch is validated whole before anything is written: one bad item rejects the batch
//! with a 422 that lists every bad item. A valid batch is written by one INSERT … SELECT
//! FROM UNNEST statement, so it is all there or not at all, and `ON CONFLICT ("id") DO
//! NOTHING` makes a retried batch count its events as duplicates instead of writing them
//! twice. The 202 is sent only once that statement has committed.

use super::ssr::{authenticate, Caller};
use crate::error::AppError;
use crate::model::{is_reserved_event_type, Platform};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MAX_EVENTS: usize = 1000;
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
pub const MAX_EVENT_TYPE_CHARS: usize = 64;
pub const MAX_USER_AGENT_CHARS: usize = 1024;
pub const MAX_USER_ID_CHARS: usize = 191;
pub const MAX_FUTURE_SECS: i64 = 5 * 60;

const FIELDS: &[&str] = &[
    "id",
    "userId",
    "telegramId",
    "eventType",
    "metadata",
    "createdAt",
    "ipAddress",
    "userAgent",
];

/// One problem with one event of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemError {
    pub index: usize,
    pub field: String,
    pub message: String,
}

/// The answers of this route beyond [`AppError`]'s, in the same JSON envelope.
#[derive(Debug)]
pub enum IngestError {
    App(AppError),
    TooLarge,
    Invalid(Vec<ItemError>),
}

impl From<AppError> for IngestError {
    fn from(e: AppError) -> Self {
        IngestError::App(e)
    }
}

impl From<sqlx::Error> for IngestError {
    fn from(e: sqlx::Error) -> Self {
        IngestError::App(e.into())
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        match self {
            IngestError::App(e) => {
                let unauthorized = e.status() == StatusCode::UNAUTHORIZED;
                let mut res = e.into_response();
                if unauthorized {
                    res.headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                res
            }
            IngestError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(serde_json::json!({"error": {
                    "code": "payload_too_large",
                    "message": format!("body: at most {MAX_BODY_BYTES} bytes (1 MiB); send smaller batches"),
                }})),
            )
                .into_response(),
            IngestError::Invalid(items) => {
                let n = items.iter().map(|i| i.index).collect::<HashSet<_>>().len();
                let message = format!(
                    "{n} event{} of the batch {} invalid; nothing was written",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" },
                );
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(serde_json::json!({"error": {
                        "code": "invalid_events",
                        "message": message,
                        "items": items,
                    }})),
                )
                    .into_response()
            }
        }
    }
}

/// `POST /api/v1/events`.
pub async fn post_events(State(state): State<AppState>, req: Request) -> Response {
    match ingest(&state, req).await {
        Ok((accepted, duplicates)) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({"accepted": accepted, "duplicates": duplicates})),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn ingest(state: &AppState, req: Request) -> Result<(u64, u64), IngestError> {
    // Who is asking comes first: an anonymous caller learns nothing about the body rules.
    let caller = authenticate(&state.pool, req.headers()).await?;
    // The route's DefaultBodyLimit applies here.
    let body = match Bytes::from_request(req, state).await {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(IngestError::TooLarge),
        Err(r) => {
            return Err(AppError::BadRequest(format!(
                "body: could not be read ({})",
                r.body_text()
            ))
            .into())
        }
    };
    let items = parse_batch(&body)?;
    let now = Utc::now();
    let mut errors = Vec::new();
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match check_item(index, item, &caller, now) {
            Ok(e) => events.push(e),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    // Every named person must exist; the lookup needs only the items that were well-formed.
    let resolved = resolve_users(&state.pool, &events).await?;
    let mut rows = Rows::with_capacity(events.len());
    for ev in &events {
        let user_id = match &ev.who {
            Who::Id(id) => resolved.ids.contains(id).then(|| id.clone()),
            Who::Telegram(t) => resolved.telegram.get(t).cloned(),
            Who::Me => match &caller {
                Caller::Session { user, .. } => Some(user.id.clone()),
                Caller::Key { .. } => None,
            },
        };
        let Some(user_id) = user_id else {
            errors.push(ItemError {
                index: ev.index,
                field: ev.who.field().into(),
                message: "no such user".into(),
            });
            continue;
        };
        if let Caller::Session { user, .. } = &caller {
            if user.id != user_id {
                errors.push(ItemError {
                    index: ev.index,
                    field: ev.who.field().into(),
                    message: "a session token may post events only for its own user".into(),
                });
                continue;
            }
        }
        rows.push(ev, user_id);
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.index);
        return Err(IngestError::Invalid(errors));
    }
    let n = rows.ids.len() as u64;
    let inserted = insert(&state.pool, caller.platform(), rows).await?;
    Ok((inserted, n - inserted))
}

/// The body's shape: `{"events": [ … ]}` with 1 to 1000 items. Anything else is a 400
/// naming the problem; the items themselves are checked one by one afterwards.
fn parse_batch(body: &[u8]) -> Result<Vec<Value>, IngestError> {
    let bad = |m: String| IngestError::App(AppError::BadRequest(m));
    let v: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("body: not valid JSON ({e})")))?;
    let Value::Object(mut top) = v else {
        return Err(bad(
            "body: expected a JSON object {\"events\": [...]}".into()
        ));
    };
    if let Some(k) = top.keys().find(|k| k.as_str() != "events") {
        return Err(bad(format!(
            "body: unknown field {k:?}; expected only \"events\""
        )));
    }
    let events = match top.remove("events") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("events: expected an array of events".into())),
        None => return Err(bad("events: missing; expected {\"events\": [...]}".into())),
    };
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(bad(format!(
            "events: expected 1 to {MAX_EVENTS} events, got {}",
            events.len()
        )));
    }
    Ok(events)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    Id(String),
    Telegram(i64),
    /// The session's own user (session tokens only).
    Me,
}

impl Who {
    fn field(&self) -> &'static str {
        match self {
            Who::Id(_) | Who::Me => "userId",
            Who::Telegram(_) => "telegramId",
        }
    }
}

/// An item that passed every check that needs no database.
#[derive(Debug)]
struct Checked {
    index: usize,
    id: String,
    who: Who,
    event_type: String,
    metadata: Option<Value>,
    created_at: NaiveDateTime,
    ip: Option<String>,
    user_agent: Option<String>,
}

fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn valid_event_type(t: &str) -> bool {
    let mut chars = t.chars();
    matches!(chars.next(), Some('A'..='Z'))
        && chars.all(|c| matches!(c, 'A'..='Z' | '0'..='9' | '_'))
}

/// Checks one item; returns every problem it has.
fn check_item(
    index: usize,
    item: &Value,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<Checked, Vec<ItemError>> {
    let mut errs = Vec::new();
    let Value::Object(obj) = item else {
        errs.push(ItemError {
            index,
            field: "item".into(),
            message: "expected an event object".into(),
        });
        return Err(errs);
    };
    for k in obj.keys() {
        if !FIELDS.contains(&k.as_str()) {
            errs.push(ItemError {
                index,
                field: k.clone(),
                message: format!("unknown field; expected one of {}", FIELDS.join(", ")),
            });
        }
    }
    // `null` is the same as leaving a field out.
    let get = |k: &str| obj.get(k).filter(|v| !v.is_null());
    let text = |k: &str, errs: &mut Vec<ItemError>| -> Option<String> {
        match get(k) {
            None => None,
            Some(Value::String(s)) if s.contains('\0') => {
                errs.push(ItemError {
                    index,
                    field: k.into(),
                    message: "must not contain NUL characters".into(),
                });
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errs.push(ItemError {
                    index,
                    field: k.into(),
                    message: "expected a string".into(),
                });
                None
            }
        }
    };

    let id = match text("id", &mut errs) {
        None => Some(uuid::Uuid::new_v4().to_string()),
        Some(s) => match uuid::Uuid::parse_str(&s) {
            // One spelling per id, so that a retry in other letters is still a duplicate.
            Ok(u) => Some(u.hyphenated().to_string()),
            Err(_) => {
                errs.push(ItemError {
                    index,
                    field: "id".into(),
                    message: "expected a UUID such as 0b6f1c2e-8d1f-4f4e-9a57-3c1d2e4f5a6b".into(),
                });
                None
            }
        },
    };

    let user_id = text("userId", &mut errs);
    let mut user_id_bad = false;
    if let Some(u) = &user_id {
        if u.is_empty() || u.chars().count() > MAX_USER_ID_CHARS {
            errs.push(ItemError {
                index,
                field: "userId".into(),
                message: "no such user".into(),
            });
            user_id_bad = true;
        }
    } else if get("userId").is_some() {
        user_id_bad = true;
    }
    let telegram_id = match get("telegramId") {
        None => None,
        Some(v) => match v.as_i64() {
            Some(t) if t > 0 => Some(t),
            _ => {
                errs.push(ItemError {
                    index,
                    field: "telegramId".into(),
                    message: "expected a positive whole number".into(),
                });
                None
            }
        },
    };
    let telegram_given = get("telegramId").is_some();
    let user_given = get("userId").is_some();
    let who = match (user_given, telegram_given) {
        (true, true) => {
            errs.push(ItemError {
                index,
                field: "userId".into(),
                message: "give exactly one of userId and telegramId, not both".into(),
            });
            None
        }
        (false, false) => match caller {
            Caller::Session { .. } => Some(Who::Me),
            Caller::Key { .. } => {
                errs.push(ItemError {
                    index,
                    field: "userId".into(),
                    message: "give exactly one of userId and telegramId".into(),
                });
                None
            }
        },
        (true, false) if !user_id_bad => user_id.map(Who::Id),
        (false, true) => telegram_id.map(Who::Telegram),
        _ => None,
    };

    let event_type = match get("eventType") {
        None => {
            errs.push(ItemError {
                index,
                field: "eventType".into(),
                message: "missing; e.g. \"COURSE_START\"".into(),
            });
            None
        }
        Some(Value::String(t)) => {
            if t.chars().count() > MAX_EVENT_TYPE_CHARS {
                errs.push(ItemError {
                    index,
                    field: "eventType".into(),
                    message: format!("at most {MAX_EVENT_TYPE_CHARS} characters"),
                });
                None
            } else if !valid_event_type(t) {
                errs.push(ItemError {
                    index,
                    field: "eventType".into(),
                    message: "expected upper snake case (A-Z, 0-9, _), starting with a letter, e.g. COURSE_START".into(),
                });
                None
            } else if is_reserved_event_type(t) {
                errs.push(ItemError {
                    index,
                    field: "eventType".into(),
                    message: format!("{t} is reserved for the portal's own events"),
                });
                None
            } else {
                Some(t.clone())
            }
        }
        Some(_) => {
            errs.push(ItemError {
                index,
                field: "eventType".into(),
                message: "expected a string".into(),
            });
            None
        }
    };

    let metadata = match get("metadata") {
        None => None,
        Some(m @ Value::Object(_)) => {
            // Serialised size as stored; NUL is refused by PostgreSQL's jsonb.
            let size = serde_json::to_vec(m).map(|v| v.len()).unwrap_or(usize::MAX);
            if size > MAX_METADATA_BYTES {
                errs.push(ItemError {
                    index,
                    field: "metadata".into(),
                    message: format!(
                        "{size} bytes serialised; at most {MAX_METADATA_BYTES} (16 KiB)"
                    ),
                });
                None
            } else if has_nul(m) {
                errs.push(ItemError {
                    index,
                    field: "metadata".into(),
                    message: "must not contain NUL characters (\\u0000)".into(),
                });
                None
            } else {
                Some(m.clone())
            }
        }
        Some(_) => {
            errs.push(ItemError {
                index,
                field: "metadata".into(),
                message: "expected a JSON object".into(),
            });
            None
        }
    };

    let created_at = match text("createdAt", &mut errs) {
        None if get("createdAt").is_some() => None,
        None => Some(now.naive_utc()),
        Some(s) => match DateTime::parse_from_rfc3339(&s) {
            Ok(t) => {
                let t = t.with_timezone(&Utc);
                if t > now + chrono::Duration::seconds(MAX_FUTURE_SECS) {
                    errs.push(ItemError {
                        index,
                        field: "createdAt".into(),
                        message: "more than 5 minutes in the future".into(),
                    });
                    None
                } else {
                    // "createdAt" keeps milliseconds and PostgreSQL would round the rest:
                    // 23:59:59.9999 would become the next (local) day.
                    use chrono::SubsecRound;
                    Some(t.naive_utc().trunc_subsecs(3))
                }
            }
            Err(_) => {
                errs.push(ItemError {
                    index,
                    field: "createdAt".into(),
                    message: "expected an RFC 3339 time such as 2026-12-03T10:15:00Z".into(),
                });
                None
            }
        },
    };

    let ip = match text("ipAddress", &mut errs) {
        None => None,
        Some(s) => match s.trim().parse::<IpAddr>() {
            Ok(ip) => Some(ip.to_string()),
            Err(_) => {
                errs.push(ItemError {
                    index,
                    field: "ipAddress".into(),
                    message: "expected an IPv4 or IPv6 address".into(),
                });
                None
            }
        },
    };

    let user_agent = match text("userAgent", &mut errs) {
        Some(ua) if ua.chars().count() > MAX_USER_AGENT_CHARS => {
            errs.push(ItemError {
                index,
                field: "userAgent".into(),
                message: format!("at most {MAX_USER_AGENT_CHARS} characters"),
            });
            None
        }
        ua => ua,
    };

    if !errs.is_empty() {
        return Err(errs);
    }
    match (id, who, event_type, created_at) {
        (Some(id), Some(who), Some(event_type), Some(created_at)) => Ok(Checked {
            index,
            id,
            who,
            event_type,
            metadata,
            created_at,
            ip,
            user_agent,
        }),
        // Every None above came with an error; this is only for the compiler.
        _ => Err(vec![ItemError {
            index,
            field: "item".into(),
            message: "invalid event".into(),
        }]),
    }
}

struct Resolved {
    ids: HashSet<String>,
    telegram: HashMap<i64, String>,
}

async fn resolve_users(pool: &sqlx::PgPool, events: &[Checked]) -> Result<Resolved, IngestError> {
    let mut ids: Vec<String> = Vec::new();
    let mut tgs: Vec<i64> = Vec::new();
    let mut seen = HashSet::new();
    for e in events {
        if seen.insert(e.who.clone()) {
            match &e.who {
                Who::Id(i) => ids.push(i.clone()),
                Who::Telegram(t) => tgs.push(*t),
                Who::Me => {}
            }
        }
    }
    let mut out = Resolved {
        ids: HashSet::new(),
        telegram: HashMap::new(),
    };
    if ids.is_empty() && tgs.is_empty() {
        return Ok(out);
    }
    let rows = sqlx::query!(
        r#"SELECT "id", "telegramId" AS telegram_id FROM "User"
           WHERE "id" = ANY($1::text[]) OR "telegramId" = ANY($2::bigint[])"#,
        &ids,
        &tgs,
    )
    .fetch_all(pool)
    .await?;
    let wanted: HashSet<&String> = ids.iter().collect();
    for r in rows {
        if wanted.contains(&r.id) {
            out.ids.insert(r.id.clone());
        }
        if let Some(t) = r.telegram_id {
            out.telegram.insert(t, r.id);
        }
    }
    Ok(out)
}

/// The batch as columns, for UNNEST.
struct Rows {
    ids: Vec<String>,
    user_ids: Vec<String>,
    types: Vec<String>,
    metadata: Vec<Option<Value>>,
    created: Vec<NaiveDateTime>,
    ips: Vec<Option<String>>,
    agents: Vec<Option<String>>,
}

impl Rows {
    fn with_capacity(n: usize) -> Self {
        Rows {
            ids: Vec::with_capacity(n),
            user_ids: Vec::with_capacity(n),
            types: Vec::with_capacity(n),
            metadata: Vec::with_capacity(n),
            created: Vec::with_capacity(n),
            ips: Vec::with_capacity(n),
            agents: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, e: &Checked, user_id: String) {
        self.ids.push(e.id.clone());
        self.user_ids.push(user_id);
        self.types.push(e.event_type.clone());
        self.metadata.push(e.metadata.clone());
        self.created.push(e.created_at);
        self.ips.push(e.ip.clone());
        self.agents.push(e.user_agent.clone());
    }
}

/// Writes the batch in one statement (atomic on its own); returns how many rows were new.
async fn insert(pool: &sqlx::PgPool, platform: Platform, rows: Rows) -> Result<u64, IngestError> {
    let r = sqlx::query!(
        r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata", "ipAddress", "userAgent", "createdAt")
           SELECT t.id, t.user_id, t.event_type, $1, t.metadata, t.ip, t.ua, t.created_at
           FROM UNNEST($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::text[], $8::timestamp[])
                AS t(id, user_id, event_type, metadata, ip, ua, created_at)
           ON CONFLICT ("id") DO NOTHING"#,
        platform as Platform,
        &rows.ids,
        &rows.user_ids,
        &rows.types,
        &rows.metadata as &[Option<Value>],
        &rows.ips as &[Option<String>],
        &rows.agents as &[Option<String>],
        &rows.created,
    )
    .execute(pool)
    .await;
    match r {
        Ok(done) => Ok(done.rows_affected()),
        // A person deleted between the check and the write: the batch is refused whole.
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
            Err(IngestError::Invalid(vec![ItemError {
                index: 0,
                field: "userId".into(),
                message: "a user of this batch was removed while it was being written; nothing was written, retry the batch".into(),
            }]))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/v1/openapi.json`: the hand-written description of `/api/v1/*`.
pub const OPENAPI: &str = include_str!("openapi.json");

pub async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::CurrentUser;
    use crate::model::Role;

    fn key() -> Caller {
        Caller::Key {
            id: "k".into(),
            platform: Platform::MobileApp,
        }
    }

    fn session() -> Caller {
        Caller::Session {
            user: CurrentUser {
                id: "me".into(),
                role: Role::User,
                first_name: None,
                last_name: None,
                phone: None,
                telegram_username: None,
                session_id: "s".into(),
                must_change_password: false,
            },
            platform: Platform::Telegram,
        }
    }

    fn fields(r: Result<Checked, Vec<ItemError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn event_types() {
        assert!(valid_event_type("COURSE_START"));
        assert!(valid_event_type("A1"));
        assert!(!valid_event_type("course_start"));
        assert!(!valid_event_type("_X"));
        assert!(!valid_event_type("1X"));
        assert!(!valid_event_type(""));
        assert!(!valid_event_type("COURSE-START"));
    }

    #[test]
    fn a_good_item_passes_and_ids_are_normalised() {
        let now = Utc::now();
        let item = serde_json::json!({
            "id": "0B6F1C2E-8D1F-4F4E-9A57-3C1D2E4F5A6B", "userId": "u1",
            "eventType": "COURSE_START", "metadata": {"course": "x"},
            "createdAt": "2026-01-01T10:00:00+05:00", "ipAddress": "::1", "userAgent": "app"
        });
        let c = check_item(0, &item, &key(), now).unwrap();
        assert_eq!(c.id, "0b6f1c2e-8d1f-4f4e-9a57-3c1d2e4f5a6b");
        assert_eq!(c.who, Who::Id("u1".into()));
        assert_eq!(c.created_at.to_string(), "2026-01-01 05:00:00");
        // Cut to milliseconds, never rounded into the next second (or local day).
        let late = serde_json::json!({
            "userId": "u1", "eventType": "COURSE_START", "createdAt": "2026-12-01T18:59:59.9999Z"
        });
        let c = check_item(0, &late, &key(), now).unwrap();
        assert_eq!(c.created_at.to_string(), "2026-12-01 18:59:59.999");
    }

    #[test]
    fn every_problem_of_an_item_is_named() {
        let now = Utc::now();
        let item = serde_json::json!({
            "id": "nope", "eventType": "LOGIN", "metadata": [1],
            "createdAt": "yesterday", "ipAddress": "1.2.3", "userAgent": "x".repeat(1025),
            "colour": "red"
        });
        let mut f = fields(check_item(3, &item, &key(), now));
        f.sort();
        assert_eq!(
            f,
            vec![
                "colour",
                "createdAt",
                "eventType",
                "id",
                "ipAddress",
                "metadata",
                "userAgent",
                "userId"
            ]
        );
        assert_eq!(
            fields(check_item(0, &serde_json::json!(5), &key(), now)),
            vec!["item"]
        );
        let both = serde_json::json!({"userId": "a", "telegramId": 5, "eventType": "X"});
        assert_eq!(fields(check_item(0, &both, &key(), now)), vec!["userId"]);
        let nul = serde_json::json!({"userId": "a", "eventType": "X", "metadata": {"k": "a\u{0}"}});
        assert_eq!(fields(check_item(0, &nul, &key(), now)), vec!["metadata"]);
        let future = (now + chrono::Duration::minutes(6)).to_rfc3339();
        let f = serde_json::json!({"userId": "a", "eventType": "X", "createdAt": future});
        assert_eq!(fields(check_item(0, &f, &key(), now)), vec!["createdAt"]);
        let soon = (now + chrono::Duration::minutes(4)).to_rfc3339();
        let s = serde_json::json!({"userId": "a", "eventType": "X", "createdAt": soon});
        assert!(check_item(0, &s, &key(), now).is_ok());
    }

    #[test]
    fn a_session_may_leave_out_the_user() {
        let now = Utc::now();
        let item = serde_json::json!({"eventType": "X", "userId": null});
        assert_eq!(check_item(0, &item, &session(), now).unwrap().who, Who::Me);
        assert_eq!(fields(check_item(0, &item, &key(), now)), vec!["userId"]);
    }

    #[test]
    fn batch_shape_errors_are_400s() {
        for body in [
            &b"{"[..],
            b"[]",
            b"{}",
            b"{\"events\": 5}",
            b"{\"events\": []}",
            b"{\"events\": [{}], \"more\": 1}",
        ] {
            match parse_batch(body) {
                Err(IngestError::App(AppError::BadRequest(_))) => {}
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
        let many = format!("{{\"events\": [{}]}}", vec!["{}"; 1001].join(","));
        assert!(parse_batch(many.as_bytes()).is_err());
        assert_eq!(parse_batch(b"{\"events\": [{}]}").unwrap().len(), 1);
    }

    #[test]
    fn the_openapi_document_parses() {
        let v: Value = serde_json::from_str(OPENAPI).unwrap();
        assert!(v["openapi"].as_str().unwrap().starts_with("3.0"));
    }
}
