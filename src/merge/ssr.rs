//! Server-only parts of duplicates and merge.
//!
//! Every duplicate query repeats the expressions of the indexes of migration
//! 20261204000002 word for word ("User_phoneDigits_idx", "User_nameKey_region_idx",
//! "User_telegramUsername_lower_idx"), partial-index predicates included, so the planner
//! can answer from them.

use super::{
    Candidate, Candidates, DuplicateGroups, DuplicatesQuery, Group, MergePreview, MergeSide,
    Person, Reason, MAX_GROUP,
};
use crate::auth::{display_name, CurrentUser};
use crate::error::AppError;
use crate::forms::Done;
use crate::model::{Platform, Region, Role};
use crate::state::AppState;
use crate::time_fmt::local;
use crate::users::detail_ssr::{may_manage, staff_action};
use crate::users::ssr::{cursor_param, portal_secret};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Candidates per reason on a user's page.
const PER_REASON: i64 = 20;
/// Groups per page of the duplicates list.
const GROUPS_PAGE: i64 = 25;

fn user_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 200 && !id.contains(char::is_control)
}

fn digits(phone: &str) -> String {
    phone.chars().filter(|c| c.is_ascii_digit()).collect()
}

struct PersonRow {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    telegram_username: Option<String>,
    role: Role,
    source: Platform,
    region: Region,
    created_at: NaiveDateTime,
    events: i64,
}

fn person(state: &AppState, r: PersonRow) -> Person {
    Person {
        name: display_name(
            r.first_name.as_deref(),
            r.last_name.as_deref(),
            r.phone.as_deref(),
            r.telegram_username.as_deref(),
        ),
        id: r.id,
        phone: r.phone,
        telegram_username: r.telegram_username,
        role: r.role,
        source: r.source,
        region: r.region,
        created: local(state.config.timezone, r.created_at),
        events: r.events,
    }
}

/// Users by id, with their event counts (their own rows: what their timeline holds).
async fn people(state: &AppState, ids: &[String]) -> Result<HashMap<String, Person>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT u."id", u."firstName" AS first_name, u."lastName" AS last_name, u."phone",
                  u."telegramUsername" AS telegram_username, u."role" AS "role: Role",
                  u."registrationSource" AS "source: Platform", u."region" AS "region: Region",
                  u."createdAt" AS created_at,
                  (SELECT count(*) FROM "EventLog" e WHERE e."userId" = u."id") AS "events!"
           FROM "User" u WHERE u."id" = ANY($1)"#,
        ids
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let p = person(
                state,
                PersonRow {
                    id: r.id,
                    first_name: r.first_name,
                    last_name: r.last_name,
                    phone: r.phone,
                    telegram_username: r.telegram_username,
                    role: r.role,
                    source: r.source,
                    region: r.region,
                    created_at: r.created_at,
                    events: r.events,
                },
            );
            (p.id.clone(), p)
        })
        .collect())
}

pub async fn candidates(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
) -> Result<Candidates, AppError> {
    if !user_id_ok(user_id) {
        return Err(AppError::not_found("user"));
    }
    // The user's own keys first, so each lookup below is a plain equality on an index.
    let keys = sqlx::query!(
        r#"SELECT regexp_replace("phone", '[^0-9]', '', 'g') AS digits,
                  portal_name_key("firstName", "lastName") AS name_key,
                  "region" AS "region: Region",
                  lower("telegramUsername") AS handle,
                  "erasedAt" IS NOT NULL AS "erased!"
           FROM "User" WHERE "id" = $1"#,
        user_id
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    let mut found: Vec<Candidate> = Vec::new();
    if !keys.erased {
        // MATERIALIZED: each match comes from its equality index; left to itself the
        // planner may walk "createdAt" backwards through every user for the ORDER BY.
        // Each reason reads at most one row past MAX_GROUP - 1 others: a bigger group is
        // namesakes or a shared number, not a duplicate (as on the duplicates page), and a
        // common name has hundreds of holders at 1M users.
        let hits = sqlx::query!(
            r#"WITH p AS MATERIALIZED (
                   SELECT "id", "createdAt" FROM "User"
                   WHERE "phone" IS NOT NULL AND regexp_replace("phone", '[^0-9]', '', 'g') = $2
                     AND "id" <> $1 AND "erasedAt" IS NULL LIMIT $7),
               n AS MATERIALIZED (
                   SELECT "id", "createdAt" FROM "User"
                   WHERE portal_name_key("firstName", "lastName") IS NOT NULL
                     AND portal_name_key("firstName", "lastName") = $3 AND "region" = $4
                     AND "id" <> $1 AND "erasedAt" IS NULL LIMIT $7),
               t AS MATERIALIZED (
                   SELECT "id", "createdAt" FROM "User"
                   WHERE "telegramUsername" IS NOT NULL AND lower("telegramUsername") = $5
                     AND "id" <> $1 AND "erasedAt" IS NULL LIMIT $7)
               (SELECT "id" AS "id!", 'phone' AS "reason!" FROM p
                WHERE (SELECT count(*) FROM p) < $7 ORDER BY "createdAt", "id" LIMIT $6)
               UNION ALL (SELECT "id", 'name' FROM n
                WHERE (SELECT count(*) FROM n) < $7 ORDER BY "createdAt", "id" LIMIT $6)
               UNION ALL (SELECT "id", 'telegram' FROM t
                WHERE (SELECT count(*) FROM t) < $7 ORDER BY "createdAt", "id" LIMIT $6)"#,
            user_id,
            keys.digits.filter(|d| !d.is_empty()),
            keys.name_key,
            keys.region as Region,
            keys.handle.filter(|h| !h.is_empty()),
            PER_REASON,
            MAX_GROUP as i64,
        )
        .fetch_all(&state.pool)
        .await?;
        let mut order: Vec<String> = Vec::new();
        let mut reasons: HashMap<String, Vec<Reason>> = HashMap::new();
        for h in hits {
            let reason = Reason::parse(&h.reason).map_err(|_| AppError::Internal)?;
            let e = reasons.entry(h.id.clone()).or_default();
            if e.is_empty() {
                order.push(h.id);
            }
            e.push(reason);
        }
        let mut ppl = people(state, &order).await?;
        for id in order {
            if let Some(p) = ppl.remove(&id) {
                found.push(Candidate {
                    person: p,
                    reasons: reasons.remove(&id).unwrap_or_default(),
                });
            }
        }
        // Strongest evidence first: more reasons, then the older record.
        found.sort_by_key(|c| std::cmp::Reverse(c.reasons.len()));
    }
    Ok(Candidates {
        user_id: user_id.to_string(),
        candidates: found,
        can_merge: me.role >= Role::Admin,
    })
}

#[derive(Debug, Serialize, Deserialize)]
struct GroupCursor {
    r: Reason,
    k: String,
    g: Option<Region>,
}

struct RawGroup {
    key: String,
    region: Option<Region>,
    ids: Vec<String>,
}

pub async fn duplicates(
    state: &AppState,
    me: &CurrentUser,
    q: &DuplicatesQuery,
) -> Result<DuplicateGroups, AppError> {
    let reason = match q.reason.as_deref() {
        None => Reason::Phone,
        Some(r) => Reason::parse(r).map_err(|e| AppError::bad(format!("reason: {e}")))?,
    };
    let secret = portal_secret(state)?;
    let after = cursor_param::<GroupCursor>(
        secret,
        "duplicates",
        "after",
        q.after.as_deref(),
        |c| c.r == reason,
        "start from the first page",
    )?;
    // Keys are never empty (empty digits, names and handles are no evidence), so '' starts
    // at the beginning without an OR the planner would have to see through.
    let after_key = after.as_ref().map(|c| c.k.clone()).unwrap_or_default();
    let max = MAX_GROUP as i64;
    let limit = GROUPS_PAGE + 1;
    let mut raw: Vec<RawGroup> = match reason {
        Reason::Phone => sqlx::query!(
            r#"SELECT regexp_replace("phone", '[^0-9]', '', 'g') AS "key!",
                      array_agg("id" ORDER BY "createdAt", "id") AS "ids!"
               FROM "User"
               WHERE "phone" IS NOT NULL AND regexp_replace("phone", '[^0-9]', '', 'g') > $1
                 AND "erasedAt" IS NULL
               GROUP BY 1 HAVING count(*) BETWEEN 2 AND $2
               ORDER BY 1 LIMIT $3"#,
            after_key,
            max,
            limit
        )
        .fetch_all(&state.pool)
        .await?
        .into_iter()
        .map(|r| RawGroup {
            key: r.key,
            region: None,
            ids: r.ids,
        })
        .collect(),
        Reason::Name => sqlx::query!(
            r#"SELECT portal_name_key("firstName", "lastName") AS "key!", "region" AS "region!: Region",
                      array_agg("id" ORDER BY "createdAt", "id") AS "ids!"
               FROM "User"
               WHERE portal_name_key("firstName", "lastName") IS NOT NULL
                 AND (portal_name_key("firstName", "lastName"), "region") > ($1, $2::"Region")
                 AND "erasedAt" IS NULL
               GROUP BY 1, 2 HAVING count(*) BETWEEN 2 AND $3
               ORDER BY 1, 2 LIMIT $4"#,
            after_key,
            after.as_ref().and_then(|c| c.g).unwrap_or(Region::Uz) as Region,
            max,
            limit
        )
        .fetch_all(&state.pool)
        .await?
        .into_iter()
        .map(|r| RawGroup {
            key: r.key,
            region: Some(r.region),
            ids: r.ids,
        })
        .collect(),
        Reason::Telegram => sqlx::query!(
            r#"SELECT lower("telegramUsername") AS "key!",
                      array_agg("id" ORDER BY "createdAt", "id") AS "ids!"
               FROM "User"
               WHERE "telegramUsername" IS NOT NULL AND lower("telegramUsername") > $1
                 AND "erasedAt" IS NULL
               GROUP BY 1 HAVING count(*) BETWEEN 2 AND $2
               ORDER BY 1 LIMIT $3"#,
            after_key,
            max,
            limit
        )
        .fetch_all(&state.pool)
        .await?
        .into_iter()
        .map(|r| RawGroup {
            key: r.key,
            region: None,
            ids: r.ids,
        })
        .collect(),
    };
    let more = raw.len() as i64 > GROUPS_PAGE;
    raw.truncate(GROUPS_PAGE as usize);
    let next = if more {
        raw.last().map(|g| {
            crate::auth::ssr::sign_value(
                secret,
                "duplicates",
                &GroupCursor {
                    r: reason,
                    k: g.key.clone(),
                    g: g.region,
                },
            )
        })
    } else {
        None
    };
    let all_ids: Vec<String> = raw.iter().flat_map(|g| g.ids.iter().cloned()).collect();
    let ppl = people(state, &all_ids).await?;
    let groups = raw
        .into_iter()
        .map(|g| Group {
            key: match reason {
                Reason::Telegram => format!("@{}", g.key),
                _ => g.key,
            },
            region: g.region,
            members: g.ids.iter().filter_map(|id| ppl.get(id).cloned()).collect(),
        })
        .filter(|g| g.members.len() >= 2)
        .collect();
    Ok(DuplicateGroups {
        reason,
        groups,
        next,
        can_merge: me.role >= Role::Admin,
    })
}

/// A whole "User" row as the merge needs it.
#[derive(Debug, Clone)]
struct Full {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    role: Role,
    telegram_id: Option<i64>,
    telegram_username: Option<String>,
    telegram_photo_url: Option<String>,
    password_hash: Option<String>,
    password_change_required: bool,
    source: Platform,
    region: Region,
    language: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    blocked_at: Option<NaiveDateTime>,
    blocked_reason: Option<String>,
    erased: bool,
}

macro_rules! full_rows {
    ($conn:expr, $ids:expr, $lock:literal) => {
        sqlx::query_as!(
            Full,
            r#"SELECT "id", "firstName" AS first_name, "lastName" AS last_name, "phone",
                      "role" AS "role: Role", "telegramId" AS telegram_id,
                      "telegramUsername" AS telegram_username, "telegramPhotoUrl" AS telegram_photo_url,
                      "passwordHash" AS password_hash, "passwordChangeRequired" AS password_change_required,
                      "registrationSource" AS "source: Platform", "region" AS "region: Region", "language",
                      "createdAt" AS created_at, "updatedAt" AS updated_at,
                      "blockedAt" AS blocked_at, "blockedReason" AS blocked_reason,
                      "erasedAt" IS NOT NULL AS "erased!"
               FROM "User" WHERE "id" = ANY($1) ORDER BY "id""#
                + $lock,
            $ids
        )
        .fetch_all($conn)
    };
}

fn non_empty(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// Which side's value stays where both have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Survivor,
    Merged,
}

fn keep_param(name: &str, v: Option<&str>) -> Result<Option<Keep>, AppError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some("survivor") => Ok(Some(Keep::Survivor)),
        Some("merged") => Ok(Some(Keep::Merged)),
        Some(other) => {
            let shown: String = other.chars().take(40).collect();
            Err(AppError::bad(format!(
                "{name}: {shown:?} is neither survivor nor merged"
            )))
        }
    }
}

fn phone_conflict(s: &Full, m: &Full) -> bool {
    match (&s.phone, &m.phone) {
        (Some(a), Some(b)) => digits(a) != digits(b),
        _ => false,
    }
}

fn telegram_conflict(s: &Full, m: &Full) -> bool {
    matches!((s.telegram_id, m.telegram_id), (Some(a), Some(b)) if a != b)
}

/// The survivor as it will be, and the names of the fields the merged record filled.
struct Outcome {
    row: Full,
    fills: Vec<&'static str>,
    phone_choice: Option<Keep>,
    telegram_choice: Option<Keep>,
}

fn combine(
    s: &Full,
    m: &Full,
    keep_phone: Option<Keep>,
    keep_telegram: Option<Keep>,
) -> Result<Outcome, AppError> {
    let mut out = s.clone();
    let mut fills = Vec::new();
    let phone_choice = if phone_conflict(s, m) {
        let k = keep_phone.ok_or_else(|| {
            AppError::Conflict(format!(
                "keep_phone: both records have a phone ({} and {}); choose which one stays",
                s.phone.as_deref().unwrap_or_default(),
                m.phone.as_deref().unwrap_or_default()
            ))
            .noted()
        })?;
        if k == Keep::Merged {
            out.phone = m.phone.clone();
            fills.push("phone");
        }
        Some(k)
    } else {
        if s.phone.is_none() && m.phone.is_some() {
            out.phone = m.phone.clone();
            fills.push("phone");
        }
        None
    };
    let telegram_choice = if telegram_conflict(s, m) {
        let k = keep_telegram.ok_or_else(|| {
            AppError::Conflict(format!(
                "keep_telegram: both records have a Telegram account ({} and {}); choose which one stays",
                s.telegram_id.unwrap_or_default(),
                m.telegram_id.unwrap_or_default()
            ))
            .noted()
        })?;
        Some(k)
    } else {
        None
    };
    // A Telegram id, its username and its photo belong together: they come from the side
    // whose account stays, and only a record without an account lends its known handle.
    let tg_from_merged = match telegram_choice {
        Some(k) => k == Keep::Merged,
        None => s.telegram_id.is_none() && m.telegram_id.is_some(),
    };
    if tg_from_merged {
        out.telegram_id = m.telegram_id;
        out.telegram_username = m.telegram_username.clone();
        out.telegram_photo_url = m.telegram_photo_url.clone();
        fills.push("telegramId");
        if !non_empty(&out.telegram_username) && s.telegram_id.is_none() {
            out.telegram_username = s.telegram_username.clone();
        }
        if out.telegram_photo_url.is_none() && s.telegram_id.is_none() {
            out.telegram_photo_url = s.telegram_photo_url.clone();
        }
    } else {
        let lender_ok = m.telegram_id.is_none() || m.telegram_id == s.telegram_id;
        if lender_ok && !non_empty(&s.telegram_username) && non_empty(&m.telegram_username) {
            out.telegram_username = m.telegram_username.clone();
            fills.push("telegramUsername");
        }
        if lender_ok && s.telegram_photo_url.is_none() && m.telegram_photo_url.is_some() {
            out.telegram_photo_url = m.telegram_photo_url.clone();
            fills.push("telegramPhotoUrl");
        }
    }
    if !non_empty(&s.first_name) && non_empty(&m.first_name) {
        out.first_name = m.first_name.clone();
        fills.push("firstName");
    }
    if !non_empty(&s.last_name) && non_empty(&m.last_name) {
        out.last_name = m.last_name.clone();
        fills.push("lastName");
    }
    if s.password_hash.is_none() && m.password_hash.is_some() {
        out.password_hash = m.password_hash.clone();
        out.password_change_required = m.password_change_required;
        fills.push("password");
    }
    if m.role > s.role {
        out.role = m.role;
        fills.push("role");
    }
    if s.blocked_at.is_none() && m.blocked_at.is_some() {
        out.blocked_at = m.blocked_at;
        out.blocked_reason = m.blocked_reason.clone();
        fills.push("blocked");
    }
    Ok(Outcome {
        row: out,
        fills,
        phone_choice,
        telegram_choice,
    })
}

/// The pair's permission check (CONTRACT §2): the actor must manage both, and merging a
/// staff member away or into someone needs SUPER_ADMIN.
fn check_pair(me: &CurrentUser, s: &Full, m: &Full) -> Result<(), AppError> {
    let staff = s.role.is_staff() || m.role.is_staff();
    if !may_manage(me.role, s.role)
        || !may_manage(me.role, m.role)
        || (staff && me.role != Role::SuperAdmin)
    {
        return Err(AppError::Forbidden.noted());
    }
    if m.id == me.id {
        return Err(AppError::bad(
            "merged_id: you cannot merge your own record away; keep it as the survivor",
        ));
    }
    if s.erased || m.erased {
        return Err(AppError::Conflict(
            "an erased record cannot be merged: its personal data is gone".into(),
        )
        .noted());
    }
    Ok(())
}

fn pair_ids(survivor_id: &str, merged_id: &str) -> Result<(), AppError> {
    if !user_id_ok(survivor_id) || !user_id_ok(merged_id) {
        return Err(AppError::not_found("user"));
    }
    if survivor_id == merged_id {
        return Err(AppError::bad(
            "merged_id: a user cannot be merged with themself; choose another user",
        ));
    }
    Ok(())
}

fn split(rows: Vec<Full>, survivor_id: &str, merged_id: &str) -> Result<(Full, Full), AppError> {
    let mut s = None;
    let mut m = None;
    for r in rows {
        if r.id == survivor_id {
            s = Some(r);
        } else if r.id == merged_id {
            m = Some(r);
        }
    }
    match (s, m) {
        (Some(s), Some(m)) => Ok((s, m)),
        _ => Err(AppError::not_found("user")),
    }
}

pub async fn preview(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    other: Option<&str>,
    keep: Option<&str>,
) -> Result<MergePreview, AppError> {
    if !user_id_ok(user_id) {
        return Err(AppError::not_found("user"));
    }
    let other = other
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| AppError::bad("other: choose the user to merge with"))?;
    if !user_id_ok(other) {
        return Err(AppError::not_found("user"));
    }
    if other == user_id {
        return Err(AppError::bad(
            "other: a user cannot be merged with themself; choose another user",
        ));
    }
    let (survivor_id, merged_id) = match keep.map(str::trim).filter(|k| !k.is_empty()) {
        None => (user_id, other),
        Some(k) if k == user_id => (user_id, other),
        Some(k) if k == other => (other, user_id),
        Some(_) => return Err(AppError::bad("keep: must be one of the two users")),
    };
    let ids = vec![survivor_id.to_string(), merged_id.to_string()];
    let rows = full_rows!(&state.pool, &ids, "").await?;
    let (s, m) = split(rows, survivor_id, merged_id)?;
    check_pair(me, &s, &m)?;
    let counts = sqlx::query!(
        r#"SELECT u AS "id!",
                  (SELECT count(*) FROM "Session" x WHERE x."userId" = u AND x."expiresAt" > (now() AT TIME ZONE 'UTC')) AS "sessions!",
                  (SELECT count(*) FROM "EventLog" e WHERE e."userId" = u) AS "events!"
           FROM unnest($1::text[]) u"#,
        &ids
    )
    .fetch_all(&state.pool)
    .await?;
    let count_of = |id: &str| {
        counts
            .iter()
            .find(|c| c.id == id)
            .map(|c| (c.sessions, c.events))
            .unwrap_or((0, 0))
    };
    // The fields a merge would fill, with both conflicts taken as "keep the survivor's".
    let fills = combine(&s, &m, Some(Keep::Survivor), Some(Keep::Survivor))?
        .fills
        .into_iter()
        .map(String::from)
        .collect();
    let tz = state.config.timezone;
    let side = |f: &Full| {
        let (sessions, events) = count_of(&f.id);
        MergeSide {
            id: f.id.clone(),
            name: display_name(
                f.first_name.as_deref(),
                f.last_name.as_deref(),
                f.phone.as_deref(),
                f.telegram_username.as_deref(),
            ),
            first_name: f.first_name.clone(),
            last_name: f.last_name.clone(),
            phone: f.phone.clone(),
            role: f.role,
            telegram_id: f.telegram_id,
            telegram_username: f.telegram_username.clone(),
            telegram_photo_url: f.telegram_photo_url.clone(),
            has_password: f.password_hash.is_some(),
            source: f.source,
            region: f.region,
            language: f.language.clone(),
            created: local(tz, f.created_at),
            updated: local(tz, f.updated_at),
            blocked: f.blocked_at.is_some(),
            sessions,
            events,
        }
    };
    Ok(MergePreview {
        phone_conflict: phone_conflict(&s, &m),
        telegram_conflict: telegram_conflict(&s, &m),
        survivor: side(&s),
        merged: side(&m),
        fills,
    })
}

pub async fn merge(
    state: &AppState,
    me: &CurrentUser,
    survivor_id: &str,
    merged_id: &str,
    keep_phone: Option<&str>,
    keep_telegram: Option<&str>,
) -> Result<Done, AppError> {
    pair_ids(survivor_id, merged_id)?;
    let keep_phone = keep_param("keep_phone", keep_phone)?;
    let keep_telegram = keep_param("keep_telegram", keep_telegram)?;
    let mut tx = state.pool.begin().await?;
    // Both rows locked in id order (the ORDER BY runs below the row locks), so two merges
    // of overlapping pairs queue instead of deadlocking. The lock also holds off a Telegram
    // sign-in of the merged person: its upsert waits on the row, and once this commits it
    // finds the Telegram id on the survivor.
    let ids = vec![survivor_id.to_string(), merged_id.to_string()];
    let rows = full_rows!(&mut *tx, &ids, " FOR UPDATE").await?;
    let (s, m) = split(rows, survivor_id, merged_id)?;
    check_pair(me, &s, &m)?;
    let outcome = combine(&s, &m, keep_phone, keep_telegram)?;
    let o = &outcome.row;

    // A device signed in as either record must not wake up with a higher role than it
    // signed in with (a USER's phone turning into a staff session): those sessions end
    // instead of moving.
    let mut sessions_ended = 0;
    if o.role > s.role {
        sessions_ended += sqlx::query!(r#"DELETE FROM "Session" WHERE "userId" = $1"#, s.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    let sessions = if o.role > m.role {
        sessions_ended += sqlx::query!(r#"DELETE FROM "Session" WHERE "userId" = $1"#, m.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        0
    } else {
        sqlx::query!(
            r#"UPDATE "Session" SET "userId" = $1 WHERE "userId" = $2"#,
            s.id,
            m.id
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
    };
    let events = sqlx::query!(
        r#"UPDATE "EventLog" SET "userId" = $1 WHERE "userId" = $2"#,
        s.id,
        m.id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Staff actions taken on the merged person now name the survivor; the original target
    // stays readable beside it.
    let retargeted = sqlx::query!(
        r#"UPDATE "EventLog"
           SET "metadata" = jsonb_set("metadata", '{targetUserId}', to_jsonb($1::text))
                            || jsonb_build_object('mergedFromUserId', $2::text)
           WHERE "metadata" ? 'targetUserId' AND "metadata" ->> 'targetUserId' = $2"#,
        s.id,
        m.id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let replays = sqlx::query!(
        r#"UPDATE "TelegramLoginReplay" SET "userId" = $1 WHERE "userId" = $2"#,
        s.id,
        m.id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Deleted before the survivor takes its phone or Telegram id: both are unique.
    sqlx::query!(r#"DELETE FROM "User" WHERE "id" = $1"#, m.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        r#"UPDATE "User" SET "firstName" = $2, "lastName" = $3, "phone" = $4, "role" = $5,
                  "telegramId" = $6, "telegramUsername" = $7, "telegramPhotoUrl" = $8,
                  "passwordHash" = $9, "passwordChangeRequired" = $10,
                  "blockedAt" = $11, "blockedReason" = $12,
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1"#,
        s.id,
        o.first_name,
        o.last_name,
        o.phone,
        o.role as Role,
        o.telegram_id,
        o.telegram_username,
        o.telegram_photo_url,
        o.password_hash,
        o.password_change_required,
        o.blocked_at,
        o.blocked_reason,
    )
    .execute(&mut *tx)
    .await?;
    let choice = |k: Option<Keep>| {
        k.map(|k| match k {
            Keep::Survivor => "survivor",
            Keep::Merged => "merged",
        })
    };
    staff_action(
        &mut tx,
        me,
        "ADMIN_MERGE",
        &s.id,
        serde_json::json!({
            "mergedUserId": m.id,
            "sessionsEnded": sessions_ended,
            "moved": {
                "sessions": sessions,
                "events": events,
                "staffActionsRetargeted": retargeted,
                "telegramReplays": replays,
            },
            "filled": outcome.fills,
            "conflicts": {
                "phone": choice(outcome.phone_choice).map(|k| serde_json::json!({
                    "kept": k, "survivor": s.phone, "merged": m.phone,
                })),
                "telegram": choice(outcome.telegram_choice).map(|k| serde_json::json!({
                    "kept": k, "survivor": s.telegram_id, "merged": m.telegram_id,
                })),
            },
            // What the deleted row was, for whoever has to explain the merge later
            // (never its password hash).
            "merged": {
                "firstName": m.first_name, "lastName": m.last_name, "phone": m.phone,
                "telegramId": m.telegram_id, "telegramUsername": m.telegram_username,
                "role": m.role, "registrationSource": m.source, "region": m.region,
                "language": m.language, "createdAt": m.created_at.and_utc().to_rfc3339(),
                "blocked": m.blocked_at.is_some(), "hadPassword": m.password_hash.is_some(),
            },
        }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, survivor = %s.id, merged = %m.id, sessions, events, "users merged");
    let name = |f: &Full| {
        display_name(
            f.first_name.as_deref(),
            f.last_name.as_deref(),
            f.phone.as_deref(),
            f.telegram_username.as_deref(),
        )
    };
    Ok(Done::new(format!(
        "Merged “{}” into “{}”: {events} events and {sessions} sessions moved.",
        name(&m),
        name(o)
    ))
    .then_go(format!("/admin/users/{}", crate::users::urlencode(&s.id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> Full {
        Full {
            id: id.into(),
            first_name: None,
            last_name: None,
            phone: None,
            role: Role::User,
            telegram_id: None,
            telegram_username: None,
            telegram_photo_url: None,
            password_hash: None,
            password_change_required: false,
            source: Platform::Web,
            region: Region::Uz,
            language: "uz".into(),
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
            blocked_at: None,
            blocked_reason: None,
            erased: false,
        }
    }

    #[test]
    fn identities_fill_what_the_survivor_lacks() {
        let mut s = row("a");
        s.phone = Some("+998901234567".into());
        s.password_hash = Some("$argon2id$x".into());
        let mut m = row("b");
        m.phone = Some("+998 90 123-45-67".into());
        m.telegram_id = Some(42);
        m.telegram_username = Some("gulom".into());
        m.first_name = Some("Gʻulom".into());
        m.role = Role::Support;
        let o = combine(&s, &m, None, None).unwrap();
        assert_eq!(o.row.phone.as_deref(), Some("+998901234567"));
        assert_eq!(o.row.telegram_id, Some(42));
        assert_eq!(o.row.telegram_username.as_deref(), Some("gulom"));
        assert_eq!(o.row.first_name.as_deref(), Some("Gʻulom"));
        assert_eq!(o.row.role, Role::Support);
        assert!(o.fills.contains(&"telegramId"));
        assert!(!o.fills.contains(&"phone"));
    }

    #[test]
    fn conflicts_need_a_choice() {
        let mut s = row("a");
        s.phone = Some("+998901111111".into());
        s.telegram_id = Some(1);
        let mut m = row("b");
        m.phone = Some("+998902222222".into());
        m.telegram_id = Some(2);
        m.telegram_username = Some("two".into());
        let e = combine(&s, &m, None, Some(Keep::Merged)).err().unwrap();
        assert!(e.to_string().starts_with("keep_phone: "), "{e}");
        let e = combine(&s, &m, Some(Keep::Merged), None).err().unwrap();
        assert!(e.to_string().starts_with("keep_telegram: "), "{e}");
        let o = combine(&s, &m, Some(Keep::Merged), Some(Keep::Merged)).unwrap();
        assert_eq!(o.row.phone.as_deref(), Some("+998902222222"));
        assert_eq!(o.row.telegram_id, Some(2));
        assert_eq!(o.row.telegram_username.as_deref(), Some("two"));
        let o = combine(&s, &m, Some(Keep::Survivor), Some(Keep::Survivor)).unwrap();
        assert_eq!(o.row.telegram_id, Some(1));
        // Another account's handle is not lent to the survivor's account.
        assert_eq!(o.row.telegram_username, None);
    }
}
