//! Staff's main page: users by registration source and region.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::model::{Platform, Region, Role};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

pub mod detail;
#[cfg(feature = "ssr")]
pub mod detail_ssr;
pub mod manage;
#[cfg(feature = "ssr")]
pub mod manage_ssr;
#[cfg(feature = "ssr")]
pub mod ssr;

/// The list's URL parameters as received; the server parses them so that a bad value gets
/// a 400 that names the parameter, whichever side asked. An empty value means absent, as
/// plain HTML forms send them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserListQuery {
    pub source: Option<String>,
    pub region: Option<String>,
    pub role: Option<String>,
    pub lang: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub has_telegram: Option<String>,
    pub has_phone: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub per_page: Option<String>,
}

/// The filter parameters in URL order; the cursor parameters are kept apart because changing
/// a filter must drop them.
const FILTER_KEYS: &[&str] = &[
    "source",
    "region",
    "role",
    "lang",
    "created_from",
    "created_to",
    "has_telegram",
    "has_phone",
    "q",
    "sort",
    "per_page",
];

impl UserListQuery {
    fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "source" => &mut self.source,
            "region" => &mut self.region,
            "role" => &mut self.role,
            "lang" => &mut self.lang,
            "created_from" => &mut self.created_from,
            "created_to" => &mut self.created_to,
            "has_telegram" => &mut self.has_telegram,
            "has_phone" => &mut self.has_phone,
            "q" => &mut self.q,
            "sort" => &mut self.sort,
            "per_page" => &mut self.per_page,
            "after" => &mut self.after,
            "before" => &mut self.before,
            _ => return None,
        })
    }

    fn value(&self, key: &str) -> Option<&String> {
        match key {
            "source" => self.source.as_ref(),
            "region" => self.region.as_ref(),
            "role" => self.role.as_ref(),
            "lang" => self.lang.as_ref(),
            "created_from" => self.created_from.as_ref(),
            "created_to" => self.created_to.as_ref(),
            "has_telegram" => self.has_telegram.as_ref(),
            "has_phone" => self.has_phone.as_ref(),
            "q" => self.q.as_ref(),
            "sort" => self.sort.as_ref(),
            "per_page" => self.per_page.as_ref(),
            "after" => self.after.as_ref(),
            "before" => self.before.as_ref(),
            _ => None,
        }
    }

    pub fn from_map(q: &leptos_router::params::ParamsMap) -> Self {
        Self::from_pairs(
            FILTER_KEYS
                .iter()
                .chain(["after", "before"].iter())
                .filter_map(|k| q.get(k).map(|v| (k.to_string(), v))),
        )
    }

    /// From URL pairs: unknown keys are ignored and an empty value means absent; where a
    /// key repeats, the last value counts, as it does for the page (leptos_router's
    /// `ParamsMap::get`), so a page and its export never read one URL two ways.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut out = UserListQuery::default();
        for (k, v) in pairs {
            if let Some(slot) = out.slot(&k) {
                *slot = (!v.trim().is_empty()).then_some(v);
            }
        }
        out
    }

    /// The query string of these filters without the cursor.
    pub fn filter_qs(&self) -> String {
        FILTER_KEYS
            .iter()
            .filter_map(|k| self.value(k).map(|v| format!("{k}={}", urlencode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The query string of the whole state, cursor included: the way back to this page.
    pub fn full_qs(&self) -> String {
        let mut qs = self.filter_qs();
        for k in ["after", "before"] {
            if let Some(v) = self.value(k) {
                if !qs.is_empty() {
                    qs.push('&');
                }
                qs.push_str(&format!("{k}={}", urlencode(v)));
            }
        }
        qs
    }

    pub fn has_filters(&self) -> bool {
        FILTER_KEYS
            .iter()
            .any(|k| *k != "sort" && *k != "per_page" && self.value(k).is_some())
    }

    /// This state with one filter changed; the cursor is dropped.
    pub fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut next = self.clone();
        next.after = None;
        next.before = None;
        if let Some(slot) = next.slot(key) {
            *slot = value.map(String::from);
        }
        let qs = next.filter_qs();
        if qs.is_empty() {
            "/admin/users".into()
        } else {
            format!("/admin/users?{qs}")
        }
    }
}

/// `k=v&…` of the parameters that are set, each value encoded: the filters of a list's
/// links, without its cursor.
pub fn query_string(pairs: &[(&str, &Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", urlencode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub telegram_username: Option<String>,
    pub role: Role,
    pub source: Platform,
    pub region: Region,
    pub language: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PivotCell {
    pub source: Platform,
    pub region: Region,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersPage {
    pub rows: Vec<UserRow>,
    pub matching: i64,
    /// `matching` is a lower bound: counting further would be slow.
    pub matching_capped: bool,
    pub total_users: i64,
    pub pivot: Vec<PivotCell>,
    pub next: Option<String>,
    pub prev: Option<String>,
    /// Whether the caller may export (ADMIN and up): SUPPORT is not offered the button.
    pub can_export: bool,
}

#[server(prefix = "/fn", endpoint = "users/list")]
pub async fn list_users(#[server(default)] query: UserListQuery) -> Result<UsersPage, AppError> {
    let staff = crate::auth::ssr::require_role(crate::model::Role::Support)?;
    let state = crate::state::AppState::get()?;
    let mut page = ssr::list(&state, &query).await?;
    page.can_export = staff.role >= Role::Admin;
    Ok(page)
}

pub mod ids {
    pub const FILTERS: &str = "user-filters";
    pub const PIVOT: &str = "source-region-pivot";
    pub const TABLE: &str = "users-table";
    pub const MATCHING: &str = "matching-count";
    pub const NEXT: &str = "next-page";
    pub const PREV: &str = "prev-page";
    pub const EXPORT: &str = "export-csv";
    pub const CLEAR: &str = "clear-filters";
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| UserListQuery::from_map(&query.read()));
    let data = Resource::new_blocking(move || q.get(), list_users);
    view! {
        <PageTitle text="Users · Unified Portal"/>
        <h1>"Users"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let q = q.get_untracked();
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(page) => view! { <UsersView q=q page=page/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// 10000 as "10,000".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn select_options<T: Copy + 'static>(
    all: &'static [T],
    current: Option<&str>,
    text: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> impl IntoView {
    all.iter()
        .map(|v| {
            let value = text(*v);
            view! { <option value=value selected=current == Some(value)>{label(*v)}</option> }
        })
        .collect_view()
}

#[component]
fn UsersView(q: UserListQuery, page: UsersPage) -> impl IntoView {
    let filter_qs = q.filter_qs();
    let has_filters = q.has_filters();
    let paged = q.after.is_some() || q.before.is_some();
    let page_link = |param: &str, c: &str| {
        let sep = if filter_qs.is_empty() { "" } else { "&" };
        format!("/admin/users?{filter_qs}{sep}{param}={}", urlencode(c))
    };
    let next = page.next.as_deref().map(|c| page_link("after", c));
    let prev = page.prev.as_deref().map(|c| page_link("before", c));
    let export = if filter_qs.is_empty() {
        "/admin/users/export.csv".to_string()
    } else {
        format!("/admin/users/export.csv?{filter_qs}")
    };
    // Links to a user carry this exact list, so "back" returns to it.
    let back = urlencode(&format!("/admin/users?{}", q.full_qs()));
    let empty_state = if page.total_users == 0 {
        Some(
            view! { <p class="empty" id="empty-no-users">"There are no users yet."</p> }.into_any(),
        )
    } else if page.rows.is_empty() && paged && page.matching > 0 {
        Some(
            view! {
                <p class="empty" id="empty-past-end">"No more users on this page. "
                    <a href=format!("/admin/users?{filter_qs}")>"Back to the first page"</a></p>
            }
            .into_any(),
        )
    } else if page.rows.is_empty() {
        Some(
            view! {
                <p class="empty" id="empty-no-matches">"No users match these filters. "
                    <a href="/admin/users">"Clear filters"</a></p>
            }
            .into_any(),
        )
    } else {
        None
    };
    let sort_name = q.sort.as_deref() == Some("name");
    let langs: &'static [&'static str] = &["uz", "ru", "en"];
    let tri = |v: &Option<String>| v.clone().unwrap_or_default();
    let (has_tg, has_phone) = (tri(&q.has_telegram), tri(&q.has_phone));
    let count_text = if page.matching_capped {
        format!("more than {} matching users", thousands(page.matching))
    } else {
        format!(
            "{} matching user{}",
            page.matching,
            if page.matching == 1 { "" } else { "s" }
        )
    };
    view! {
        <Pivot cells=page.pivot.clone() total=page.total_users/>
        <form method="get" action="/admin/users" id=ids::FILTERS class="filters">
            <label class="grow">"Search "
                <input type="search" name="q" value=q.q.clone().unwrap_or_default()
                    placeholder="name, phone, @username, Telegram id, user id" maxlength="200"/>
            </label>
            <label>"Source "
                <select name="source">
                    <option value="">"Any"</option>
                    {select_options(Platform::ALL, q.source.as_deref(), Platform::as_str, Platform::label)}
                </select>
            </label>
            <label>"Region "
                <select name="region">
                    <option value="">"Any"</option>
                    {select_options(Region::ALL, q.region.as_deref(), Region::as_str, Region::as_str)}
                </select>
            </label>
            <label>"Role "
                <select name="role">
                    <option value="">"Any"</option>
                    {select_options(Role::ALL, q.role.as_deref(), Role::as_str, Role::label)}
                </select>
            </label>
            <label>"Language "
                <select name="lang">
                    <option value="">"Any"</option>
                    {langs.iter().map(|l| view! { <option value=*l selected=q.lang.as_deref() == Some(*l)>{*l}</option> }).collect_view()}
                </select>
            </label>
            <label>"Created from " <input type="date" name="created_from" value=q.created_from.clone().unwrap_or_default()/></label>
            <label>"to " <input type="date" name="created_to" value=q.created_to.clone().unwrap_or_default()/></label>
            <label>"Telegram "
                <select name="has_telegram">
                    <option value="">"Any"</option>
                    <option value="true" selected=has_tg == "true">"linked"</option>
                    <option value="false" selected=has_tg == "false">"not linked"</option>
                </select>
            </label>
            <label>"Phone "
                <select name="has_phone">
                    <option value="">"Any"</option>
                    <option value="true" selected=has_phone == "true">"has phone"</option>
                    <option value="false" selected=has_phone == "false">"no phone"</option>
                </select>
            </label>
            <label>"Sort "
                <select name="sort">
                    <option value="created" selected=!sort_name>"Newest first"</option>
                    <option value="name" selected=sort_name>"Name"</option>
                </select>
            </label>
            {q.per_page.clone().map(|p| view! { <input type="hidden" name="per_page" value=p/> })}
            <button type="submit" class="primary">"Apply"</button>
            {has_filters.then(|| view! { <a href="/admin/users" class="clear" id=ids::CLEAR>"Clear filters"</a> })}
        </form>
        <div class="list-head">
            <p class="muted" id=ids::MATCHING data-capped=page.matching_capped.to_string()>{count_text}</p>
            {page.can_export.then(|| view! {
                <a href=export id=ids::EXPORT class="button" rel="nofollow" download>"Export CSV"</a>
            })}
        </div>
        {empty_state}
        {(!page.rows.is_empty()).then(|| view! {
            <div class="table-wrap">
            <table id=ids::TABLE class="data">
                <thead><tr>
                    <th>"Name"</th><th>"Phone"</th><th>"Telegram"</th><th>"Role"</th><th>"Source"</th>
                    <th>"Region"</th><th>"Language"</th><th>"Created"</th>
                </tr></thead>
                <tbody>
                    {page.rows.into_iter().map(|u| {
                        let href = format!("/admin/users/{}?back={back}", urlencode(&u.id));
                        let title = u.name.clone();
                        view! {
                        <tr data-user-id=u.id.clone()>
                            <td class="name clip"><a href=href title=title>{u.name}</a></td>
                            <td class="mono nowrap">{u.phone.unwrap_or_default()}</td>
                            <td class="clip">{u.telegram_username.map(|t| format!("@{t}")).unwrap_or_default()}</td>
                            <td>{(u.role != Role::User).then(|| view! { <span class="badge">{u.role.label()}</span> })}</td>
                            <td><span class=format!("badge src-{}", u.source.as_str().to_lowercase())>{u.source.label()}</span></td>
                            <td>{u.region.as_str()}</td>
                            <td>{u.language}</td>
                            <td class="nowrap">{u.created}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
            </div>
        })}
        <nav class="pager">
            {prev.map(|h| view! { <a href=h id=ids::PREV rel="prev">{if sort_name { "← Previous" } else { "← Newer" }}</a> })}
            {next.map(|h| view! { <a href=h id=ids::NEXT rel="next">{if sort_name { "Next →" } else { "Older →" }}</a> })}
        </nav>
    }
}

#[component]
fn Pivot(cells: Vec<PivotCell>, total: i64) -> impl IntoView {
    let count = |s: Platform, r: Region| {
        cells
            .iter()
            .find(|c| c.source == s && c.region == r)
            .map(|c| c.count)
            .unwrap_or(0)
    };
    let row_total = |s: Platform| {
        cells
            .iter()
            .filter(|c| c.source == s)
            .map(|c| c.count)
            .sum::<i64>()
    };
    let col_total = |r: Region| {
        cells
            .iter()
            .filter(|c| c.region == r)
            .map(|c| c.count)
            .sum::<i64>()
    };
    view! {
        <div class="table-wrap">
        <table id=ids::PIVOT class="pivot">
            <caption>"Users by registration source and region"</caption>
            <thead><tr>
                <th scope="col">"Source \\ Region"</th>
                {Region::ALL.iter().map(|r| view! {
                    <th scope="col"><a href=format!("/admin/users?region={}", r.as_str())>{r.as_str()}</a></th>
                }).collect_view()}
                <th scope="col">"Total"</th>
            </tr></thead>
            <tbody>
                {Platform::ALL.iter().map(|s| view! {
                    <tr>
                        <th scope="row"><a href=format!("/admin/users?source={}", s.as_str())>{s.label()}</a></th>
                        {Region::ALL.iter().map(|r| {
                            let n = count(*s, *r);
                            view! {
                                <td data-source=s.as_str() data-region=r.as_str()>
                                    <a href=format!("/admin/users?source={}&region={}", s.as_str(), r.as_str())>{n}</a>
                                </td>
                            }
                        }).collect_view()}
                        <td class="total" data-source=s.as_str()>
                            <a href=format!("/admin/users?source={}", s.as_str())>{row_total(*s)}</a>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
            <tfoot><tr>
                <th scope="row">"Total"</th>
                {Region::ALL.iter().map(|r| view! {
                    <td class="total" data-region=r.as_str()>
                        <a href=format!("/admin/users?region={}", r.as_str())>{col_total(*r)}</a>
                    </td>
                }).collect_view()}
                <td class="total"><a href="/admin/users" id="pivot-grand-total">{total}</a></td>
            </tr></tfoot>
        </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(10000), "10,000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::thousands(-1000), "-1,000");
    }
}
