//! Configuration: defaults, precedence, every key read, secrets kept out of Debug.

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults() {
    let c = from_sources(None, &env(&[])).unwrap();
    assert_eq!(c.bind, "127.0.0.1:8080");
    assert_eq!(
        c.database_url,
        DbUrl::Sqlite(PathBuf::from("data/waybill.db"))
    );
    assert_eq!(c.currency.code(), "CNY");
    assert_eq!(c.mode, Mode::Local);
    assert_eq!(c.mail_url, MailUrl::File(PathBuf::from("data/mail")));
    assert_eq!(c.base_url, "http://127.0.0.1:8080");
    assert_eq!(c.session_idle, Duration::from_secs(720 * 60));
    assert_eq!(c.session_max, Duration::from_secs(720 * 3_600));
    assert_eq!(c.mail_concurrency, 8);
    assert_eq!(c.sqlite_wal_limit, 16 << 20);
}

#[test]
fn every_key_is_read() {
    let sample = |key: &str| match key {
        "mode" => "local",
        "database_url" => "data/x.db",
        "sqlite_sync" => "normal",
        "sandbox_payments" => "off",
        "bind" => "127.0.0.1:1",
        "base_url" => "http://example.test",
        "mail_url" => "file://mail",
        "mail_from" => "a@example.test",
        "session_key" => "0123456789abcdef0123456789abcdef",
        "currency" => "USD",
        "data_dir" => "d",
        "workers" => "2",
        "webhook_allow_private" => "on",
        _ => "7",
    };
    for (key, var) in KEYS {
        let c = from_sources(None, &env(&[(var, sample(key))]));
        assert!(c.is_ok(), "{key}: {:?}", c.err());
        let toml = format!("{key} = \"{}\"", sample(key));
        assert!(from_sources(Some(&toml), &env(&[])).is_ok(), "{key}");
    }
}

#[test]
fn env_beats_file_beats_default() {
    let toml = "bind = \"0.0.0.0:9000\"\ncurrency = \"USD\"\n";
    let c = from_sources(Some(toml), &env(&[("WAYBILL_CURRENCY", "EUR")])).unwrap();
    assert_eq!(c.bind, "0.0.0.0:9000");
    assert_eq!(c.currency.code(), "EUR");
}

#[test]
fn unknown_file_keys_and_bad_values_are_errors() {
    assert!(from_sources(Some("bnid = \"x\""), &env(&[])).is_err());
    assert!(from_sources(None, &env(&[("DATABASE_URL", "mysql://x/y")])).is_err());
    assert!(from_sources(None, &env(&[("WAYBILL_CURRENCY", "yuan")])).is_err());
    assert!(from_sources(None, &env(&[("WAYBILL_MAIL_URL", "http://x")])).is_err());
    for bad in ["0", "-5", "1.5", "ten", "999999999"] {
        let e = env(&[("WAYBILL_SESSION_IDLE_MINUTES", bad)]);
        assert!(from_sources(None, &e).is_err(), "{bad}");
    }
    let c = from_sources(None, &env(&[("WAYBILL_SESSION_MAX_HOURS", "8")])).unwrap();
    assert_eq!(c.session_max, Duration::from_secs(8 * 3_600));
    for (var, bad) in [
        ("WAYBILL_MAIL_CONCURRENCY", "0"),
        ("WAYBILL_MAIL_CONCURRENCY", "many"),
        ("WAYBILL_SQLITE_WAL_LIMIT_MB", "0"),
        ("WAYBILL_SQLITE_WAL_LIMIT_MB", "1.5"),
    ] {
        assert!(
            from_sources(None, &env(&[(var, bad)])).is_err(),
            "{var}={bad}"
        );
    }
}

#[test]
fn production_requires_a_session_key() {
    let e = from_sources(None, &env(&[("WAYBILL_MODE", "production")])).unwrap_err();
    assert!(e.to_string().contains("WAYBILL_SESSION_KEY"));
    let key = "k".repeat(40);
    let c = from_sources(
        None,
        &env(&[
            ("WAYBILL_MODE", "production"),
            ("WAYBILL_SESSION_KEY", &key),
        ]),
    )
    .unwrap();
    assert!(
        !format!("{c:?}").contains(&key),
        "session key leaked into Debug"
    );
}

#[test]
fn secrets_do_not_leak_into_debug() {
    let c = from_sources(
        None,
        &env(&[
            (
                "WAYBILL_MAIL_URL",
                "smtp://user:hunter22@mail.example.com:587",
            ),
            (
                "DATABASE_URL",
                "postgres://app:pgsecret@db.example.com/waybill",
            ),
        ]),
    )
    .unwrap();
    let dbg = format!("{c:?}");
    assert!(
        !dbg.contains("hunter22") && !dbg.contains("pgsecret"),
        "{dbg}"
    );
    assert_eq!(c.database_url.backend(), "postgres");
}
