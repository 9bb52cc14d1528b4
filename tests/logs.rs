//! Log capture lives in its own test binary: tracing caches per-callsite interest
//! process-wide, so a thread-local subscriber next to other tests running in parallel can
//! miss lines and make the check flaky.

mod common;

use axum::http::StatusCode;
use common::*;
use sqlx::PgPool;
use unified_portal::model::Role;

const ADMIN: &str = "+998901110001";

#[sqlx::test]
async fn sign_in_logs_hold_no_secrets(pool: PgPool) {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = app(pool.clone());
    create_user(&pool, Role::Admin, ADMIN).await;
    let wrong = app
        .post_form(
            "/login",
            &format!("phone={}&password=wrong-secret-xyz", enc(ADMIN)),
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::SEE_OTHER);
    let cookie = app.login(ADMIN, PASSWORD).await.unwrap();
    app.get("/admin", &[&cookie]).await;
    app.post_form("/logout", "", &[&cookie]).await;
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("signed in with password"),
        "the capture works: {logs}"
    );
    let secret = cookie.trim_start_matches("portal_session=");
    for needle in [
        PASSWORD,
        "wrong-secret-xyz",
        secret,
        "test-secret-test-secret",
    ] {
        assert!(!logs.contains(needle), "{needle} leaked into the logs");
    }
}
