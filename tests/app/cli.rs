//! The `waybill` binary itself: user add, apikey create, demo, serve (and what it logs).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use crate::helpers::*;

fn waybill(app_db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waybill"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app_db.url)
        .env("WAYBILL_DATA_DIR", app_db.dir.path())
        .current_dir(app_db.dir.path());
    cmd
}

fn run(mut cmd: Command, stdin: &str) -> (bool, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn user_add_reads_the_password_from_stdin() {
    let app = spawn_app().await;
    let mut cmd = waybill(&app.db);
    cmd.args([
        "user",
        "add",
        "--email",
        "Courier@Example.com",
        "--role",
        "courier",
        "--name",
        "Zhang Min",
    ]);
    let (ok, out, err) = run(cmd, "two-wheels-fast\n");
    assert!(ok, "{err}");
    assert!(out.contains("created courier@example.com (courier)"));
    assert!(!out.contains("two-wheels-fast") && !err.contains("two-wheels-fast"));
    let r = app
        .visitor()
        .login("courier@example.com", "two-wheels-fast")
        .await;
    assert_eq!(location(&r), "/courier");

    let mut again = waybill(&app.db);
    again.args([
        "user",
        "add",
        "--email",
        "courier@example.com",
        "--role",
        "courier",
    ]);
    let (ok, _, err) = run(again, "two-wheels-fast\n");
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");

    let mut bad = waybill(&app.db);
    bad.args(["user", "add", "--email", "x@example.com", "--role", "pilot"]);
    let (ok, _, err) = run(bad, "whatever-long-pw\n");
    assert!(!ok && err.contains("--role must be"), "{err}");
}

#[actix_web::test]
async fn apikey_create_prints_a_working_key_once() {
    let app = spawn_app().await;
    app.create_user(waybill::domain::Role::Seller, "cli-api@example.com");
    let mut cmd = waybill(&app.db);
    cmd.args(["apikey", "create", "--email", "CLI-API@example.com"]);
    let (ok, out, err) = run(cmd, "");
    assert!(ok, "{err}");
    let key = out.trim();
    assert!(key.starts_with("wb_") && key.len() == 43, "{out}");
    let r = app.api_get(key, "/me").await;
    assert_eq!(r.status(), 200);

    let mut courier = waybill(&app.db);
    courier.args(["apikey", "create", "--email", "nobody@example.com"]);
    let (ok, _, err) = run(courier, "");
    assert!(
        !ok && err.contains("no seller, courier or warehouse account"),
        "{err}"
    );
}

#[actix_web::test]
async fn demo_is_idempotent_and_its_passwords_work() {
    let app = spawn_app().await;
    let (ok, _, err) = run(
        {
            let mut c = waybill(&app.db);
            c.arg("demo");
            c
        },
        "",
    );
    assert!(ok, "{err}");
    let (ok, out, err) = run(
        {
            let mut c = waybill(&app.db);
            c.arg("demo");
            c
        },
        "",
    );
    assert!(ok, "{err}");
    let users = waybill::db::users::list(&mut app.conn()).unwrap();
    assert_eq!(
        users.len(),
        4,
        "one account per role, however often demo runs"
    );
    for line in out.lines().filter(|l| l.contains("password: ")) {
        let email = line.split_whitespace().nth(1).unwrap();
        let password = line
            .split("password: ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        let r = app.visitor().login(email, password).await;
        assert_eq!(r.status(), 303, "{line}");
    }
}

#[actix_web::test]
async fn area_add_courier_assign_and_a_courier_key() {
    let app = spawn_app().await;
    let cli = |args: &[&str]| {
        let mut c = waybill(&app.db);
        c.args(args);
        run(c, "")
    };
    let (ok, out, err) = cli(&[
        "area",
        "add",
        "--name",
        "Nanshan",
        "--postal-prefixes",
        "518057,5180",
        "--cities",
        "Shenzhen",
        "--capacity",
        "4",
        "--windows",
        "10:00-13:00,14:00-17:00",
        "--closed-weekdays",
        "sun",
    ]);
    assert!(ok && out.contains("added area Nanshan"), "{out}{err}");
    let (ok, _, err) = cli(&[
        "area",
        "add",
        "--name",
        "Nanshan",
        "--postal-prefixes",
        "1",
        "--capacity",
        "1",
    ]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = cli(&[
        "area",
        "add",
        "--name",
        "Bad",
        "--capacity",
        "zero",
        "--timezone",
        "Mars/Base",
    ]);
    assert!(
        !ok && err.contains("--capacity") && err.contains("--timezone"),
        "{err}"
    );
    let area = waybill::db::areas::find_by_name(&mut app.conn(), "Nanshan")
        .unwrap()
        .unwrap();
    assert_eq!(area.windows, "10:00-13:00,14:00-17:00");
    assert_eq!(
        (
            area.capacity,
            area.closed_weekdays.as_str(),
            area.timezone.as_str()
        ),
        (4, "sun", "Asia/Shanghai")
    );

    let courier = app.create_user(waybill::domain::Role::Courier, "rider@example.com");
    let (ok, out, err) = cli(&[
        "courier",
        "assign",
        "--email",
        "rider@example.com",
        "--area",
        "Nanshan",
    ]);
    assert!(ok && out.contains("now works area Nanshan"), "{out}{err}");
    assert_eq!(
        waybill::db::areas::of_courier(&mut app.conn(), &courier.id).unwrap(),
        [area.id]
    );
    let (ok, _, err) = cli(&[
        "courier",
        "assign",
        "--email",
        "rider@example.com",
        "--area",
        "Mars",
    ]);
    assert!(!ok && err.contains("no service area"), "{err}");

    // A courier's key opens the courier API and not the seller's.
    let (ok, out, err) = cli(&["apikey", "create", "--email", "rider@example.com"]);
    assert!(ok, "{err}");
    let courier = out.trim();
    assert_eq!(app.api_get(courier, "/courier/pickups").await.status(), 200);
    assert_eq!(app.api_get(courier, "/me").await.status(), 401);
}

#[actix_web::test]
async fn demo_adds_the_shenzhen_pickup_area_with_its_courier() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let mut c = waybill(&app.db);
        c.arg("demo");
        let (ok, out, err) = run(c, "");
        assert!(ok && out.contains("Pickup area Shenzhen"), "{out}{err}");
    }
    let mut conn = app.conn();
    let areas = waybill::db::areas::list(&mut conn).unwrap();
    assert_eq!(areas.len(), 1);
    assert_eq!(areas[0].postal_prefixes, "518");
    let courier = waybill::db::users::find_by_email(&mut conn, "courier@demo.waybill.test")
        .unwrap()
        .unwrap();
    assert_eq!(
        waybill::db::areas::of_courier(&mut conn, &courier.id).unwrap(),
        [areas[0].id.clone()]
    ); // The demo seller can book through the API at once: it has one default sender address,
    // inside the demo area, however often demo runs.
    let seller = waybill::db::users::find_by_email(&mut conn, "seller@demo.waybill.test")
        .unwrap()
        .unwrap();
    let addresses = waybill::db::addresses::list(&mut conn, &seller.id).unwrap();
    assert_eq!(addresses.len(), 1);
    assert!(addresses[0].is_default);
    assert!(addresses[0].postal_code.starts_with("518"));
}

#[actix_web::test]
async fn bad_configuration_is_a_clear_startup_error() {
    let db = TestDb::new(false);
    let mut cmd = waybill(&db);
    cmd.env("DATABASE_URL", "mysql://localhost/waybill")
        .arg("migrate");
    let (ok, _, err) = run(cmd, "");
    assert!(!ok);
    assert!(
        err.contains("DATABASE_URL scheme `mysql://` is not supported"),
        "{err}"
    );

    let mut cmd = waybill(&db);
    cmd.env("WAYBILL_MODE", "production").arg("migrate");
    let (ok, _, err) = run(cmd, "");
    assert!(
        !ok && err.contains("WAYBILL_SESSION_KEY is required"),
        "{err}"
    );
}

/// `waybill serve` as a user runs it: prints its URL, serves, and never logs secrets.
#[actix_web::test]
async fn serve_starts_prints_its_url_and_keeps_secrets_out_of_the_log() {
    let db = TestDb::for_backend();
    let mut child = waybill(&db)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "info,waybill=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .strip_prefix("Waybill listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let v = Visitor {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: url.clone(),
    };
    assert_eq!(v.get("/healthz").await.status(), 200);
    let secret_pw = "very-secret-password-77";
    let r = v
        .submit(
            "/signup",
            "/signup",
            &[
                ("store_name", "Log Test"),
                ("name", "Log"),
                ("email", "log@example.com"),
                ("phone", "13800138000"),
                ("password", secret_pw),
                ("password_confirm", secret_pw),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    v.submit(
        "/password/forgot",
        "/password/forgot",
        &[("email", "log@example.com")],
    )
    .await;
    let mail = eventually(10, "the reset mail", || {
        mails_in(&db.dir.path().join("mail")).pop()
    })
    .await;
    let token = reset_token_in(&mail);
    assert_eq!(
        v.get(&format!("/password/reset?token={token}"))
            .await
            .status(),
        200
    );

    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("path=/password/reset"),
        "requests are logged:\n{log}"
    );
    for secret in [secret_pw, &token, &cookie] {
        assert!(!log.contains(secret), "the log leaks {secret}:\n{log}");
    }
}

#[actix_web::test]
async fn wallet_credit_from_the_command_line() {
    let app = spawn_app().await;
    let id = app
        .create_user(waybill::domain::Role::Seller, "clicredit@example.com")
        .id;
    let credit = |key: &str| {
        let mut c = waybill(&app.db);
        c.args([
            "wallet",
            "credit",
            "--email",
            "clicredit@example.com",
            "--amount",
            "100.00",
            "--note",
            "opening balance",
            "--idempotency-key",
            key,
        ]);
        c
    };
    let (ok, out, err) = run(credit("once"), "");
    assert!(ok, "{err}");
    assert!(
        out.contains("credited ¥100.00 to clicredit@example.com; balance ¥100.00"),
        "{out}"
    );
    let (ok, out, _) = run(credit("once"), "");
    assert!(ok && out.contains("already credited"), "{out}");
    assert_eq!(app.balance(&id), 10_000);
    let mut bad = waybill(&app.db);
    bad.args([
        "wallet",
        "credit",
        "--email",
        "clicredit@example.com",
        "--amount",
        "1.234",
        "--note",
        "x",
    ]);
    let (ok, _, err) = run(bad, "");
    assert!(!ok && err.contains("--amount"), "{err}");
}

/// A `waybill serve` of this test's own, stopped when the test ends.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &TestDb) -> Server {
    let mut child = waybill(db)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("Waybill listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    Server { child, url }
}

/// Two server processes on one database book one window at once: never over capacity.
#[actix_web::test]
async fn two_servers_never_overbook_a_pickup_window() {
    let app = spawn_app().await;
    crate::pickups::add_area(&app, "Shenzhen", "518", 3, "");
    let seller = app.api_seller("two-servers@example.com", 500_000).await;
    let address = crate::pickups::address_of(&app, seller.key()).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        let s = book(
            &app,
            seller.key(),
            crate::fixtures::Booking::on("CNPOST-RAM"),
        )
        .await;
        ids.push(s["id"].as_str().unwrap().to_string());
    }
    let servers = [serve(&app.db), serve(&app.db)];
    let mut tasks = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let base = servers[i % 2].url.clone();
        let body = serde_json::json!({"address_id": address, "date": crate::pickups::tomorrow(),
                                      "window": "09:00-12:00", "shipment_ids": [id]});
        let key = seller.key().to_string();
        tasks.push(tokio::spawn(async move {
            let r = api_post_at(&base, &key, "/pickups", body, None).await;
            r.status().as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 3, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 409).count(), 9, "{codes:?}");
}
