//! The real binary, killed with SIGKILL while batches stream in: every batch it answered
//! 202 is in the database in full, no batch is half there, and retrying the unanswered ones
//! against a restarted server writes each event exactly once.
mod common;

use common::*;
use sqlx::PgPool;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unified_portal::model::Role;

const BATCH: usize = 200;

fn db_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool.connect_options().get_database().unwrap().to_string();
    let mut u = url::Url::parse(&base).unwrap();
    u.set_path(&db);
    u.to_string()
}

fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_unified-portal"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "error")
        .current_dir(std::env::temp_dir());
    c
}

fn serve(url: &str, addr: &str) -> tokio::process::Child {
    let mut c = bin();
    c.args(["serve"])
        .env("DATABASE_URL", url)
        .env("PORTAL_SECRET", "durability-test-secret-0123456789-abcdef")
        .env("COOKIE_SECURE", "false")
        .env("LEPTOS_SITE_ADDR", addr)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    tokio::process::Command::from(c)
        .kill_on_drop(true)
        .spawn()
        .expect("server starts")
}

/// A minimal HTTP/1.1 exchange over one connection: status and body.
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let fut = async {
        let mut s = TcpStream::connect(addr).await?;
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status line: {text:?}")))?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    };
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .map_err(|_| std::io::Error::other("timed out"))?
}

async fn wait_healthy(addr: &str) {
    let start = Instant::now();
    loop {
        if let Ok((200, _)) = http(addr, "GET", "/healthz", None, "").await {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the server did not come up on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

struct Sent {
    ids: Vec<String>,
    body: String,
    acked: bool,
}

fn batch(user: &str, n: usize) -> (Vec<String>, String) {
    let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let events: Vec<serde_json::Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            serde_json::json!({"id": id, "userId": user, "eventType": "DURABILITY_TEST",
                               "metadata": {"i": i, "pad": "x".repeat(200)}})
        })
        .collect();
    (ids, serde_json::json!({ "events": events }).to_string())
}

async fn present(pool: &PgPool, ids: &[String]) -> usize {
    sqlx::query_scalar::<_, i64>(r#"SELECT count(*) FROM "EventLog" WHERE "id" = ANY($1)"#)
        .bind(ids)
        .fetch_one(pool)
        .await
        .unwrap() as usize
}

#[sqlx::test]
async fn acknowledged_batches_survive_sigkill_and_retries_write_once(pool: PgPool) {
    let url = db_url(&pool);
    let user = create_user(&pool, Role::User, "+998901119999").await;
    let o = bin()
        .args([
            "api-key",
            "create",
            "--platform",
            "MOBILE_APP",
            "--name",
            "durability",
        ])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("key: "))
        .expect("key line")
        .to_string();

    let addr = free_addr();
    let mut server = serve(&url, &addr);
    wait_healthy(&addr).await;

    let acked = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (addr, key, user) = (addr.clone(), key.clone(), user.clone());
        let (acked, stop) = (acked.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let (ids, body) = batch(&user, BATCH);
                let r = http(&addr, "POST", "/api/v1/events", Some(&key), &body).await;
                // An answer cut off by the kill counts as no answer.
                let answer = r.as_ref().ok().and_then(|(status, b)| {
                    serde_json::from_str::<serde_json::Value>(b)
                        .ok()
                        .map(|v| (*status, v))
                });
                let ok = match &answer {
                    Some((202, v)) => {
                        assert_eq!(v["accepted"], BATCH, "{v}");
                        acked.fetch_add(1, Ordering::SeqCst);
                        true
                    }
                    Some((status, v)) => panic!("unexpected answer {status}: {v}"),
                    None => false,
                };
                sent.push(Sent {
                    ids,
                    body,
                    acked: ok,
                });
                if !ok {
                    // The server is gone: this batch's fate is unknown; stop sending.
                    break;
                }
            }
            sent
        }));
    }
    // Let a good number of batches through, then kill the server mid-stream.
    let start = Instant::now();
    while acked.load(Ordering::SeqCst) < 20 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.start_kill().expect("SIGKILL");
    let _ = server.wait().await;
    stop.store(true, Ordering::SeqCst);
    let mut sent = Vec::new();
    for w in workers {
        sent.extend(w.await.unwrap());
    }
    let n_acked = sent.iter().filter(|s| s.acked).count();
    assert!(n_acked >= 20, "only {n_acked} batches were acknowledged");

    let mut cut_committed = 0;
    for s in &sent {
        let p = present(&pool, &s.ids).await;
        if !s.acked && p == BATCH {
            cut_committed += 1;
        }
        if s.acked {
            assert_eq!(p, BATCH, "an acknowledged batch is there in full");
        } else {
            assert!(
                p == 0 || p == BATCH,
                "a batch is all there or not at all: {p} of {BATCH}"
            );
        }
    }

    eprintln!(
        "{n_acked} batches acknowledged before the kill; {} cut off, {cut_committed} of those committed anyway",
        sent.len() - n_acked
    );

    // Retrying what was not acknowledged, against a restarted server, writes each event once.
    let mut server = serve(&url, &addr);
    wait_healthy(&addr).await;
    for s in sent.iter().filter(|s| !s.acked) {
        let before = present(&pool, &s.ids).await;
        let (status, b) = http(&addr, "POST", "/api/v1/events", Some(&key), &s.body)
            .await
            .unwrap();
        assert_eq!(status, 202, "{b}");
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["duplicates"], before, "{b}");
        assert_eq!(v["accepted"], BATCH - before, "{b}");
    }
    server.start_kill().unwrap();
    let _ = server.wait().await;
    assert_eq!(
        count(
            &pool,
            r#"SELECT count(*) FROM "EventLog" WHERE "eventType" = 'DURABILITY_TEST'"#
        )
        .await as usize,
        sent.len() * BATCH
    );
}
