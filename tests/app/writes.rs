//! Write transactions. On SQLite they commit in groups on one write connection
//! (`db::writer`); what a caller sees must not depend on that, on either backend.

use chrono::Duration;
use diesel::result::Error;
use waybill::db;
use waybill::domain::Role;

use crate::helpers::*;

fn failures(pool: &db::Pool, email: &str) -> usize {
    db::login_failures::since(
        &mut pool.get().unwrap(),
        email,
        db::now() - Duration::hours(1),
    )
    .unwrap()
    .len()
}

#[actix_web::test]
async fn concurrent_writes_commit_and_a_failed_one_leaves_no_trace() {
    let app = spawn_app().await;
    let pool = app.state.pool.clone();
    let outcomes = concurrently(40, move |i| {
        let email = format!("writer-{i}@example.com");
        let result = db::write_tx(&mut pool.get().unwrap(), |c| {
            db::login_failures::record(c, &email, db::now())?;
            if i % 5 == 0 {
                // Fails after writing: its row must go, its neighbours' must stay.
                return Err(Error::RollbackTransaction);
            }
            db::login_failures::record(c, &email, db::now())
        });
        // Once the call has returned, every other connection sees the outcome.
        (i, result.is_ok(), failures(&pool, &email))
    });
    for (i, ok, seen) in outcomes {
        assert_eq!(ok, i % 5 != 0, "writer {i}");
        assert_eq!(seen, if ok { 2 } else { 0 }, "writer {i}");
    }
}

#[actix_web::test]
async fn a_write_that_panics_leaves_nothing_and_later_writes_work() {
    let app = spawn_app().await;
    let pool = app.state.pool.clone();
    let p = pool.clone();
    let crashed = std::thread::spawn(move || {
        db::write_tx::<(), Error, _>(&mut p.get().unwrap(), |c| {
            db::login_failures::record(c, "crash@example.com", db::now())?;
            panic!("a bug inside a write transaction");
        })
    })
    .join();
    assert!(crashed.is_err());
    db::write_tx(&mut pool.get().unwrap(), |c| {
        db::login_failures::record(c, "after@example.com", db::now())
    })
    .unwrap();
    assert_eq!(failures(&pool, "crash@example.com"), 0);
    assert_eq!(failures(&pool, "after@example.com"), 1);
}

#[actix_web::test]
async fn concurrent_default_addresses_leave_exactly_one_default() {
    // Each insert reads (is there a default?) and then writes: on SQLite that only holds
    // beside other writers when it goes through the write path, not a deferred transaction;
    // on PostgreSQL only when inserts for one seller are serialised (read committed).
    let app = spawn_app().await;
    let seller = app.create_user(Role::Seller, "many-docks@example.com").id;
    let (pool, owner) = (app.state.pool.clone(), seller.clone());
    let added = concurrently(16, move |i| {
        let a = waybill::domain::address::Address {
            name: format!("Dock {i}"),
            street1: "18 Keyuan Rd".into(),
            city: "Shenzhen".into(),
            postal_code: "518057".into(),
            country: "CN".into(),
            phone: "13800138000".into(),
            ..Default::default()
        };
        db::addresses::insert(&mut pool.get().unwrap(), &owner, &a, true)
    });
    for a in added {
        a.unwrap();
    }
    let pool = app.state.pool.clone();
    let all = db::addresses::list(&mut pool.get().unwrap(), &seller).unwrap();
    assert_eq!(all.len(), 16);
    assert_eq!(all.iter().filter(|a| a.is_default).count(), 1);
}
