//! The one error type of the portal. Pages, server functions and JSON routes all speak it, so
//! a denied or malformed request gets the same status and wording everywhere. The user sees
//! a safe message; the cause of an internal error goes only to the log.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input; the message names the parameter or field.
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in to continue")]
    Unauthorized,
    /// Credentials were presented and refused; the message says why (bad signature, stale).
    #[error("{0}")]
    Rejected(String),
    #[error("your account does not have access to this")]
    Forbidden,
    /// The person was blocked by staff; no route signs them in.
    #[error("this account is blocked; contact support")]
    Blocked,
    /// The password was a one-time one set by a SUPER_ADMIN: nothing else works until the
    /// person has chosen their own.
    #[error("choose a new password first: the current one was set for one use only")]
    PasswordChangeRequired,
    #[error("{0} not found")]
    NotFound(String),
    /// A feature this portal was not configured for; the message says which setting.
    #[error("{0}")]
    NotConfigured(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("this address does not accept the {0} method")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many failed attempts; try again in {0} seconds")]
    TooManyRequests(u64),
    #[error("the database is not answering; try again shortly")]
    Unavailable,
    #[error("something went wrong on our side; it has been logged")]
    Internal,
}

impl AppError {
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::BadRequest(_) => S::BAD_REQUEST,
            AppError::Unauthorized | AppError::Rejected(_) => S::UNAUTHORIZED,
            AppError::Forbidden | AppError::Blocked | AppError::PasswordChangeRequired => {
                S::FORBIDDEN
            }
            AppError::NotFound(_) | AppError::NotConfigured(_) => S::NOT_FOUND,
            AppError::TooLarge(_) => S::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed(_) => S::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => S::CONFLICT,
            AppError::TooManyRequests(_) => S::TOO_MANY_REQUESTS,
            AppError::Unavailable => S::SERVICE_UNAVAILABLE,
            AppError::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn bad(msg: impl Into<String>) -> Self {
        AppError::BadRequest(msg.into()).noted()
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into()).noted()
    }

    /// Machine-readable code for the JSON envelope.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized | AppError::Rejected(_) => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::Blocked => "blocked",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::NotFound(_) => "not_found",
            AppError::NotConfigured(_) => "not_configured",
            AppError::TooLarge(_) => "too_large",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Unavailable => "unavailable",
            AppError::Internal => "internal",
        }
    }

    /// Server functions answer 500 unless told otherwise, and pages rendered in
    /// `SsrMode::Async` decide their status only once rendering ends; recording the status
    /// where the error is made lets both carry the real one without each caller remembering.
    pub fn noted(self) -> Self {
        #[cfg(feature = "ssr")]
        if let Some(opts) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            opts.set_status(self.status());
            if let AppError::TooManyRequests(secs) = &self {
                if let Ok(v) = http::HeaderValue::from_str(&secs.to_string()) {
                    opts.insert_header(http::header::RETRY_AFTER, v);
                }
            }
        }
        self
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                AppError::bad(format!("malformed request: {m}"))
            }
            ServerFnErrorErr::Request(_) => AppError::Unavailable,
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failure");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::Internal.noted()
            }
        }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{escape, html_page};

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::AppError;
    use axum::response::{IntoResponse, Response};

    impl From<sqlx::Error> for AppError {
        fn from(e: sqlx::Error) -> Self {
            // PostgreSQL text cannot hold NUL: a value with one is the client's mistake.
            if let sqlx::Error::Database(d) = &e {
                match d.code().as_deref() {
                    Some("22021") | Some("22P05") => {
                        return AppError::bad(
                            "a value contains a NUL character, which cannot be stored",
                        )
                    }
                    // Two changes to the same rows at one moment: the later one may simply
                    // be tried again, nothing was written.
                    Some("40001") | Some("40P01") => {
                        tracing::warn!(error = %e, "transaction conflict");
                        return AppError::Conflict(
                            "someone else changed the same records at this moment; nothing was changed, try again"
                                .into(),
                        )
                        .noted();
                    }
                    // A table of another service still refers to the row (foreign keys
                    // are RESTRICT): refuse rather than fail.
                    Some("23503") => {
                        tracing::warn!(error = %e, "foreign key refused the change");
                        return AppError::Conflict(format!(
                            "other records still refer to this one ({}); nothing was changed",
                            d.constraint().unwrap_or("a foreign key")
                        ))
                        .noted();
                    }
                    _ => {}
                }
            }
            match &e {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                    tracing::error!(error = %e, "database unavailable");
                    AppError::Unavailable.noted()
                }
                _ => {
                    tracing::error!(error = %e, "database error");
                    AppError::Internal.noted()
                }
            }
        }
    }

    impl From<tower_sessions::session::Error> for AppError {
        fn from(e: tower_sessions::session::Error) -> Self {
            tracing::error!(error = %e, "session error");
            AppError::Internal.noted()
        }
    }

    /// A complete HTML page for the plain routes (form posts, the Telegram callback) that
    /// answer outside the Leptos app; every piece of text is escaped.
    pub fn html_page(status: http::StatusCode, title: &str, body: &str) -> Response {
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{t} · Unified Portal</title><link rel=\"stylesheet\" href=\"/pkg/unified-portal.css\"></head>\
             <body><main class=\"narrow\"><h1>{t}</h1><p id=\"error-message\">{b}</p>\
             <p><a href=\"/login\">Back to sign-in</a></p></main></body></html>",
            t = escape(title),
            b = escape(body)
        );
        (status, axum::response::Html(body)).into_response()
    }

    pub fn escape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
        out
    }

    /// JSON routes answer with the contract's envelope.
    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let body = serde_json::json!({
                "error": { "code": self.code(), "message": self.to_string() }
            });
            let mut res = (self.status(), axum::Json(body)).into_response();
            if let AppError::TooManyRequests(secs) = self {
                if let Ok(v) = http::HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(http::header::RETRY_AFTER, v);
                }
            }
            res
        }
    }
}
