//! Test harness: the real router over a real database, SQLite (a fresh file)
//! or PostgreSQL (a fresh database in the cluster that `scripts/test.sh`
//! starts; its URL is in PARCOURS_TEST_POSTGRES_URL).

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use parcours_server::db::Database;
use parcours_server::{demo, router, AppState};
use serde_json::Value;
use tower::ServiceExt;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub db: Database,
    pub url: String,
    router: Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub set_cookie: Option<String>,
    pub headers: axum::http::HeaderMap,
    /// The body as text (a CSV, a page).
    pub text: String,
}

async fn database(backend: Backend) -> Option<(Database, String)> {
    let name = format!("parcours_test_{}", uuid::Uuid::new_v4().simple());
    let url = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(&name);
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite://{}/parcours.db", dir.display())
        }
        Backend::Postgres => {
            let Ok(admin_url) = std::env::var("PARCOURS_TEST_POSTGRES_URL") else {
                assert!(
                    std::env::var("PARCOURS_SKIP_POSTGRES").is_ok(),
                    "PARCOURS_TEST_POSTGRES_URL is not set: run scripts/test.sh (it starts PostgreSQL), \
                     or set PARCOURS_SKIP_POSTGRES=1 to run the SQLite half only"
                );
                eprintln!("PostgreSQL half skipped (PARCOURS_SKIP_POSTGRES)");
                return None;
            };
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to the test cluster");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin.pool)
                .await
                .expect("create test database");
            admin.pool.close().await;
            // Same server and options (sslmode=…), another database.
            let (address, options) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
            let base = address
                .rsplit_once('/')
                .map(|(b, _)| b)
                .expect("URL with a database");
            if options.is_empty() {
                format!("{base}/{name}")
            } else {
                format!("{base}/{name}?{options}")
            }
        }
    };
    let db = Database::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    Some((db, url))
}

impl TestApp {
    /// A server with the demo accounts and patients, or None when the
    /// PostgreSQL half was explicitly skipped.
    pub async fn new(backend: Backend) -> Option<Self> {
        Self::with(backend, |state| state).await
    }

    /// As `new`, with the server's settings changed (a trusted proxy, Secure cookies).
    pub async fn with(backend: Backend, settings: impl Fn(AppState) -> AppState) -> Option<Self> {
        // Server errors (500s) show in the failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("parcours_server=error")
            .try_init();
        let (db, url) = database(backend).await?;
        demo::seed(&db).await.expect("seed");
        let state = settings(AppState::new(db.clone(), false).expect("state"));
        Some(Self {
            router: router(state, None),
            db,
            url,
        })
    }

    /// As `new`, serving the app's files from `dist` as the binary does.
    pub async fn serving(backend: Backend, dist: std::path::PathBuf) -> Option<Self> {
        let mut app = Self::new(backend).await?;
        app.router = router(
            AppState::new(app.db.clone(), false).expect("state"),
            Some(dist),
        );
        Some(app)
    }

    /// A second server instance on the same database (its own connections
    /// and state), as behind a load balancer.
    pub async fn another_instance(&self) -> Self {
        let db = Database::connect(&self.url).await.expect("connect");
        db.migrate().await.expect("migrate");
        Self {
            router: router(AppState::new(db.clone(), false).expect("state"), None),
            db,
            url: self.url.clone(),
        }
    }

    /// As after a crash: every connection dropped, the database reopened.
    pub async fn restart(&mut self) {
        self.db.pool.close().await;
        self.db = Database::connect(&self.url).await.expect("reconnect");
        self.db.migrate().await.expect("migrate");
        self.router = router(AppState::new(self.db.clone(), false).expect("state"), None);
    }

    /// A session for an account on a new device, without the (slow) password
    /// check: the same session table and cookie as a real sign-in.
    pub async fn session_for(&self, username: &str) -> Client {
        let account_id: String = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_one(&self.db.pool)
            .await
            .expect("account");
        let device_id = parcours_domain::DeviceId::new();
        let mut conn = self.db.pool.acquire().await.expect("connection");
        let account: parcours_domain::AccountId = account_id.parse().expect("account id");
        let (token, _) = parcours_server::session::open_session(&mut conn, account, device_id)
            .await
            .expect("session");
        Client {
            cookie: format!("{}={token}", parcours_server::session::COOKIE_NAME),
            account_id,
            device_id: device_id.to_string(),
        }
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        self.request_with(method, path, cookie, body, &[]).await
    }

    /// `request` with extra headers (Origin, X-Forwarded-For…).
    pub async fn request_with(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let res = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let set_cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_string());
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        // A JSON answer as a value; a page or a text as a string.
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| match bytes.is_empty() {
            true => Value::Null,
            false => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        });
        Reply {
            status,
            body,
            set_cookie,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, cookie: &str) -> Reply {
        self.request("GET", path, Some(cookie), None).await
    }

    pub async fn post(&self, path: &str, cookie: &str, body: &Value) -> Reply {
        self.request(
            "POST",
            path,
            Some(cookie),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    /// `post` as a sync client does it: a 429 (this account already has its
    /// share of sync requests in flight) is tried again a moment later.
    pub async fn post_sync(&self, path: &str, cookie: &str, body: &Value) -> Reply {
        loop {
            let reply = self.post(path, cookie, body).await;
            if reply.status != StatusCode::TOO_MANY_REQUESTS {
                return reply;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// `get` as a sync client does it (see `post_sync`).
    pub async fn get_sync(&self, path: &str, cookie: &str) -> Reply {
        loop {
            let reply = self.get(path, cookie).await;
            if reply.status != StatusCode::TOO_MANY_REQUESTS {
                return reply;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Signs in as a demo account from a new device; returns the cookie and who it is.
    pub async fn sign_in(&self, username: &str) -> Client {
        let password = demo::ACCOUNTS
            .iter()
            .find(|a| a.username == username)
            .expect("demo account")
            .password;
        let device_id = uuid::Uuid::new_v4();
        let body = serde_json::json!({ "username": username, "password": password, "device_id": device_id });
        let reply = self
            .request(
                "POST",
                "/api/session",
                None,
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        Client {
            cookie: reply.set_cookie.expect("session cookie"),
            account_id: reply.body["account_id"]
                .as_str()
                .expect("account id")
                .to_string(),
            device_id: device_id.to_string(),
        }
    }

    pub async fn patient_id(&self, family_name: &str) -> String {
        sqlx::query_scalar("SELECT id FROM patients WHERE family_name = $1")
            .bind(family_name)
            .fetch_one(&self.db.pool)
            .await
            .expect("demo patient")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db.pool)
            .await
            .expect("count")
    }
}

pub struct Client {
    pub cookie: String,
    pub account_id: String,
    pub device_id: String,
}

impl Client {
    /// Who and on which device, as the domain's ids.
    pub fn ids(&self) -> (parcours_domain::AccountId, parcours_domain::DeviceId) {
        (
            self.account_id.parse().expect("account id"),
            self.device_id.parse().expect("device id"),
        )
    }

    /// A valid pain assessment by this client for the patient.
    pub fn assessment(&self, patient_id: &str, pain_now: u8) -> Value {
        serde_json::json!({
            "kind": "pain_assessment",
            "id": uuid::Uuid::now_v7(),
            "patient_id": patient_id,
            "recorded_at": 1_790_000_000_000i64,
            "author_id": self.account_id,
            "device_id": self.device_id,
            "mode": "interview",
            "pain_now": pain_now,
            "pain_average_24h": 5,
            // The worst of the day is at least the pain now.
            "pain_worst_24h": pain_now.max(8),
            "location": "Lombaires",
            "note": "",
        })
    }
}

impl Client {
    /// A care-plan mutation by this client (its clock a fixed moment plus the id).
    pub fn mutation(&self, id: u64, item: &str, patient: &str, base: u64, changes: Value) -> Value {
        serde_json::json!({
            "device_id": self.device_id,
            "mutation_id": id,
            "item_id": item,
            "patient_id": patient,
            "author_id": self.account_id,
            "base_version": base,
            "hlc": { "wall_ms": 1_790_000_000_000i64 + id as i64, "counter": 0, "device": self.device_id },
            "changes": changes,
        })
    }

    /// The mutation that creates an item ("Kinésithérapie", proposed) owned by `owner`.
    pub fn create_item(&self, id: u64, item: &str, patient: &str, owner: &str) -> Value {
        self.mutation(
            id,
            item,
            patient,
            0,
            serde_json::json!([
                { "field": "title", "value": "Kinésithérapie" },
                { "field": "owner", "value": owner },
                { "field": "status", "value": "proposed" },
            ]),
        )
    }
}

pub fn push_body(records: Vec<Value>) -> Value {
    serde_json::json!({ "protocol": 1, "records": records })
}

/// Runs each listed test against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::common::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::common::Backend::Postgres).await } )*
        }
    };
}
