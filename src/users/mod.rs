//! Staff's main page: users by registration source and region.

use crate::error::AppError;
use crate::model::{Platform, Region};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

/// The list's URL parameters as received; the server parses them so that a bad value gets
/// a 400 that names the parameter, whichever side asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserListQuery {
    pub source: Option<String>,
    pub region: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub per_page: Option<String>,
}

impl UserListQuery {
    pub fn from_map(q: &leptos_router::params::ParamsMap) -> Self {
        let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
        UserListQuery {
            source: get("source"),
            region: get("region"),
            after: get("after"),
            before: get("before"),
            per_page: get("per_page"),
        }
    }

    /// The query string of these filters without the cursor.
    pub fn filter_qs(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.source {
            parts.push(format!("source={}", urlencode(s)));
        }
        if let Some(r) = &self.region {
            parts.push(format!("region={}", urlencode(r)));
        }
        if let Some(p) = &self.per_page {
            parts.push(format!("per_page={}", urlencode(p)));
        }
        parts.join("&")
    }
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
    pub total_users: i64,
    pub pivot: Vec<PivotCell>,
    pub next: Option<String>,
    pub prev: Option<String>,
}

#[server(prefix = "/fn", endpoint = "users/list")]
pub async fn list_users(query: UserListQuery) -> Result<UsersPage, AppError> {
    let _staff = crate::auth::ssr::require_role(crate::model::Role::Support)?;
    let state = crate::state::AppState::get()?;
    ssr::list(&state, &query).await
}

pub mod ids {
    pub const FILTERS: &str = "user-filters";
    pub const PIVOT: &str = "source-region-pivot";
    pub const TABLE: &str = "users-table";
    pub const MATCHING: &str = "matching-count";
    pub const NEXT: &str = "next-page";
    pub const PREV: &str = "prev-page";
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| UserListQuery::from_map(&query.read()));
    let data = Resource::new_blocking(move || q.get(), list_users);
    view! {
        <Title text="Users · Unified Portal"/>
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

#[component]
fn UsersView(q: UserListQuery, page: UsersPage) -> impl IntoView {
    let filter_qs = q.filter_qs();
    let has_filters = q.source.is_some() || q.region.is_some();
    let paged = q.after.is_some() || q.before.is_some();
    let next = page.next.clone().map(|c| {
        let sep = if filter_qs.is_empty() { "" } else { "&" };
        format!("/admin/users?{filter_qs}{sep}after={}", urlencode(&c))
    });
    let prev = page.prev.clone().map(|c| {
        let sep = if filter_qs.is_empty() { "" } else { "&" };
        format!("/admin/users?{filter_qs}{sep}before={}", urlencode(&c))
    });
    let empty_state = if page.total_users == 0 {
        Some(
            view! { <p class="empty" id="empty-no-users">"There are no users yet."</p> }.into_any(),
        )
    } else if page.rows.is_empty() && paged {
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
    view! {
        <Pivot cells=page.pivot.clone() total=page.total_users/>
        <form method="get" action="/admin/users" id=ids::FILTERS class="filters">
            <label>"Source "
                <select name="source">
                    <option value="">"Any"</option>
                    {Platform::ALL.iter().map(|p| view! {
                        <option value=p.as_str() selected=q.source.as_deref() == Some(p.as_str())>{p.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Region "
                <select name="region">
                    <option value="">"Any"</option>
                    {Region::ALL.iter().map(|r| view! {
                        <option value=r.as_str() selected=q.region.as_deref() == Some(r.as_str())>{r.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Apply"</button>
            {has_filters.then(|| view! { <a href="/admin/users" class="clear">"Clear filters"</a> })}
        </form>
        <p class="muted" id=ids::MATCHING>
            {format!("{} matching user{}", page.matching, if page.matching == 1 { "" } else { "s" })}
        </p>
        {empty_state}
        {(!page.rows.is_empty()).then(|| view! {
            <div class="table-wrap">
            <table id=ids::TABLE class="data">
                <thead><tr>
                    <th>"Name"</th><th>"Phone"</th><th>"Telegram"</th><th>"Source"</th>
                    <th>"Region"</th><th>"Language"</th><th>"Created"</th>
                </tr></thead>
                <tbody>
                    {page.rows.into_iter().map(|u| view! {
                        <tr data-user-id=u.id.clone()>
                            <td class="name">{u.name}</td>
                            <td class="mono">{u.phone.unwrap_or_default()}</td>
                            <td>{u.telegram_username.map(|t| format!("@{t}")).unwrap_or_default()}</td>
                            <td><span class=format!("badge src-{}", u.source.as_str().to_lowercase())>{u.source.label()}</span></td>
                            <td>{u.region.as_str()}</td>
                            <td>{u.language}</td>
                            <td class="nowrap">{u.created}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        })}
        <nav class="pager">
            {prev.map(|h| view! { <a href=h id=ids::PREV rel="prev">"← Newer"</a> })}
            {next.map(|h| view! { <a href=h id=ids::NEXT rel="next">"Older →"</a> })}
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
                        <td class="total" data-source=s.as_str()>{row_total(*s)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
            <tfoot><tr>
                <th scope="row">"Total"</th>
                {Region::ALL.iter().map(|r| view! { <td class="total" data-region=r.as_str()>{col_total(*r)}</td> }).collect_view()}
                <td class="total" id="pivot-grand-total">{total}</td>
            </tr></tfoot>
        </table>
        </div>
    }
}
