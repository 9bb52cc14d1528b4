//! Server-only parts of the staff page.

use super::{StaffList, StaffRow};
use crate::account::password::ssr::check_new_password;
use crate::auth::ssr::{hash_password, normalize_phone, MIN_PASSWORD_LEN};
use crate::auth::{display_name, CurrentUser};
use crate::config::Secret;
use crate::error::AppError;
use crate::forms::Done;
use crate::model::Role;
use crate::state::AppState;
use crate::time_fmt::local;
use crate::users::detail_ssr::{lock_target, role_choices, staff_action};

fn parse_role(v: &str) -> Result<Role, AppError> {
    v.trim()
        .parse::<Role>()
        .map_err(|e| AppError::bad(format!("role: {e}")))
}

pub async fn list(state: &AppState, me: &CurrentUser) -> Result<StaffList, AppError> {
    let tz = state.config.timezone;
    // The roles are named, not compared: a legacy "UserRole" enum may have gained its
    // values in another order than the Rust one.
    let rows = sqlx::query!(
        r#"SELECT u."id", u."firstName" AS first_name, u."lastName" AS last_name, u."phone",
                  u."telegramId" AS telegram_id, u."telegramUsername" AS telegram_username,
                  u."role" AS "role: Role", u."blockedAt" IS NOT NULL AS "blocked!",
                  u."passwordChangeRequired" AS pending_password,
                  (SELECT e."createdAt" FROM "EventLog" e
                   WHERE e."userId" = u."id" AND e."eventType" = 'LOGIN'
                   ORDER BY e."createdAt" DESC LIMIT 1) AS last_login
           FROM "User" u
           WHERE u."role" IN ('SUPPORT', 'ADMIN', 'SUPER_ADMIN')"#
    )
    .fetch_all(&state.pool)
    .await?;
    let mut rows: Vec<StaffRow> = rows
        .into_iter()
        .map(|r| StaffRow {
            name: display_name(
                r.first_name.as_deref(),
                r.last_name.as_deref(),
                r.phone.as_deref(),
                r.telegram_username.as_deref(),
            ),
            is_me: r.id == me.id,
            role_choices: role_choices(me.role, r.role),
            id: r.id,
            phone: r.phone,
            telegram_id: r.telegram_id,
            role: r.role,
            last_sign_in: r.last_login.map(|t| local(tz, t)),
            blocked: r.blocked,
            pending_password: r.pending_password,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.role
            .cmp(&a.role)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(StaffList {
        rows,
        min_password_len: MIN_PASSWORD_LEN,
    })
}

pub async fn grant(
    state: &AppState,
    me: &CurrentUser,
    phone: &str,
    telegram_id: &str,
    role: &str,
) -> Result<Done, AppError> {
    if role.trim().is_empty() {
        return Err(AppError::bad("role: choose SUPPORT, ADMIN or SUPER_ADMIN"));
    }
    let role = parse_role(role)?;
    if !role.is_staff() {
        return Err(AppError::bad(
            "role: choose SUPPORT, ADMIN or SUPER_ADMIN; to take a staff role away, change it in the list",
        ));
    }
    let (phone, telegram_id) = (phone.trim(), telegram_id.trim());
    let found = match (phone.is_empty(), telegram_id.is_empty()) {
        (true, true) => {
            return Err(AppError::bad(
                "phone: give the person's phone number or their Telegram id",
            ))
        }
        (false, false) => {
            return Err(AppError::bad(
                "telegram_id: give either a phone number or a Telegram id, not both",
            ))
        }
        (false, true) => {
            let phone = normalize_phone(phone).map_err(AppError::bad)?;
            sqlx::query!(
                r#"SELECT "id", "role" AS "role: Role", "erasedAt" IS NOT NULL AS "erased!",
                          "firstName" AS first_name, "lastName" AS last_name, "phone",
                          "telegramUsername" AS telegram_username
                   FROM "User" WHERE "phone" = $1"#,
                phone
            )
            .fetch_optional(&state.pool)
            .await?
            .map(|r| {
                (
                    r.id,
                    r.role,
                    r.erased,
                    display_name(
                        r.first_name.as_deref(),
                        r.last_name.as_deref(),
                        r.phone.as_deref(),
                        r.telegram_username.as_deref(),
                    ),
                )
            })
            .ok_or_else(|| AppError::not_found(format!("phone: user with {phone}")))?
        }
        (true, false) => {
            let tid = telegram_id
                .parse::<i64>()
                .ok()
                .filter(|t| *t > 0)
                .ok_or_else(|| {
                    AppError::bad("telegram_id: a Telegram id is a positive whole number")
                })?;
            sqlx::query!(
                r#"SELECT "id", "role" AS "role: Role", "erasedAt" IS NOT NULL AS "erased!",
                          "firstName" AS first_name, "lastName" AS last_name, "phone",
                          "telegramUsername" AS telegram_username
                   FROM "User" WHERE "telegramId" = $1"#,
                tid
            )
            .fetch_optional(&state.pool)
            .await?
            .map(|r| {
                (
                    r.id,
                    r.role,
                    r.erased,
                    display_name(
                        r.first_name.as_deref(),
                        r.last_name.as_deref(),
                        r.phone.as_deref(),
                        r.telegram_username.as_deref(),
                    ),
                )
            })
            .ok_or_else(|| AppError::not_found(format!("telegram_id: user with {tid}")))?
        }
    };
    let (id, current, erased, name) = found;
    if erased {
        return Err(AppError::Conflict(
            "this person's data was erased on request; they cannot be staff".into(),
        )
        .noted());
    }
    if current == role {
        return Ok(Done::new(format!("{name} is already {}.", role.label())));
    }
    crate::users::detail_ssr::set_role(state, me, &id, role).await?;
    Ok(Done::new(format!("{name} is now {}.", role.label())))
}

pub async fn set_role(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    role: &str,
) -> Result<Done, AppError> {
    let role = parse_role(role)?;
    crate::users::detail_ssr::set_role(state, me, user_id, role).await?;
    Ok(Done::new(if role.is_staff() {
        format!("Role changed to {}.", role.label())
    } else {
        "The staff role was taken away.".to_string()
    }))
}

pub async fn set_temporary_password(
    state: &AppState,
    me: &CurrentUser,
    user_id: &str,
    password: Secret,
) -> Result<Done, AppError> {
    if user_id == me.id {
        return Err(AppError::bad(
            "user_id: change your own password on /account/password",
        ));
    }
    check_new_password("password", password.expose())?;
    // Hashing takes a while: done before any row is locked.
    let hash = hash_password(password).await?;
    let mut tx = state.pool.begin().await?;
    let target = lock_target(&mut tx, me, user_id).await?;
    if !target.role.is_staff() {
        return Err(AppError::Conflict(
            "user_id: one-time passwords are only for staff members".into(),
        )
        .noted());
    }
    if target.erased {
        return Err(
            AppError::Conflict("user_id: this person's data was erased on request".into()).noted(),
        );
    }
    let who = sqlx::query!(
        r#"UPDATE "User" SET "passwordHash" = $2, "passwordChangeRequired" = true,
                  "updatedAt" = now() AT TIME ZONE 'UTC'
           WHERE "id" = $1
           RETURNING "phone", "firstName" AS first_name, "lastName" AS last_name,
                     "telegramUsername" AS telegram_username"#,
        target.id,
        hash
    )
    .fetch_one(&mut *tx)
    .await?;
    if who.phone.is_none() {
        // A password signs in only together with a phone number.
        return Err(AppError::Conflict(
            "user_id: this staff member has no phone number, so a password would not let them sign in"
                .into(),
        )
        .noted());
    }
    let ended = sqlx::query!(r#"DELETE FROM "Session" WHERE "userId" = $1"#, target.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    staff_action(
        &mut tx,
        me,
        "ADMIN_SET_PASSWORD",
        &target.id,
        serde_json::json!({ "sessionsEnded": ended, "oneTime": true }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %me.id, target = %target.id, sessions_ended = ended, "one-time password set");
    let name = display_name(
        who.first_name.as_deref(),
        who.last_name.as_deref(),
        who.phone.as_deref(),
        who.telegram_username.as_deref(),
    );
    Ok(Done::new(format!(
        "One-time password set for {name}; {ended} session(s) ended. Tell them the password \
         privately: they must choose their own at the next sign-in."
    )))
}
