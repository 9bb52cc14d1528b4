//! Staff and their roles, one-time passwords (issue 8). Stub: being built.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod ssr;

#[component]
pub fn StaffPage() -> impl IntoView {
    view! { <h1>"Staff"</h1> }
}
