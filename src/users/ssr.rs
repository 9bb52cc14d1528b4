//! Queries behind the users pages: the filtered list (and its CSV export), the pivot, and
//! one user's profile, sessions, staff actions and timeline.

use super::{PivotCell, UserListQuery, UserRow, UsersPage};
use crate::auth::ssr::{sign_value, verify_value};
use crate::auth::{display_name, CurrentUser};
use crate::config::Secret;
use crate::error::AppError;
use crate::model::{Platform, Region, Role};
use crate::state::AppState;
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The list's position: the last row's sort key. Signed so that a client cannot hand the
/// query arbitrary values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    /// `c` for the created sort, `n` for the name sort: a cursor of one sort is no
    /// position in the other.
    pub k: char,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Created,
    Name,
}

impl Sort {
    fn key(self) -> char {
        match self {
            Sort::Created => 'c',
            Sort::Name => 'n',
        }
    }
}

/// What a search asks for. Names, handles and phone digits are matched as substrings of the
/// folded `"searchText"`; a number may also be a Telegram id, a single token a user id.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub words: Vec<String>,
    pub digits: Option<String>,
    pub telegram_id: Option<i64>,
    pub user_id: Option<String>,
}

pub struct Filters {
    pub source: Option<Platform>,
    pub region: Option<Region>,
    pub role: Option<Role>,
    pub lang: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub has_telegram: Option<bool>,
    pub has_phone: Option<bool>,
    pub search: Option<Search>,
    pub sort: Sort,
    pub per_page: i64,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
}

impl Filters {
    /// Only source and region: the rollup answers the count exactly.
    fn counted_by_rollup(&self) -> bool {
        self.role.is_none()
            && self.lang.is_none()
            && self.from.is_none()
            && self.to.is_none()
            && self.has_telegram.is_none()
            && self.has_phone.is_none()
            && self.search.is_none()
    }
}

const MAX_WORDS: usize = 5;
const MAX_QUERY_CHARS: usize = 200;
/// Beyond this a count would scan too much to be instant; the page says "more than".
pub const COUNT_CAP: i64 = 10_000;

fn enum_param<T: std::str::FromStr<Err = String>>(
    name: &str,
    v: &Option<String>,
) -> Result<Option<T>, AppError> {
    v.as_deref()
        .map(|s| s.parse::<T>())
        .transpose()
        .map_err(|e| AppError::bad(format!("{name}: {e}")))
}

fn bool_param(name: &str, v: &Option<String>) -> Result<Option<bool>, AppError> {
    match v.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(AppError::bad(format!(
            "{name}: {other:?} is neither true nor false"
        ))),
    }
}

pub fn date_param(name: &str, v: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    v.as_deref()
        .map(|s| {
            // chrono alone would also take "2024-1-1" and "-2024-01-01".
            let shaped = s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            shaped
                .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .flatten()
                .ok_or_else(|| {
                    let shown: String = s.chars().take(40).collect();
                    AppError::bad(format!("{name}: {shown:?} is not a date (YYYY-MM-DD)"))
                })
        })
        .transpose()
}

/// A signed page cursor from the URL: `purpose` keeps one list's cursors out of another,
/// `accept` rejects a genuine cursor that belongs to another view of the same list.
pub fn cursor_param<T: for<'de> Deserialize<'de>>(
    secret: &Secret,
    purpose: &str,
    name: &str,
    v: Option<&str>,
    accept: impl Fn(&T) -> bool,
    restart: &str,
) -> Result<Option<T>, AppError> {
    v.map(|c| {
        verify_value::<T>(secret, purpose, c)
            .filter(|c| accept(c))
            .ok_or_else(|| {
                AppError::bad(format!(
                    "{name}: the page link is damaged or was altered; {restart}"
                ))
            })
    })
    .transpose()
}

/// The UTC instant at which a local day starts in `tz`.
pub fn day_start_utc(tz: Tz, day: NaiveDate) -> NaiveDateTime {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.naive_utc(),
        // A day that starts in a DST gap starts at the first instant that exists.
        chrono::LocalResult::None => tz
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.naive_utc())
            .unwrap_or(midnight),
    }
}

pub fn parse_search(raw: &str) -> Result<Option<Search>, AppError> {
    let q = raw.trim();
    if q.is_empty() {
        return Ok(None);
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::bad(format!(
            "q: at most {MAX_QUERY_CHARS} characters"
        )));
    }
    if q.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(AppError::bad(
            "q: control characters (such as NUL) cannot be searched for",
        ));
    }
    let mut s = Search::default();
    let phone_like = q.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if phone_like && digits.len() >= 3 {
        s.telegram_id = digits.parse::<i64>().ok().filter(|n| *n > 0);
        s.digits = Some(digits);
    } else {
        s.words = q
            .split_whitespace()
            .map(|w| {
                // A phone beside a name ("Javohir +998 93 …"): its digits, as the column
                // keeps them.
                if w.chars().all(|c| c.is_ascii_digit() || "+-()".contains(c))
                    && w.chars().filter(char::is_ascii_digit).count() >= 3
                {
                    w.chars().filter(char::is_ascii_digit).collect()
                } else {
                    w.trim_start_matches('@').to_string()
                }
            })
            .filter(|w| !w.is_empty())
            .collect();
        if s.words.len() > MAX_WORDS {
            return Err(AppError::bad(format!("q: at most {MAX_WORDS} words")));
        }
    }
    if !q.contains(char::is_whitespace) && q.len() <= 64 {
        // Ids are stored as given (cuids, or UUIDs in lower case); a UUID pasted in upper
        // case or without hyphens is still that id.
        s.user_id = Some(match uuid::Uuid::try_parse(q) {
            Ok(u) => u.hyphenated().to_string(),
            Err(_) => q.to_string(),
        });
    }
    Ok(Some(s))
}

pub fn parse(state: &AppState, q: &UserListQuery) -> Result<Filters, AppError> {
    let tz = state.config.timezone;
    let lang = match q.lang.as_deref() {
        None => None,
        Some(l) if (2..=8).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()) => {
            Some(l.to_string())
        }
        Some(l) => {
            return Err(AppError::bad(format!(
                "lang: {l:?} is not a language code such as uz, ru or en"
            )))
        }
    };
    let from = date_param("created_from", &q.created_from)?;
    let to = date_param("created_to", &q.created_to)?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(AppError::bad(
                "created_from, created_to: the range ends before it starts",
            ));
        }
    }
    let sort = match q.sort.as_deref() {
        None | Some("created") => Sort::Created,
        Some("name") => Sort::Name,
        Some(other) => {
            return Err(AppError::bad(format!(
                "sort: {other:?} is not one of created, name"
            )))
        }
    };
    let per_page = match q.per_page.as_deref() {
        None => 50,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                return Err(AppError::bad(format!(
                    "per_page: {v:?} is not a number from 1 to 200"
                )))
            }
        },
    };
    let secret = portal_secret(state)?;
    let cursor = |name: &str, v: &Option<String>| {
        cursor_param::<Cursor>(
            secret,
            "users",
            name,
            v.as_deref(),
            |c| c.k == sort.key(),
            "start from the first page",
        )
    };
    let after = cursor("after", &q.after)?;
    let before = cursor("before", &q.before)?;
    if after.is_some() && before.is_some() {
        return Err(AppError::bad("after, before: give one of them, not both"));
    }
    Ok(Filters {
        source: enum_param("source", &q.source)?,
        region: enum_param("region", &q.region)?,
        role: enum_param("role", &q.role)?,
        lang,
        from: from.map(|d| day_start_utc(tz, d)),
        to: to.map(|d| day_start_utc(tz, d + chrono::Duration::days(1))),
        has_telegram: bool_param("has_telegram", &q.has_telegram)?,
        has_phone: bool_param("has_phone", &q.has_phone)?,
        search: q.q.as_deref().map(parse_search).transpose()?.flatten(),
        sort,
        per_page,
        after,
        before,
    })
}

pub fn portal_secret(state: &AppState) -> Result<&Secret, AppError> {
    state
        .config
        .require_portal_secret()
        .map_err(|_| AppError::Internal)
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A search as LIKE patterns over `"searchText"`: a match has every pattern of `like`, and
/// one of the two patterns of each pair in `either`.
#[derive(Debug, Default, PartialEq)]
pub struct Patterns {
    pub like: Vec<String>,
    pub either: Vec<(String, String)>,
}

/// The patterns of a search, folded by the database's own `portal_fold` so the query and
/// the column can never fold differently.
pub async fn search_patterns(pool: &sqlx::PgPool, s: &Search) -> Result<Patterns, AppError> {
    if let Some(d) = &s.digits {
        return Ok(Patterns {
            like: vec![format!("%{d}%")],
            either: vec![],
        });
    }
    let folded = sqlx::query_scalar!(
        r#"SELECT portal_fold(w) AS "f!" FROM unnest($1::text[]) WITH ORDINALITY AS t(w, n) ORDER BY n"#,
        &s.words
    )
    .fetch_all(pool)
    .await?;
    Ok(patterns(folded))
}

/// Words of three or more folded characters match anywhere, through the trigram index.
/// Shorter ones have no trigram: alone, the first matches the start of the record ("Ja");
/// beside a longer word, each must start a word of the record ("Javohir R").
///
/// A word cut short inside a spelling the fold makes one letter ("Shak…" of Shakhzod, kept
/// as "shahzod"; "…z" of "zh", kept as "j") is looked up by the letters before it and then
/// matched either way, so typing a name letter by letter never loses it half-way.
fn patterns(folded: Vec<String>) -> Patterns {
    let (long, short): (Vec<String>, Vec<String>) = folded
        .into_iter()
        .filter(|f| !f.is_empty())
        .partition(|f| f.chars().count() >= 3);
    let mut short = short.iter().map(|f| like_escape(f));
    let mut like = Vec::new();
    let mut either = Vec::new();
    for f in &long {
        let cut = f.chars().count() >= 4 && (f.ends_with('k') || f.ends_with('z'));
        if cut {
            let stem = like_escape(&f[..f.len() - 1]);
            let joined = if f.ends_with('k') { 'h' } else { 'j' };
            like.push(format!("%{stem}%"));
            either.push((format!("%{}%", like_escape(f)), format!("%{stem}{joined}%")));
        } else {
            like.push(format!("%{}%", like_escape(f)));
        }
    }
    if like.is_empty() {
        like.extend(short.next().map(|f| format!("{f}%")));
    }
    either.extend(short.map(|w| (format!("{w}%"), format!("% {w}%"))));
    Patterns { like, either }
}

pub struct Prepared {
    pub f: Filters,
    pub pats: [Option<String>; MAX_WORDS],
    /// [`Patterns::either`] as two columns; None when there are none.
    pub either: Option<(Vec<String>, Vec<String>)>,
    pub searching: bool,
    pub telegram_id: Option<i64>,
    pub user_id: Option<String>,
    /// Roles the caller may see in an export (None: all).
    pub roles: Option<Vec<String>>,
}

pub async fn prepare(state: &AppState, q: &UserListQuery) -> Result<Prepared, AppError> {
    let f = parse(state, q)?;
    let mut pats: [Option<String>; MAX_WORDS] = Default::default();
    let mut either = None;
    let (mut telegram_id, mut user_id) = (None, None);
    if let Some(s) = &f.search {
        let found = search_patterns(&state.pool, s).await?;
        for (slot, p) in pats.iter_mut().zip(found.like) {
            *slot = Some(p);
        }
        either = (!found.either.is_empty()).then(|| found.either.into_iter().unzip());
        telegram_id = s.telegram_id;
        user_id = s.user_id.clone();
    }
    Ok(Prepared {
        searching: f.search.is_some(),
        f,
        pats,
        either,
        telegram_id,
        user_id,
        roles: None,
    })
}

/// The one list query, used by the page (with a LIMIT) and the export (LIMIT NULL = all,
/// streamed). Absent filters are NULL parameters that custom plans fold away.
macro_rules! user_list_query {
    ($p:expr, $cursor:expr, $backwards:expr, $limit:expr) => {{
        let p: &Prepared = $p;
        let cur: Option<&Cursor> = $cursor;
        sqlx::query_as!(
            ListRecord,
            r#"SELECT "id", "firstName" AS first_name, "lastName" AS last_name, "phone",
                      "telegramId" AS telegram_id, "telegramUsername" AS telegram_username,
                      "role" AS "role: Role", "registrationSource" AS "source: Platform",
                      "region" AS "region: Region", "language", "createdAt" AS created_at,
                      "searchText" AS "search_text!"
               FROM "User"
               WHERE ($1::"RegistrationSource" IS NULL OR "registrationSource" = $1)
                 AND ($2::"Region" IS NULL OR "region" = $2)
                 AND ($3::"UserRole" IS NULL OR "role" = $3)
                 AND ($4::text IS NULL OR "language" = $4)
                 AND ($5::timestamp IS NULL OR "createdAt" >= $5)
                 AND ($6::timestamp IS NULL OR "createdAt" < $6)
                 AND ($7::bool IS NULL OR ("telegramId" IS NOT NULL) = $7)
                 AND ($8::bool IS NULL OR ("phone" IS NOT NULL) = $8)
                 AND (NOT $9::bool
                      OR ($10::text IS NOT NULL
                          AND "searchText" LIKE $10
                          AND ($11::text IS NULL OR "searchText" LIKE $11)
                          AND ($12::text IS NULL OR "searchText" LIKE $12)
                          AND ($13::text IS NULL OR "searchText" LIKE $13)
                          AND ($14::text IS NULL OR "searchText" LIKE $14)
                          AND ($24::text[] IS NULL OR NOT EXISTS (
                              SELECT 1 FROM unnest($24::text[], $25::text[]) AS e(a, b)
                              WHERE NOT ("searchText" LIKE e.a OR "searchText" LIKE e.b))))
                      OR "telegramId" = $15::bigint
                      OR "id" = $16::text)
                 AND ($23::text[] IS NULL OR "role"::text = ANY($23))
                 AND ($19::text IS NULL
                      OR (NOT $17::bool AND NOT $18::bool AND ("createdAt", "id") < ($20::timestamp, $19))
                      OR (NOT $17 AND $18 AND ("createdAt", "id") > ($20::timestamp, $19))
                      OR ($17 AND NOT $18 AND ("searchText", "id") > ($21::text, $19))
                      OR ($17 AND $18 AND ("searchText", "id") < ($21::text, $19)))
               ORDER BY
                 CASE WHEN NOT $17 AND NOT $18 THEN "createdAt" END DESC,
                 CASE WHEN NOT $17 AND NOT $18 THEN "id" END DESC,
                 CASE WHEN NOT $17 AND $18 THEN "createdAt" END ASC,
                 CASE WHEN NOT $17 AND $18 THEN "id" END ASC,
                 CASE WHEN $17 AND NOT $18 THEN "searchText" END ASC,
                 CASE WHEN $17 AND NOT $18 THEN "id" END ASC,
                 CASE WHEN $17 AND $18 THEN "searchText" END DESC,
                 CASE WHEN $17 AND $18 THEN "id" END DESC
               LIMIT $22"#,
            p.f.source as Option<Platform>,
            p.f.region as Option<Region>,
            p.f.role as Option<Role>,
            p.f.lang.clone(),
            p.f.from,
            p.f.to,
            p.f.has_telegram,
            p.f.has_phone,
            p.searching,
            p.pats[0].clone(),
            p.pats[1].clone(),
            p.pats[2].clone(),
            p.pats[3].clone(),
            p.pats[4].clone(),
            p.telegram_id,
            p.user_id.clone(),
            p.f.sort == Sort::Name,
            $backwards,
            cur.map(|c| c.id.clone()),
            cur.and_then(|c| c.t),
            cur.and_then(|c| c.s.clone()),
            $limit,
            p.roles.as_deref(),
            p.either.as_ref().map(|e| e.0.as_slice()),
            p.either.as_ref().map(|e| e.1.as_slice()),
        )
    }};
}

pub struct ListRecord {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub telegram_id: Option<i64>,
    pub telegram_username: Option<String>,
    pub role: Role,
    pub source: Platform,
    pub region: Region,
    pub language: String,
    pub created_at: NaiveDateTime,
    pub search_text: String,
}

impl ListRecord {
    fn cursor(&self, sort: Sort) -> Cursor {
        match sort {
            Sort::Created => Cursor {
                k: 'c',
                t: Some(self.created_at),
                s: None,
                id: self.id.clone(),
            },
            Sort::Name => Cursor {
                k: 'n',
                t: None,
                s: Some(self.search_text.clone()),
                id: self.id.clone(),
            },
        }
    }

    pub fn name(&self) -> String {
        display_name(
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            None,
            None,
        )
    }
}

pub async fn list(state: &AppState, q: &UserListQuery) -> Result<UsersPage, AppError> {
    let p = prepare(state, q).await?;
    let secret = portal_secret(state)?;
    let tz = state.config.timezone;
    let backwards = p.f.before.is_some();
    let cur = p.f.after.as_ref().or(p.f.before.as_ref());
    // The page, the pivot and the count are independent reads: side by side on three
    // connections the page costs the slowest of them (the capped count of a common search
    // term) instead of their sum.
    let counted = async {
        if p.f.counted_by_rollup() {
            Ok(None)
        } else {
            capped_count(state, &p).await.map(Some)
        }
    };
    let (mut rows, pivot, counted) = tokio::try_join!(
        async {
            user_list_query!(&p, cur, backwards, Some(p.f.per_page + 1))
                .fetch_all(&state.pool)
                .await
                .map_err(AppError::from)
        },
        pivot(&state.pool),
        counted,
    )?;
    let more = rows.len() as i64 > p.f.per_page;
    rows.truncate(p.f.per_page as usize);
    if backwards {
        rows.reverse();
    }
    let key = |r: &ListRecord| sign_value(secret, "users", &r.cursor(p.f.sort));
    let (next, prev) = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => (
            (if backwards { true } else { more }).then(|| key(last)),
            (if backwards { more } else { cur.is_some() }).then(|| key(first)),
        ),
        _ => (None, None),
    };

    let total_users = pivot.iter().map(|c| c.count).sum();
    let (matching, capped) = match counted {
        Some(n) => (n.min(COUNT_CAP), n > COUNT_CAP),
        None => {
            let n = pivot
                .iter()
                .filter(|c| p.f.source.is_none_or(|s| s == c.source))
                .filter(|c| p.f.region.is_none_or(|r| r == c.region))
                .map(|c| c.count)
                .sum();
            (n, false)
        }
    };

    Ok(UsersPage {
        rows: rows
            .iter()
            .map(|r| UserRow {
                name: r.name(),
                id: r.id.clone(),
                phone: r.phone.clone(),
                telegram_username: r.telegram_username.clone(),
                role: r.role,
                source: r.source,
                region: r.region,
                language: r.language.clone(),
                created: crate::time_fmt::local(tz, r.created_at),
            })
            .collect(),
        matching,
        matching_capped: capped,
        total_users,
        pivot,
        next,
        prev,
        can_export: false,
    })
}

async fn capped_count(state: &AppState, p: &Prepared) -> Result<i64, AppError> {
    // The list's filters, counted up to one past the cap.
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM (
             SELECT 1 FROM "User"
             WHERE ($1::"RegistrationSource" IS NULL OR "registrationSource" = $1)
               AND ($2::"Region" IS NULL OR "region" = $2)
               AND ($3::"UserRole" IS NULL OR "role" = $3)
               AND ($4::text IS NULL OR "language" = $4)
               AND ($5::timestamp IS NULL OR "createdAt" >= $5)
               AND ($6::timestamp IS NULL OR "createdAt" < $6)
               AND ($7::bool IS NULL OR ("telegramId" IS NOT NULL) = $7)
               AND ($8::bool IS NULL OR ("phone" IS NOT NULL) = $8)
               AND (NOT $9::bool
                    OR ($10::text IS NOT NULL
                        AND "searchText" LIKE $10
                        AND ($11::text IS NULL OR "searchText" LIKE $11)
                        AND ($12::text IS NULL OR "searchText" LIKE $12)
                        AND ($13::text IS NULL OR "searchText" LIKE $13)
                        AND ($14::text IS NULL OR "searchText" LIKE $14)
                        AND ($18::text[] IS NULL OR NOT EXISTS (
                            SELECT 1 FROM unnest($18::text[], $19::text[]) AS e(a, b)
                            WHERE NOT ("searchText" LIKE e.a OR "searchText" LIKE e.b))))
                    OR "telegramId" = $15::bigint
                    OR "id" = $16::text)
             LIMIT $17) capped"#,
        p.f.source as Option<Platform>,
        p.f.region as Option<Region>,
        p.f.role as Option<Role>,
        p.f.lang.clone(),
        p.f.from,
        p.f.to,
        p.f.has_telegram,
        p.f.has_phone,
        p.searching,
        p.pats[0].clone(),
        p.pats[1].clone(),
        p.pats[2].clone(),
        p.pats[3].clone(),
        p.pats[4].clone(),
        p.telegram_id,
        p.user_id.clone(),
        COUNT_CAP + 1,
        p.either.as_ref().map(|e| e.0.as_slice()),
        p.either.as_ref().map(|e| e.1.as_slice()),
    )
    .fetch_one(&state.pool)
    .await?;
    Ok(n)
}

/// Exact counts per source x region from the rollup the database keeps.
pub async fn pivot(pool: &sqlx::PgPool) -> Result<Vec<PivotCell>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT "registrationSource" AS "source: Platform", "region" AS "region: Region",
                  sum("delta")::BIGINT AS "n!"
           FROM "UserCountDelta" GROUP BY 1, 2 HAVING sum("delta") <> 0"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PivotCell {
            source: r.source,
            region: r.region,
            count: r.n,
        })
        .collect())
}

/// Folds the appended count changes into one row per cell; run periodically. Rows
/// appended meanwhile are not in this statement's snapshot and stay for the next run.
pub async fn compact_counts(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"WITH gone AS (DELETE FROM "UserCountDelta" RETURNING "registrationSource", "region", "delta")
           INSERT INTO "UserCountDelta" ("registrationSource", "region", "delta")
           SELECT "registrationSource", "region", sum("delta") FROM gone GROUP BY 1, 2 HAVING sum("delta") <> 0"#
    )
    .execute(pool)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// CSV export

/// Spreadsheets run a cell that starts with = + - @ tab or CR as a formula; such cells get
/// a leading apostrophe. A phone number or a plain number is left alone: it is data that
/// merely starts with + or -.
pub fn csv_cell(v: &str) -> String {
    let plain_number = {
        let body = v.strip_prefix(['+', '-']).unwrap_or(v);
        !body.is_empty()
            && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && body.bytes().filter(|b| *b == b'.').count() <= 1
            && !body.starts_with('.')
            && !body.ends_with('.')
    };
    // "+998 (90) 555-11-22", as other services may have written it: digits, spaces,
    // brackets and dashes cannot make a formula call anything.
    let phone = v.strip_prefix('+').is_some_and(|body| {
        body.bytes()
            .all(|b| b.is_ascii_digit() || b" ()-".contains(&b))
            && (7..=15).contains(&body.bytes().filter(u8::is_ascii_digit).count())
    });
    let risky = v.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number && !phone;
    let v = if risky {
        format!("'{v}")
    } else {
        v.to_string()
    };
    format!("\"{}\"", v.replace('"', "\"\""))
}

pub fn csv_line(cells: &[&str]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

pub const CSV_HEADER: &[&str] = &[
    "id",
    "firstName",
    "lastName",
    "phone",
    "telegramId",
    "telegramUsername",
    "role",
    "registrationSource",
    "region",
    "language",
    "createdAt",
];

/// Streams the whole filtered list as CSV through `tx`, then logs the export as the staff
/// member's event. Memory stays flat: one row at a time from the database.
pub async fn export(
    state: AppState,
    me: CurrentUser,
    q: UserListQuery,
    p: Prepared,
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
) {
    use futures::TryStreamExt;
    let tz = state.config.timezone;
    let mut head = String::from("\u{feff}");
    head.push_str(&csv_line(CSV_HEADER));
    if tx.send(Ok(head.into())).await.is_err() {
        return;
    }
    let mut rows = user_list_query!(&p, None, false, None::<i64>).fetch(&state.pool);
    let mut n: i64 = 0;
    let mut buf = String::with_capacity(64 * 1024);
    loop {
        match rows.try_next().await {
            Ok(Some(r)) => {
                n += 1;
                let tid = r.telegram_id.map(|t| t.to_string()).unwrap_or_default();
                let created = r
                    .created_at
                    .and_utc()
                    .with_timezone(&tz)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
                buf.push_str(&csv_line(&[
                    &r.id,
                    r.first_name.as_deref().unwrap_or(""),
                    r.last_name.as_deref().unwrap_or(""),
                    r.phone.as_deref().unwrap_or(""),
                    &tid,
                    r.telegram_username.as_deref().unwrap_or(""),
                    r.role.as_str(),
                    r.source.as_str(),
                    r.region.as_str(),
                    &r.language,
                    &created,
                ]));
                if buf.len() >= 60 * 1024 {
                    let chunk = std::mem::replace(&mut buf, String::with_capacity(64 * 1024));
                    if tx.send(Ok(chunk.into())).await.is_err() {
                        return;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                tracing::error!(error = %e, "export failed mid-stream");
                let _ = tx
                    .send(Err(std::io::Error::other("export interrupted")))
                    .await;
                return;
            }
        }
    }
    drop(rows);
    if !buf.is_empty() && tx.send(Ok(buf.into())).await.is_err() {
        return;
    }
    let filter: serde_json::Map<String, serde_json::Value> =
        url::form_urlencoded::parse(q.filter_qs().as_bytes())
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect();
    let logged = crate::auth::ssr::insert_event(
        &state.pool,
        &crate::auth::ssr::NewEvent {
            user_id: me.id.clone(),
            event_type: "ADMIN_EXPORT".into(),
            platform: Platform::Web,
            metadata: serde_json::json!({ "what": "users", "filter": filter, "rows": n }),
            ip: None,
            user_agent: None,
        },
    )
    .await;
    if let Err(e) = logged {
        tracing::error!(error = %e, "could not log the export");
    }
}

/// `GET /admin/users/export.csv?…`: the list's filter as CSV, for ADMIN and SUPER_ADMIN
/// (an ADMIN's export holds only the people they may manage: USER and SUPPORT).
pub async fn export_csv(
    axum::extract::State(state): axum::extract::State<AppState>,
    me: Option<axum::Extension<CurrentUser>>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let page = |e: AppError| crate::error::html_page(e.status(), "Export refused", &e.to_string());
    let me = match crate::auth::ssr::check_role(me.as_ref().map(|e| &e.0), Role::Admin) {
        Ok(m) => m,
        Err(e) => return page(e),
    };
    let q = UserListQuery::from_pairs(
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned())),
    );
    let mut p = match prepare(&state, &q).await {
        Ok(p) => p,
        Err(e) => return page(e),
    };
    if me.role == Role::Admin {
        p.roles = Some(vec![
            Role::User.as_str().into(),
            Role::Support.as_str().into(),
        ]);
    }
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(export(state.clone(), me, q, p, tx));
    let body = axum::body::Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let name = format!(
        "users-{}.csv",
        chrono::Utc::now()
            .with_timezone(&state.config.timezone)
            .format("%Y%m%d-%H%M")
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_neutralises_formulas_but_not_numbers() {
        assert_eq!(csv_cell("=1+2"), "\"'=1+2\"");
        assert_eq!(csv_cell("+cmd|' /C calc'!A0"), "\"'+cmd|' /C calc'!A0\"");
        assert_eq!(csv_cell("-2+3"), "\"'-2+3\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("\tx"), "\"'\tx\"");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("+998901234567"), "\"+998901234567\"");
        assert_eq!(csv_cell("+998 (90) 555-11-22"), "\"+998 (90) 555-11-22\"");
        assert_eq!(csv_cell("+1 (2)"), "\"'+1 (2)\"");
        assert_eq!(csv_cell("+998 90 A1"), "\"'+998 90 A1\"");
        assert_eq!(csv_cell("-12.5"), "\"-12.5\"");
        assert_eq!(csv_cell("5000000001"), "\"5000000001\"");
        assert_eq!(csv_cell("O\"Neil"), "\"O\"\"Neil\"");
        assert_eq!(csv_cell("+"), "\"'+\"");
        assert_eq!(csv_cell("-."), "\"'-.\"");
    }

    #[test]
    fn short_words_start_a_word_beside_long_ones() {
        let f = |w: &[&str]| patterns(w.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            f(&["javohir", "r"]),
            Patterns {
                like: vec!["%javohir%".into()],
                either: vec![("r%".into(), "% r%".into())],
            }
        );
        assert_eq!(
            f(&["ja", "r"]),
            Patterns {
                like: vec!["ja%".into()],
                either: vec![("r%".into(), "% r%".into())],
            }
        );
        assert_eq!(
            f(&["1_", "", "a%b"]),
            Patterns {
                like: vec!["%a\\%b%".into()],
                either: vec![("1\\_%".into(), "% 1\\_%".into())],
            }
        );
        assert_eq!(
            f(&["shak", "z%z", "bek"]),
            Patterns {
                like: vec!["%sha%".into(), "%z\\%z%".into(), "%bek%".into()],
                either: vec![("%shak%".into(), "%shah%".into())],
            }
        );
        assert_eq!(
            f(&["mirz"]),
            Patterns {
                like: vec!["%mir%".into()],
                either: vec![("%mirz%".into(), "%mirj%".into())],
            }
        );
    }

    #[test]
    fn searches_are_classified() {
        let s = parse_search("+998 (90) 123-45-67").unwrap().unwrap();
        assert_eq!(s.digits.as_deref(), Some("998901234567"));
        assert!(s.words.is_empty());
        let s = parse_search("Javohir +998931234567").unwrap().unwrap();
        assert_eq!(s.words, vec!["Javohir", "998931234567"]);
        let s = parse_search("Rahimov 93-123-45-67 (93)").unwrap().unwrap();
        assert_eq!(s.words, vec!["Rahimov", "931234567", "(93)"]);
        let s = parse_search("@Shahzod_99").unwrap().unwrap();
        assert_eq!(s.words, vec!["Shahzod_99"]);
        assert_eq!(s.user_id.as_deref(), Some("@Shahzod_99"));
        let s = parse_search("  Ғулом   Каримов ").unwrap().unwrap();
        assert_eq!(s.words, vec!["Ғулом", "Каримов"]);
        assert_eq!(s.user_id, None);
        assert!(parse_search("   ").unwrap().is_none());
        assert!(parse_search("a b c d e f").is_err());
        assert!(parse_search(&"x".repeat(201)).is_err());
        let nul = parse_search("a\u{0}b").unwrap_err().to_string();
        assert!(nul.starts_with("q: "), "{nul}");
        assert!(parse_search("Aziz\tKarimov").unwrap().is_some());
        let s = parse_search("ADAEA463-EF0E-4568-AC40-75CE6F3ECC97")
            .unwrap()
            .unwrap();
        assert_eq!(
            s.user_id.as_deref(),
            Some("adaea463-ef0e-4568-ac40-75ce6f3ecc97")
        );
    }

    #[test]
    fn local_days_start_at_local_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            day_start_utc(chrono_tz::Asia::Tashkent, d).to_string(),
            "2026-02-28 19:00:00"
        );
    }
}
