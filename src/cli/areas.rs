//! `waybill area add|list` and `waybill courier assign`: pickup service areas and who works
//! them; `waybill demo` adds a Shenzhen area with the demo courier.

use clap::Subcommand;

use crate::db::{self, DbConn};
use crate::domain::pickup::AreaInput;
use crate::domain::{EmailAddress, Role};

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run: its size does not matter
pub enum AreaCommand {
    /// Add a pickup service area, e.g. `--name Shenzhen --postal-prefixes 518 --capacity 20`.
    Add {
        #[arg(long)]
        name: String,
        /// Comma-separated postal-code prefixes (the longest matching prefix wins).
        #[arg(long, default_value = "")]
        postal_prefixes: String,
        /// Comma-separated cities (a city match counts below any prefix match).
        #[arg(long, default_value = "")]
        cities: String,
        /// Pickups per window per day.
        #[arg(long)]
        capacity: String,
        /// Comma-separated local windows (default 09:00-12:00,12:00-15:00,15:00-18:00).
        #[arg(long, default_value = "")]
        windows: String,
        /// Default Asia/Shanghai.
        #[arg(long, default_value = "")]
        timezone: String,
        /// Comma-separated weekdays without pickups, e.g. sun.
        #[arg(long, default_value = "")]
        closed_weekdays: String,
        /// Comma-separated dates without pickups, e.g. 2027-01-01.
        #[arg(long, default_value = "")]
        holidays: String,
        /// Local time after which today's windows can no longer be booked (default 12:00).
        #[arg(long, default_value = "")]
        cutoff: String,
    },
    /// List the service areas.
    List,
}

#[derive(Subcommand)]
pub enum CourierCommand {
    /// Let a courier work an area's pickups.
    Assign {
        #[arg(long)]
        email: String,
        #[arg(long)]
        area: String,
    },
}

fn fields(errors: std::collections::BTreeMap<String, String>) -> anyhow::Error {
    let lines: Vec<String> = errors
        .iter()
        .map(|(k, v)| format!("--{}: {v}", k.replace('_', "-")))
        .collect();
    anyhow::anyhow!("{}", lines.join("; "))
}

/// Adds an area; `Ok(false)` if one of that name exists.
fn add(conn: &mut DbConn, input: &AreaInput) -> anyhow::Result<bool> {
    let spec = input.parse().map_err(fields)?;
    let row = db::areas::AreaRow::new(&spec, db::now());
    Ok(db::areas::insert(conn, &row)?)
}

pub fn area(conn: &mut DbConn, command: AreaCommand) -> anyhow::Result<()> {
    match command {
        AreaCommand::Add {
            name,
            postal_prefixes,
            cities,
            capacity,
            windows,
            timezone,
            closed_weekdays,
            holidays,
            cutoff,
        } => {
            let input = AreaInput {
                name: name.clone(),
                postal_prefixes,
                cities,
                timezone,
                windows,
                capacity,
                closed_weekdays,
                holidays,
                cutoff,
            };
            if !add(conn, &input)? {
                anyhow::bail!("an area named {name} already exists");
            }
            println!("added area {}", name.trim());
            Ok(())
        }
        AreaCommand::List => {
            for a in db::areas::list(conn)? {
                println!(
                    "{}\tprefixes {}\tcities {}\t{}\twindows {}\tcapacity {}",
                    a.name, a.postal_prefixes, a.cities, a.timezone, a.windows, a.capacity
                );
            }
            Ok(())
        }
    }
}

fn assign(conn: &mut DbConn, email: &str, area: &str) -> anyhow::Result<bool> {
    let email = EmailAddress::parse(email).map_err(anyhow::Error::msg)?;
    let user = db::users::find_by_email(conn, email.as_str())?
        .filter(|u| u.role() == Role::Courier)
        .ok_or_else(|| anyhow::anyhow!("no courier account with e-mail {email}"))?;
    let area = db::areas::find_by_name(conn, area.trim())?
        .ok_or_else(|| anyhow::anyhow!("no service area named {area}"))?;
    Ok(db::areas::assign(conn, &user.id, &area.id)?)
}

pub fn courier(conn: &mut DbConn, command: CourierCommand) -> anyhow::Result<()> {
    match command {
        CourierCommand::Assign { email, area } => {
            let added = assign(conn, &email, &area)?;
            let state = if added { "now works" } else { "already works" };
            println!("{} {state} area {}", email.trim(), area.trim());
            Ok(())
        }
    }
}

/// The demo's Shenzhen area (postal codes 518…) with the demo courier in it; idempotent.
pub fn demo_area(conn: &mut DbConn, courier_email: &str) -> anyhow::Result<()> {
    let input = AreaInput {
        name: "Shenzhen".into(),
        postal_prefixes: "518".into(),
        cities: "Shenzhen,深圳".into(),
        capacity: "20".into(),
        ..Default::default()
    };
    let added = add(conn, &input)?;
    assign(conn, courier_email, "Shenzhen")?;
    println!(
        "Pickup area Shenzhen (postal codes 518…, windows 09:00-12:00, 12:00-15:00, 15:00-18:00): {}, courier {courier_email} assigned.",
        if added { "added" } else { "exists" }
    );
    Ok(())
}
