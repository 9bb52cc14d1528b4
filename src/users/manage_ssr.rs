//! Server-only parts of managing one user: edit, Telegram link and unlink, block and
//! unblock, erase. Each action is one transaction that locks the target first
//! ([`lock_target`]), so two staff members acting on one person at once are serialised and
//! the permission check sees the role the change applies to.

use super::detail_ssr::{lock_target, may_manage, staff_action, Target};
use super::manage::ManageData;
use super::urlencode;
use crate::auth::ssr::{insert_event, normalize_phone, NewEvent};
use crate::auth::{display_name, CurrentUser};
use crate::error::AppError;
use crate::forms::Done;
use crate::model::{Platform, Region, Role, LANGUAGES};
use crate::state::AppState;
use crate::time_fmt::local;
use serde_json::{json, Map, Value};

pub const MAX_NAME: usize = 200;
pub const MAX_REASON: usize = 500;

/// Metadata keys that can carry who a person is. Erasure removes them from the person's
/// own events and from staff actions naming them.
pub const PERSONAL_KEYS: &[&str] = &[
    "telegramId",
    "telegramUsername",
    "telegram_id",
    "username",
    "phone",
    "phoneNumber",
    "phone_number",
    "firstName",
    "lastName",
    "first_name",
    "last_name",
    "name",
    "fullName",
    "email",
    "photoUrl",
    "photo_url",
    "telegramPhotoUrl",
];

pub async fn load(state: &AppState, me: &CurrentUser, id: &str) -> Result<ManageData, AppError> {
    if id.is_empty() || id.len() > 200 || id.contains(char::is_control) {
        return Err(AppError::not_found("user"));
    }
    let tz = state.config.timezone;
    let u = sqlx::query!(
        r#"SELECT "id", "firstName" AS first_name, "lastName" AS last_name, "phone", "role" AS "role: Role",
                  "telegramId" AS telegram_id, "telegramUsername" AS telegram_username,
                  "region" AS "region: Region", "language",
                  "passwordHash" IS NOT NULL AS "has_password!",
                  "blockedAt" AS blocked_at, "blockedReason" AS blocked_reason, "erasedAt" AS erased_at
           FROM "User" WHERE "id" = $1"#,
        id
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    if !may_manage(me.role, u.role) {
        return Err(AppError::Forbidden.noted());
    }
    Ok(ManageData {
        name: display_name(
            u.first_name.as_deref(),
            u.last_name.as_deref(),
            u.phone.as_deref(),
            u.telegram_username.as_deref(),
        ),
        is_self: u.id == me.id,
        id: u.id,
        first_name: u.first_name,
        last_name: u.last_name,
        phone: u.phone,
        role: u.role,
        telegram_id: u.telegram_id,
        telegram_username: u.telegram_username,
        region: u.region,
        language: u.language,
        has_password: u.has_password,
        blocked: u.blocked_at.map(|t| local(tz, t)),
        blocked_reason: u.blocked_reason,
        erased: u.erased_at.map(|t| local(tz, t)),
    })
}

// ---------------------------------------------------------------------------------------
// Edit

/// The fields of an edit as posted; `None` means the field was not sent and stays as it is.
#[derive(Debug, Clone, Default)]
pub struct EditInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub language: Option<String>,
}

/// An edit after validation: the outer `None` leaves a field alone, an inner `None` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edit {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub region: Option<Region>,
    pub language: Option<String>,
}

fn name_field(field: &str, v: Option<String>) -> Result<Option<Option<String>>, AppError> {
    let Some(v) = v else { return Ok(None) };
    let v = v.trim();
    if v.chars().count() > MAX_NAME {
        return Err(AppError::bad(format!(
            "{field}: at most {MAX_NAME} characters"
        )));
    }
    if v.contains(char::is_control) {
        return Err(AppError::bad(format!(
            "{field}: no line breaks or control characters"
        )));
    }
    Ok(Some((!v.is_empty()).then(|| v.to_string())))
}

pub fn parse_edit(input: EditInput) -> Result<Edit, AppError> {
    let phone = match input.phone {
        None => None,
        Some(p) if p.trim().is_empty() => Some(None),
        Some(p) => Some(Some(normalize_phone(&p).map_err(AppError::bad)?)),
    };
    let region = input
        .region
        .map(|r| r.trim().parse::<Region>())
        .transpose()
        .map_err(|e| AppError::bad(format!("region: {e}")))?;
    let language = match input.language {
        None => None,
        Some(l) => {
            let l = l.trim().to_string();
            if !LANGUAGES.contains(&l.as_str()) {
                return Err(AppError::bad(format!(
                    "language: unknown language {l:?}; expected one of {}",
                    LANGUAGES.join(", ")
                )));
            }
            Some(l)
        }
    };
    Ok(Edit {
        first_name: name_field("first_name", input.first_name)?,
        last_name: name_field("last_name", input.last_name)?,
        phone,
        region,
        language,
    })
}

fn phone_taken(phone: &str) -> AppError {
    AppError::Conflict(format!("phone: {phone} already belongs to another user")).noted()
}

/// Whether the person could still sign in: with Telegram, or with a phone and a password.
fn can_sign_in(telegram: bool, phone: bool, password: bool) -> bool {
    telegram || (phone && password)
}

/// Writes the fields of `edit` that differ from the row and returns them as
/// `{field: {old, new}}` (empty: nothing changed, nothing written). Locks the row.
pub async fn apply_edit(
    tx: &mut sqlx::PgConnection,
    user_id: &str,
    edit: &Edit,
) -> Result<Map<String, Value>, AppError> {
    let cur = sqlx::query!(
        r#"SELECT "firstName" AS first_name, "lastName" AS last_name, "phone",
                  "region" AS "region: Region", "language", "telegramId" IS NOT NULL AS "telegram!",
                  "passwordHash" IS NOT NULL AS "password!", "erasedAt" IS NOT NULL AS "erased!"
           FROM "User" WHERE "id" = $1 FOR UPDATE"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    if cur.erased {
        return Err(AppError::Conflict(
            "this user's personal data was erased; the record cannot be edited".into(),
        )
        .noted());
    }
    let mut changes = Map::new();
    let mut note = |field: &str, old: Value, new: Value| {
        if old != new {
            changes.insert(field.into(), json!({ "old": old, "new": new }));
            true
        } else {
            false
        }
    };
    let first = edit
        .first_name
        .as_ref()
        .filter(|v| note("firstName", json!(cur.first_name), json!(v)));
    let last = edit
        .last_name
        .as_ref()
        .filter(|v| note("lastName", json!(cur.last_name), json!(v)));
    let phone = edit
        .phone
        .as_ref()
        .filter(|v| note("phone", json!(cur.phone), json!(v)));
    let region = edit
        .region
        .filter(|v| note("region", json!(cur.region), json!(v)));
    let language = edit
        .language
        .as_ref()
        .filter(|v| note("language", json!(cur.language), json!(v)));
    if changes.is_empty() {
        return Ok(changes);
    }
    if let Some(new_phone) = phone {
        match new_phone {
            Some(p) => {
                let holder = sqlx::query_scalar!(
                    r#"SELECT "id" FROM "User" WHERE "phone" = $1 AND "id" <> $2"#,
                    p,
                    user_id
                )
                .fetch_optional(&mut *tx)
                .await?;
                if holder.is_some() {
                    return Err(phone_taken(p));
                }
            }
            None => {
                if can_sign_in(cur.telegram, cur.phone.is_some(), cur.password)
                    && !can_sign_in(cur.telegram, false, cur.password)
                {
                    return Err(AppError::Conflict(
                        "phone: without it the user would have no way to sign in (no Telegram linked)"
                            .into(),
                    )
                    .noted());
                }
            }
        }
    }
    let written = sqlx::query!(
        r#"UPDATE "User" SET
               "firstName" = CASE WHEN $2 THEN $3 ELSE "firstName" END,
               "lastName" = CASE WHEN $4 THEN $5 ELSE "lastName" END,
               "phone" = CASE WHEN $6 THEN $7 ELSE "phone" END,
               "region" = CASE WHEN $8 THEN $9::"Region" ELSE "region" END,
               "language" = CASE WHEN $10 THEN $11 ELSE "language" END,
               "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1"#,
        user_id,
        first.is_some(),
        first.cloned().flatten(),
        last.is_some(),
        last.cloned().flatten(),
        phone.is_some(),
        phone.cloned().flatten(),
        region.is_some(),
        region.unwrap_or(cur.region) as Region,
        language.is_some(),
        language.cloned().unwrap_or(cur.language),
    )
    .execute(&mut *tx)
    .await;
    match written {
        Ok(_) => Ok(changes),
        // Another transaction took the phone between the check and the write.
        Err(sqlx::Error::Database(d)) if d.constraint() == Some("User_phone_key") => Err(
            phone_taken(phone.cloned().flatten().as_deref().unwrap_or("this number")),
        ),
        Err(e) => Err(e.into()),
    }
}

fn field_label(f: &str) -> &str {
    match f {
        "firstName" => "first name",
        "lastName" => "last name",
        other => other,
    }
}

fn saved(changes: &Map<String, Value>) -> Done {
    let fields: Vec<&str> = changes.keys().map(|k| field_label(k)).collect();
    Done::new(format!("Saved: {}.", fields.join(", ")))
}

pub async fn edit(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    input: EditInput,
) -> Result<Done, AppError> {
    let edit = parse_edit(input)?;
    let mut tx = state.pool.begin().await?;
    lock_target(&mut tx, me, user_id).await?;
    let changes = apply_edit(&mut tx, user_id, &edit).await?;
    if changes.is_empty() {
        return Ok(Done::new("Nothing changed."));
    }
    staff_action(
        &mut tx,
        me,
        "ADMIN_EDIT",
        user_id,
        json!({ "changes": changes }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, target = user_id, fields = ?changes.keys().collect::<Vec<_>>(), "user edited");
    Ok(saved(&changes))
}

/// The person's own edit from /account: names and language only.
pub async fn edit_own(
    state: &AppState,
    me: &CurrentUser,
    input: EditInput,
) -> Result<Done, AppError> {
    let edit = parse_edit(EditInput {
        phone: None,
        region: None,
        ..input
    })?;
    let mut tx = state.pool.begin().await?;
    let changes = apply_edit(&mut tx, &me.id, &edit).await?;
    if changes.is_empty() {
        return Ok(Done::new("Nothing changed."));
    }
    insert_event(
        &mut *tx,
        &NewEvent {
            user_id: me.id.clone(),
            event_type: "PROFILE_UPDATE".into(),
            platform: Platform::Web,
            metadata: json!({ "changes": changes, "by": "self" }),
            ip: None,
            user_agent: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(saved(&changes))
}

// ---------------------------------------------------------------------------------------
// Telegram

pub fn parse_telegram_id(raw: &str) -> Result<i64, AppError> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(AppError::bad(
            "telegram_id: a Telegram user id is a positive whole number",
        )),
    }
}

pub fn parse_telegram_username(raw: Option<String>) -> Result<Option<String>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    let u = raw.trim().trim_start_matches('@');
    if u.is_empty() {
        return Ok(None);
    }
    if u.len() > 32 || !u.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(AppError::bad(
            "telegram_username: letters, digits and _ only, at most 32",
        ));
    }
    Ok(Some(u.to_string()))
}

fn held_by(user_id: &str, telegram_id: i64, holder: Option<&str>) -> AppError {
    let msg = match holder {
        Some(h) => format!(
            "telegram_id: Telegram id {telegram_id} already belongs to user {h}; if they are one person, merge them: /admin/users/{}/merge?other={}",
            urlencode(user_id),
            urlencode(h)
        ),
        None => format!("telegram_id: Telegram id {telegram_id} already belongs to another user"),
    };
    AppError::Conflict(msg).noted()
}

pub async fn link_telegram(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    telegram_id: &str,
    username: Option<String>,
) -> Result<Done, AppError> {
    let telegram_id = parse_telegram_id(telegram_id)?;
    let username = parse_telegram_username(username)?;
    let mut tx = state.pool.begin().await?;
    let target = lock_target(&mut tx, me, user_id).await?;
    refuse_erased(&target)?;
    let current = sqlx::query_scalar!(
        r#"SELECT "telegramId" AS telegram_id FROM "User" WHERE "id" = $1"#,
        user_id
    )
    .fetch_one(&mut *tx)
    .await?;
    match current {
        Some(t) if t == telegram_id => {
            return Ok(Done::new(format!(
                "Already linked to Telegram id {t}; nothing changed."
            )))
        }
        Some(t) => {
            return Err(AppError::Conflict(format!(
                "telegram_id: this user is linked to Telegram id {t}; unlink it first"
            ))
            .noted())
        }
        None => {}
    }
    let holder = sqlx::query_scalar!(
        r#"SELECT "id" FROM "User" WHERE "telegramId" = $1"#,
        telegram_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(h) = holder {
        return Err(held_by(user_id, telegram_id, Some(&h)));
    }
    let written = sqlx::query!(
        r#"UPDATE "User" SET "telegramId" = $2, "telegramUsername" = $3, "telegramPhotoUrl" = NULL,
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1"#,
        user_id,
        telegram_id,
        username,
    )
    .execute(&mut *tx)
    .await;
    match written {
        Ok(_) => {}
        Err(sqlx::Error::Database(d)) if d.constraint() == Some("User_telegramId_key") => {
            return Err(held_by(user_id, telegram_id, None))
        }
        Err(e) => return Err(e.into()),
    }
    staff_action(
        &mut tx,
        me,
        "TELEGRAM_LINKED",
        user_id,
        json!({ "telegramId": telegram_id, "telegramUsername": username, "by": "staff" }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, target = user_id, "telegram linked by staff");
    Ok(Done::new(format!("Linked to Telegram id {telegram_id}.")))
}

/// Clears the Telegram identity of `user_id` unless that would leave no way to sign in;
/// returns the Telegram id it had (`None`: nothing was linked, nothing written).
async fn clear_telegram(
    tx: &mut sqlx::PgConnection,
    user_id: &str,
    whose: &str,
) -> Result<Option<i64>, AppError> {
    let u = sqlx::query!(
        r#"SELECT "telegramId" AS telegram_id, "phone" IS NOT NULL AS "phone!",
                  "passwordHash" IS NOT NULL AS "password!"
           FROM "User" WHERE "id" = $1 FOR UPDATE"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    let Some(old) = u.telegram_id else {
        return Ok(None);
    };
    if !can_sign_in(false, u.phone, u.password) {
        return Err(AppError::Conflict(format!(
            "telegram: without Telegram {whose} no way to sign in: a phone and a password are needed first"
        ))
        .noted());
    }
    sqlx::query!(
        r#"UPDATE "User" SET "telegramId" = NULL, "telegramUsername" = NULL, "telegramPhotoUrl" = NULL,
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1"#,
        user_id
    )
    .execute(&mut *tx)
    .await?;
    Ok(Some(old))
}

pub async fn unlink_telegram(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
) -> Result<Done, AppError> {
    let mut tx = state.pool.begin().await?;
    lock_target(&mut tx, me, user_id).await?;
    let Some(old) = clear_telegram(&mut tx, user_id, "the user would have").await? else {
        return Ok(Done::new("No Telegram account is linked; nothing changed."));
    };
    staff_action(
        &mut tx,
        me,
        "TELEGRAM_UNLINKED",
        user_id,
        json!({ "telegramId": old, "by": "staff" }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, target = user_id, "telegram unlinked by staff");
    Ok(Done::new("Telegram unlinked."))
}

pub async fn unlink_own_telegram(state: &AppState, me: &CurrentUser) -> Result<Done, AppError> {
    let mut tx = state.pool.begin().await?;
    let Some(old) = clear_telegram(&mut tx, &me.id, "you would have").await? else {
        return Ok(Done::new("No Telegram account is linked; nothing changed."));
    };
    insert_event(
        &mut *tx,
        &NewEvent {
            user_id: me.id.clone(),
            event_type: "TELEGRAM_UNLINKED".into(),
            platform: Platform::Web,
            metadata: json!({ "telegramId": old, "by": "self" }),
            ip: None,
            user_agent: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Done::new("Telegram unlinked."))
}

// ---------------------------------------------------------------------------------------
// Block, unblock, erase

fn refuse_self(me: &CurrentUser, user_id: &str, what: &str) -> Result<(), AppError> {
    if me.id == user_id {
        return Err(AppError::bad(format!(
            "user_id: you cannot {what} yourself"
        )));
    }
    Ok(())
}

fn refuse_erased(target: &Target) -> Result<(), AppError> {
    if target.erased {
        return Err(AppError::Conflict(
            "this user's personal data was erased; nothing else can be done with the record".into(),
        )
        .noted());
    }
    Ok(())
}

/// Taking a SUPER_ADMIN out of service must leave another one who can still sign in.
/// Their rows are locked, so two SUPER_ADMINs acting on each other at once cannot both
/// pass (one waits, or the database breaks the deadlock and the answer says try again).
async fn keep_a_super_admin(tx: &mut sqlx::PgConnection, target: &Target) -> Result<(), AppError> {
    if target.role != Role::SuperAdmin {
        return Ok(());
    }
    let others = sqlx::query_scalar!(
        r#"SELECT "id" FROM "User"
           WHERE "role" = 'SUPER_ADMIN' AND "id" <> $1 AND "blockedAt" IS NULL AND "erasedAt" IS NULL
           ORDER BY "id" FOR UPDATE"#,
        target.id
    )
    .fetch_all(&mut *tx)
    .await?;
    if others.is_empty() {
        return Err(AppError::Conflict(
            "the last SUPER_ADMIN who can sign in stays; make someone else SUPER_ADMIN first"
                .into(),
        )
        .noted());
    }
    Ok(())
}

pub fn parse_reason(raw: &str) -> Result<String, AppError> {
    let r = raw.trim();
    let n = r.chars().count();
    if n == 0 {
        return Err(AppError::bad("reason: say why the user is blocked"));
    }
    if n > MAX_REASON {
        return Err(AppError::bad(format!(
            "reason: at most {MAX_REASON} characters"
        )));
    }
    Ok(r.to_string())
}

async fn end_sessions(tx: &mut sqlx::PgConnection, user_id: &str) -> Result<u64, AppError> {
    Ok(
        sqlx::query!(r#"DELETE FROM "Session" WHERE "userId" = $1"#, user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
    )
}

pub async fn block(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    reason: &str,
) -> Result<Done, AppError> {
    let reason = parse_reason(reason)?;
    let mut tx = state.pool.begin().await?;
    let target = lock_target(&mut tx, me, user_id).await?;
    refuse_self(me, user_id, "block")?;
    refuse_erased(&target)?;
    if target.blocked {
        return Err(AppError::Conflict(
            "this user is already blocked; unblock first to record another reason".into(),
        )
        .noted());
    }
    keep_a_super_admin(&mut tx, &target).await?;
    sqlx::query!(
        r#"UPDATE "User" SET "blockedAt" = now() AT TIME ZONE 'UTC', "blockedReason" = $2,
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1"#,
        user_id,
        reason
    )
    .execute(&mut *tx)
    .await?;
    // Deleted in the same transaction: no request can find the person both blocked and
    // still signed in, and bearer tokens are session rows too.
    let ended = end_sessions(&mut tx, user_id).await?;
    staff_action(
        &mut tx,
        me,
        "ADMIN_BLOCK",
        user_id,
        json!({ "reason": reason, "sessionsEnded": ended }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, target = user_id, sessions = ended, "user blocked");
    Ok(Done::new(format!(
        "Blocked; {ended} session{} ended.",
        if ended == 1 { "" } else { "s" }
    )))
}

pub async fn unblock(state: &AppState, me: &CurrentUser, user_id: &str) -> Result<Done, AppError> {
    let mut tx = state.pool.begin().await?;
    let target = lock_target(&mut tx, me, user_id).await?;
    refuse_self(me, user_id, "unblock")?;
    if !target.blocked {
        return Ok(Done::new("This user is not blocked; nothing changed."));
    }
    sqlx::query!(
        r#"UPDATE "User" SET "blockedAt" = NULL, "blockedReason" = NULL,
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1"#,
        user_id
    )
    .execute(&mut *tx)
    .await?;
    staff_action(&mut tx, me, "ADMIN_UNBLOCK", user_id, json!({})).await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, target = user_id, "user unblocked");
    Ok(Done::new("Unblocked; the user can sign in again."))
}

pub async fn erase(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    confirm: &str,
) -> Result<Done, AppError> {
    let mut tx = state.pool.begin().await?;
    let target = lock_target(&mut tx, me, user_id).await?;
    if confirm != user_id {
        return Err(AppError::bad(
            "confirm: type the user's id exactly as shown to erase them",
        ));
    }
    refuse_self(me, user_id, "erase")?;
    if target.erased {
        return Err(AppError::Conflict("this user was already erased".into()).noted());
    }
    keep_a_super_admin(&mut tx, &target).await?;
    sqlx::query!(
        r#"UPDATE "User" SET "firstName" = NULL, "lastName" = NULL, "phone" = NULL,
                  "telegramId" = NULL, "telegramUsername" = NULL, "telegramPhotoUrl" = NULL,
                  "passwordHash" = NULL, "blockedReason" = NULL, "role" = 'USER',
                  "passwordChangeRequired" = false, "erasedAt" = now() AT TIME ZONE 'UTC',
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1"#,
        user_id
    )
    .execute(&mut *tx)
    .await?;
    let ended = end_sessions(&mut tx, user_id).await?;
    sqlx::query!(
        r#"DELETE FROM "TelegramLoginReplay" WHERE "userId" = $1"#,
        user_id
    )
    .execute(&mut *tx)
    .await?;
    let own_keys: Vec<String> = PERSONAL_KEYS.iter().map(|k| k.to_string()).collect();
    // The person's own events keep their type, time and platform (counts stay true); what
    // identifies them goes: address, device, personal keys, and the values of `changes`
    // (their names before and after an edit). Only top-level keys are looked at.
    let scrubbed = sqlx::query!(
        r#"UPDATE "EventLog" SET "ipAddress" = NULL, "userAgent" = NULL,
               "metadata" = CASE WHEN jsonb_typeof("metadata") = 'object' THEN
                   ("metadata" - $2::text[]) ||
                   CASE WHEN jsonb_typeof("metadata" -> 'changes') = 'object' THEN
                       jsonb_build_object('changes', (SELECT COALESCE(jsonb_object_agg(k, '{}'::jsonb), '{}'::jsonb)
                                                      FROM jsonb_object_keys("metadata" -> 'changes') AS k))
                   ELSE '{}'::jsonb END
               ELSE "metadata" END
           WHERE "userId" = $1
             AND ("ipAddress" IS NOT NULL OR "userAgent" IS NOT NULL
                  OR (jsonb_typeof("metadata") = 'object' AND ("metadata" ?| $2::text[] OR "metadata" ? 'changes')))"#,
        user_id,
        &own_keys,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Staff actions naming them are the staff member's rows: their address stays, but what
    // they recorded about the person (Telegram ids, block reasons, edited values) goes.
    let mut staff_keys = own_keys.clone();
    staff_keys.push("reason".into());
    sqlx::query!(
        r#"UPDATE "EventLog" SET
               "metadata" = ("metadata" - $2::text[]) ||
                   CASE WHEN jsonb_typeof("metadata" -> 'changes') = 'object' THEN
                       jsonb_build_object('changes', (SELECT COALESCE(jsonb_object_agg(k, '{}'::jsonb), '{}'::jsonb)
                                                      FROM jsonb_object_keys("metadata" -> 'changes') AS k))
                   ELSE '{}'::jsonb END
           WHERE "metadata" ? 'targetUserId' AND "metadata" ->> 'targetUserId' = $1 AND "userId" <> $1"#,
        user_id,
        &staff_keys,
    )
    .execute(&mut *tx)
    .await?;
    staff_action(
        &mut tx,
        me,
        "ADMIN_ERASE",
        user_id,
        json!({ "sessionsEnded": ended, "eventsScrubbed": scrubbed }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, target = user_id, sessions = ended, events = scrubbed, "user erased");
    Ok(
        Done::new("Erased: the personal data is gone; the anonymous record stays.")
            .then_go(format!("/admin/users/{}", urlencode(user_id))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_validated_field_by_field() {
        let e = parse_edit(EditInput {
            first_name: Some("  Ali ".into()),
            last_name: Some("   ".into()),
            phone: Some("90 123 45 67".into()),
            region: Some("KZ".into()),
            language: Some("ru".into()),
        })
        .unwrap();
        assert_eq!(e.first_name, Some(Some("Ali".into())));
        assert_eq!(e.last_name, Some(None));
        assert_eq!(e.phone, Some(Some("+998901234567".into())));
        assert_eq!(e.region, Some(Region::Kz));
        let field = |input: EditInput| match parse_edit(input) {
            Err(AppError::BadRequest(m)) => m.split(':').next().unwrap().to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(EditInput {
                first_name: Some("x".repeat(201)),
                ..Default::default()
            }),
            "first_name"
        );
        assert_eq!(
            field(EditInput {
                phone: Some("abc".into()),
                ..Default::default()
            }),
            "phone"
        );
        assert_eq!(
            field(EditInput {
                region: Some("MARS".into()),
                ..Default::default()
            }),
            "region"
        );
        assert_eq!(
            field(EditInput {
                language: Some("de".into()),
                ..Default::default()
            }),
            "language"
        );
        assert!(parse_edit(EditInput {
            first_name: Some("é".repeat(200)),
            ..Default::default()
        })
        .is_ok());
    }

    #[test]
    fn telegram_fields_and_reasons() {
        assert_eq!(parse_telegram_id(" 42 ").unwrap(), 42);
        assert!(parse_telegram_id("0").is_err());
        assert!(parse_telegram_id("-5").is_err());
        assert!(parse_telegram_id("9223372036854775808").is_err());
        assert_eq!(
            parse_telegram_username(Some("@ali_1".into())).unwrap(),
            Some("ali_1".into())
        );
        assert_eq!(parse_telegram_username(Some(" ".into())).unwrap(), None);
        assert!(parse_telegram_username(Some("a b".into())).is_err());
        assert!(parse_reason("  ").is_err());
        assert!(parse_reason(&"x".repeat(501)).is_err());
        assert_eq!(parse_reason(" spam ").unwrap(), "spam");
    }

    #[test]
    fn sign_in_ways() {
        assert!(can_sign_in(true, false, false));
        assert!(can_sign_in(false, true, true));
        assert!(!can_sign_in(false, true, false));
        assert!(!can_sign_in(false, false, true));
    }
}
