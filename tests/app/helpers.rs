//! Test fixtures: a fresh database per test, the app on a free port, HTTP users with their
//! own cookie jars, mail readers and a loopback SMTP sink.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use waybill::domain::Role;
use waybill::startup::Application;
use waybill::web::AppState;

pub const PASSWORD: &str = "parcel-post-2026";

pub fn backend_is_postgres() -> bool {
    std::env::var("WAYBILL_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

pub fn pg_admin_url() -> String {
    std::env::var("WAYBILL_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test: a temp SQLite file, or a PostgreSQL database
/// created here and dropped (with its connections) when the test ends.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn new(postgres: bool) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        if !postgres {
            let url = dir.path().join("waybill.db").display().to_string();
            return TestDb {
                url,
                dir,
                pg_name: None,
            };
        }
        let name = format!("waybill_test_{}", uuid::Uuid::new_v4().simple());
        let admin = pg_admin_url();
        let mut conn = diesel::PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        TestDb {
            url: format!("{base}/{name}"),
            dir,
            pg_name: Some(name),
        }
    }

    pub fn for_backend() -> TestDb {
        TestDb::new(backend_is_postgres())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut conn) = diesel::PgConnection::establish(&pg_admin_url()) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

#[derive(Default)]
pub struct Options {
    pub mail_url: Option<String>,
    pub base_url: Option<String>,
    /// Further environment, e.g. `WAYBILL_MODE=production`.
    pub env: Vec<(&'static str, &'static str)>,
}

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub mail_dir: PathBuf,
    pub db: TestDb,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(opts: Options) -> TestApp {
    let db = TestDb::for_backend();
    let mail_dir = db.dir.path().join("mail");
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("DATABASE_URL".into(), db.url.clone());
    env.insert("WAYBILL_BIND".into(), "127.0.0.1:0".into());
    env.insert(
        "WAYBILL_DATA_DIR".into(),
        db.dir.path().display().to_string(),
    );
    env.insert(
        "WAYBILL_MAIL_URL".into(),
        opts.mail_url
            .unwrap_or_else(|| format!("file://{}", mail_dir.display())),
    );
    env.insert("WAYBILL_WORKERS".into(), "1".into());
    env.insert("WAYBILL_SESSION_KEY".into(), "test-session-key-".repeat(4));
    env.insert("WAYBILL_MAIL_POLL_SECONDS".into(), "0.2".into());
    env.insert("WAYBILL_MAIL_RETRY_SECONDS".into(), "0.3".into());
    if let Some(b) = opts.base_url {
        env.insert("WAYBILL_BASE_URL".into(), b);
    }
    for (k, v) in opts.env {
        env.insert(k.into(), v.into());
    }
    let config = waybill::config::from_sources(None, &env).unwrap();
    let app = Application::build(config).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        state,
        mail_dir,
        db,
        handle,
    }
}

impl TestApp {
    /// A new visitor with its own cookie jar.
    pub fn visitor(&self) -> Visitor {
        Visitor {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.address.clone(),
        }
    }

    /// A visitor whose cookie jar holds only `cookie` (`name=value`): someone who copied
    /// another browser's session cookie.
    pub fn visitor_with_cookie(&self, cookie: &str) -> Visitor {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        jar.add_cookie_str(&format!("{cookie}; Path=/"), &self.address.parse().unwrap());
        Visitor {
            http: reqwest::Client::builder()
                .cookie_provider(jar)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.address.clone(),
        }
    }

    pub fn conn(&self) -> waybill::db::PooledConn {
        self.state.pool.get().unwrap()
    }

    /// Creates an account directly (a fixture, not the feature under test).
    pub fn create_user(&self, role: Role, email: &str) -> waybill::db::users::User {
        let input = waybill::services::accounts::AccountInput {
            email,
            role,
            name: "Test Person",
            store_name: (role == Role::Seller).then_some("Test Store"),
            phone: "+86 138 0013 8000",
            password: PASSWORD,
            password_confirm: PASSWORD,
        };
        let draft = input.parse().unwrap();
        waybill::services::accounts::create(&mut self.conn(), &draft).unwrap()
    }

    /// A new visitor signed in as an existing user (made by `create_user` or a fixture).
    pub async fn signed_in_existing(&self, email: &str) -> Visitor {
        let v = self.visitor();
        let r = v.login(email, PASSWORD).await;
        assert_eq!(r.status(), 303, "login of {email} failed");
        v
    }

    /// A visitor signed in as a new user of `role`.
    pub async fn signed_in(&self, role: Role, email: &str) -> Visitor {
        self.create_user(role, email);
        let v = self.visitor();
        let r = v.login(email, PASSWORD).await;
        assert_eq!(r.status(), 303, "login of {email} failed");
        v
    }

    pub fn outbox(&self) -> Vec<waybill::db::outbox::OutboxMail> {
        waybill::db::outbox::list_recent(&mut self.conn(), 100).unwrap()
    }
}

pub struct Visitor {
    pub http: reqwest::Client,
    pub base: String,
}

impl Visitor {
    /// An admin uploads `csv` as the rate card of the channel whose page is `page`
    /// (`/admin/channels/CODE`), weights rounded to 10 g.
    pub async fn upload_rate_card(&self, page: &str, csv: String) -> reqwest::Response {
        let token = self.csrf(page).await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("round_to_g", "10")
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("rates.csv"),
            );
        self.http
            .post(format!("{}{page}/rates", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// The CSRF token the form on `page` carries.
    pub async fn csrf(&self, page: &str) -> String {
        csrf_in(&self.get_html(page).await)
    }

    /// Submits a form as a browser would: load `page`, take its token, post `fields` to `action`.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf(page).await;
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        form.extend_from_slice(fields);
        self.post_form(action, &form).await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }
}

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF token in:\n{html}"))
        + marker.len();
    html[start..start + 64].to_string()
}

/// The session cookie a response sets, as `name=value`.
pub fn session_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("waybill_session="))
        .unwrap_or_else(|| panic!("no session cookie set by {}", r.url()))
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Today as a seller in the default time zone (Asia/Shanghai, UTC+8, no daylight saving) reads
/// it: the pages' day filters and statements go by the seller's days.
pub fn seller_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// Waits until `check` returns something, or panics after `secs`.
pub async fn eventually<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `.eml` files the file transport wrote, decoded from quoted-printable soft breaks.
pub fn mails_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| decode_qp(&std::fs::read_to_string(e.path()).unwrap()))
        .collect()
}

pub fn decode_qp(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The reset token in a mail's link.
pub fn reset_token_in(mail: &str) -> String {
    let marker = "/password/reset?token=";
    let start = mail
        .find(marker)
        .unwrap_or_else(|| panic!("no reset link in:\n{mail}"))
        + marker.len();
    mail[start..start + 64].to_string()
}

/// A minimal SMTP server on loopback that keeps every message it is given.
pub struct SmtpSink {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start(port: u16) -> SmtpSink {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                store
                                    .lock()
                                    .unwrap()
                                    .push(decode_qp(&body.replace("\r\n", "\n")));
                                data = None;
                                let _ = write.write_all(b"250 2.0.0 queued\r\n").await;
                            } else {
                                body.push_str(line.strip_prefix('.').unwrap_or(&line));
                                body.push_str("\r\n");
                            }
                            continue;
                        }
                        let verb = line
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        SmtpSink { port, messages }
    }

    pub fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn cny(minor: i64) -> waybill::domain::Money {
    waybill::domain::Money::new(minor, waybill::domain::Currency::parse("CNY").unwrap())
}

impl TestApp {
    /// Moves money directly through the wallet service (a fixture for the tests that spend it).
    pub fn post(
        &self,
        seller_id: &str,
        kind: waybill::services::wallet::Kind,
        minor: i64,
        key: &str,
    ) -> Result<waybill::services::wallet::Posted, waybill::error::AppError> {
        post_on(&mut self.conn(), seller_id, kind, minor, key, None)
    }

    pub fn balance(&self, seller_id: &str) -> i64 {
        waybill::db::ledger::balance(&mut self.conn(), seller_id)
            .unwrap()
            .map(|b| b.0)
            .unwrap_or(0)
    }

    /// The ledger's invariants: every transaction sums to zero, the cached balance equals the
    /// sum of the wallet's entries, and it is never negative.
    pub fn assert_ledger_consistent(&self, seller_id: &str) {
        let mut c = self.conn();
        assert_eq!(
            waybill::db::ledger::unbalanced_transactions(&mut c).unwrap(),
            Vec::<String>::new()
        );
        let sum = waybill::db::ledger::wallet_entry_sum(&mut c, seller_id).unwrap();
        let balance = self.balance(seller_id);
        assert_eq!(balance, sum, "cached balance equals the sum of entries");
        assert!(balance >= 0);
    }
}

impl TestApp {
    pub fn load_channels(&self) {
        waybill::services::demo_catalogue::load_catalogue(&mut self.conn()).unwrap();
    }

    /// A new API key for the seller, in clear.
    pub fn api_key(&self, seller_id: &str) -> String {
        let (key, prefix, hash) = waybill::security::new_api_key().unwrap();
        waybill::db::api_keys::insert(
            &mut self.conn(),
            &waybill::db::api_keys::NewApiKey {
                id: &waybill::db::new_id(),
                seller_id,
                name: "test",
                prefix: &prefix,
                key_hash: &hash,
                created_at: waybill::db::now(),
            },
        )
        .unwrap();
        key
    }

    /// `GET /api/v1{path}` with the API key `key`.
    pub async fn api_get(&self, key: &str, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}/api/v1{path}", self.address))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1{path}` with the API key `key` and `body` as JSON (a `serde_json::Value`
    /// or a `fixtures::Booking`).
    pub async fn api_post(
        &self,
        key: &str,
        path: &str,
        body: impl serde::Serialize,
    ) -> reqwest::Response {
        self.api_post_idempotent(key, path, body, None).await
    }

    /// `api_post`, with an `Idempotency-Key` header when `idem` is given.
    pub async fn api_post_idempotent(
        &self,
        key: &str,
        path: &str,
        body: impl serde::Serialize,
        idem: Option<&str>,
    ) -> reqwest::Response {
        api_post_at(&self.address, key, path, body, idem).await
    }
}

/// `POST {base}/api/v1{path}` with the API key `key`, `body` as JSON and an `Idempotency-Key`
/// header when `idem` is given: `TestApp::api_post`, for tasks that own their strings (racing
/// requests) or another server's `base`.
pub async fn api_post_at(
    base: &str,
    key: &str,
    path: &str,
    body: impl serde::Serialize,
    idem: Option<&str>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/api/v1{path}"))
        .bearer_auth(key)
        .json(&body);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap()
}

/// Books `body` (a `fixtures::Booking` or its JSON) through the API with the seller's `key`;
/// the booking must succeed (201). Returns the shipment JSON.
pub async fn book(app: &TestApp, key: &str, body: impl serde::Serialize) -> serde_json::Value {
    let r = app.api_post(key, "/shipments", body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// One wallet movement in CNY on a given connection (threads in the concurrency tests bring
/// their own).
pub fn post_on(
    conn: &mut waybill::db::DbConn,
    seller_id: &str,
    kind: waybill::services::wallet::Kind,
    minor: i64,
    key: &str,
    shipment_id: Option<&str>,
) -> Result<waybill::services::wallet::Posted, waybill::error::AppError> {
    waybill::services::wallet::post(
        conn,
        &waybill::services::wallet::Posting {
            key,
            kind,
            seller_id,
            amount: cny(minor),
            shipment_id,
            payment_intent_id: None,
            note: None,
            actor_id: None,
        },
    )
}

/// Runs `f(0)`, …, `f(n - 1)` on `n` threads at once (a race, as several requests or app
/// servers would make) and returns their results in order.
pub fn concurrently<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> T + Send + Sync + 'static,
{
    let f = Arc::new(f);
    let start = Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (f, start) = (f.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                f(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// The async twin of `concurrently`: `n` tasks started together (e.g. HTTP requests).
pub async fn concurrently_async<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    T: 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| actix_web::rt::spawn(f(i))).collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}
