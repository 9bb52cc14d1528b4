//! Possible duplicates and merging two users into one (issue 8). Stub: being built.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod ssr;

#[component]
pub fn DuplicatesPage() -> impl IntoView {
    view! { <h1>"Possible duplicates"</h1> }
}

#[component]
pub fn MergePage() -> impl IntoView {
    view! { <h1>"Merge users"</h1> }
}

/// The possible duplicates of one user, for their page.
#[component]
pub fn PossibleDuplicates(user_id: String) -> impl IntoView {
    let _ = user_id;
}
