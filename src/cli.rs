//! The `waybill` command line: serve, migrate, demo, user, apikey, wallet, area, courier,
//! channel, and the tracking log's checkpoint, verify-chain and simulate.

mod areas;

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::{self, DbConn};
use crate::domain::{EmailAddress, Role};
use crate::services::accounts::{self, AccountInput};
use crate::startup::Application;
use crate::telemetry;

#[derive(Parser)]
#[command(
    name = "waybill",
    version,
    about = "Online delivery for a cross-border marketplace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server (pending migrations are applied first).
    Serve {
        /// Address to listen on, overriding WAYBILL_BIND.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Load demo accounts (one per role) and print their passwords.
    Demo,
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys (sellers, couriers and warehouse operators).
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Move money in a seller's wallet (recorded as a manual correction).
    Wallet {
        #[command(subcommand)]
        command: WalletCommand,
    },
    /// Pickup service areas.
    Area {
        #[command(subcommand)]
        command: areas::AreaCommand,
    },
    /// Couriers and their service areas.
    Courier {
        #[command(subcommand)]
        command: areas::CourierCommand,
    },
    /// Approved channels: the carrier webhook secret.
    Channel {
        #[command(subcommand)]
        command: ChannelCommand,
    },
    /// Take a signed checkpoint of the tracking log now and print it.
    Checkpoint,
    /// Play signed carrier event sequences for booked shipments through the running server's
    /// webhook (some late and out of order, some sent twice).
    Simulate {
        /// The server to post to (default: WAYBILL_BASE_URL).
        #[arg(long)]
        url: Option<String>,
        /// Most shipments to play.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Check the tracking log against the stored events and every kept checkpoint; exit 1
    /// naming the first bad event.
    VerifyChain,
}

#[derive(Subcommand)]
enum ChannelCommand {
    /// Print the channel's carrier webhook secret (the HMAC key, exactly).
    Secret { code: String },
    /// Replace the webhook secret and print the new one; the old one keeps verifying for
    /// the grace period.
    RotateSecret {
        code: String,
        /// Hours the old secret keeps working.
        #[arg(long, default_value_t = 24)]
        grace_hours: u32,
    },
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Credit a seller's wallet, e.g. `--amount 100.00 --note "goodwill for late pickup"`.
    Credit {
        #[arg(long)]
        email: String,
        /// Decimal amount in the platform currency.
        #[arg(long)]
        amount: String,
        /// Why: recorded on the ledger transaction.
        #[arg(long)]
        note: String,
        /// Makes a retried command move money once (default: a new key each run).
        #[arg(long)]
        idempotency_key: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Add {
        #[arg(long)]
        email: String,
        /// seller, courier, warehouse or admin
        #[arg(long)]
        role: String,
        /// Contact name (defaults to the part of the e-mail before @).
        #[arg(long)]
        name: Option<String>,
        /// Store name, for sellers (defaults to the contact name).
        #[arg(long)]
        store: Option<String>,
        #[arg(long, default_value = "+86 000 0000 0000")]
        phone: String,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create an API key for a seller, courier or warehouse operator and print it (it is
    /// shown only this once); it opens only that role's part of the API.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "CLI")]
        name: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = !matches!(cli.command, Command::Serve { .. });
    telemetry::init(if quiet { "warn" } else { "info" });
    let result = crate::config::load().and_then(|config| run(cli.command, config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { bind } => {
            if let Some(b) = bind {
                if config.base_url == format!("http://{}", config.bind) {
                    config.base_url = format!("http://{b}");
                }
                config.bind = b;
            }
            serve(config)
        }
        Command::Migrate => migrate(&config),
        Command::Demo => demo(&config),
        Command::Area { command } => areas::area(&mut *connect(&config)?, command),
        Command::Courier { command } => areas::courier(&mut *connect(&config)?, command),
        Command::Channel { command } => channel(command, &config),
        Command::Checkpoint => checkpoint(&config),
        Command::Simulate { url, limit } => simulate(&config, url, limit),
        Command::VerifyChain => verify_chain(&config),
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    name,
                    store,
                    phone,
                },
        } => user_add(&config, &email, &role, name, store, &phone),
        Command::Apikey {
            command: ApikeyCommand::Create { email, name },
        } => apikey_create(&config, &email, &name),
        Command::Wallet {
            command:
                WalletCommand::Credit {
                    email,
                    amount,
                    note,
                    idempotency_key,
                },
        } => wallet_credit(&config, &email, &amount, &note, idempotency_key),
    }
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let applied = db::migrate(&mut conn)?;
    println!(
        "{} migration(s) applied on {}",
        applied.len(),
        config.database_url.backend()
    );
    Ok(())
}

fn user_add(
    config: &Config,
    email: &str,
    role: &str,
    name: Option<String>,
    store: Option<String>,
    phone: &str,
) -> anyhow::Result<()> {
    let role = Role::parse(role)
        .ok_or_else(|| anyhow::anyhow!("--role must be seller, courier, warehouse or admin"))?;
    let password = read_password()?;
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
    let store = store.unwrap_or_else(|| name.clone());
    let input = AccountInput {
        email,
        role,
        name: &name,
        store_name: (role == Role::Seller).then_some(store.as_str()),
        phone,
        password: &password,
        password_confirm: &password,
    };
    let draft = input.parse().map_err(field_errors)?;
    let mut conn = connect(config)?;
    let user = accounts::create(&mut conn, &draft).map_err(app_error)?;
    println!("created {} ({})", user.email, user.role);
    Ok(())
}

fn apikey_create(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(anyhow::Error::msg)?;
    let mut conn = connect(config)?;
    let user = db::users::find_by_email(&mut conn, email.as_str())?
        .filter(|u| u.role() != Role::Admin)
        .ok_or_else(|| {
            anyhow::anyhow!("no seller, courier or warehouse account with e-mail {email}")
        })?;
    let key = crate::services::api_keys::create(&mut conn, &user.id, name).map_err(app_error)?;
    eprintln!("API key for {email} (shown only now; store it safely):");
    println!("{key}");
    Ok(())
}

fn wallet_credit(
    config: &Config,
    email: &str,
    amount: &str,
    note: &str,
    idempotency_key: Option<String>,
) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(anyhow::Error::msg)?;
    let amount = crate::domain::Money::parse_decimal(amount, config.currency)
        .map_err(|e| anyhow::anyhow!("--amount: {e}"))?;
    let note = crate::domain::required_text(note, "note", 500)
        .map_err(|e| anyhow::anyhow!("--note: {e}"))?;
    let mut conn = connect(config)?;
    let user = crate::services::accounts::find_seller(&mut conn, email.as_str())
        .map_err(app_error)?
        .ok_or_else(|| anyhow::anyhow!("no seller account with e-mail {email}"))?;
    let key = format!(
        "cli:{}",
        idempotency_key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    );
    let posted = crate::services::wallet::post(
        &mut conn,
        &crate::services::wallet::Posting {
            key: &key,
            kind: crate::services::wallet::Kind::ManualCredit,
            seller_id: &user.id,
            amount,
            shipment_id: None,
            payment_intent_id: None,
            note: Some(&note),
            actor_id: None,
        },
    )
    .map_err(app_error)?;
    let balance = crate::domain::Money::new(posted.balance_after, config.currency);
    if posted.replayed {
        println!("already credited (same idempotency key); balance of {email}: {balance}");
    } else {
        println!("credited {amount} to {email}; balance {balance}");
    }
    Ok(())
}

fn channel(command: ChannelCommand, config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    match command {
        ChannelCommand::Secret { code } => {
            let c = db::channels::find(&mut conn, &code.to_ascii_uppercase())?
                .ok_or_else(|| anyhow::anyhow!("no channel with code {code}"))?;
            println!("{}", c.webhook_secret);
        }
        ChannelCommand::RotateSecret { code, grace_hours } => {
            let code = code.to_ascii_uppercase();
            let secret = crate::security::random_token(32)?;
            let until = db::now() + chrono::Duration::hours(i64::from(grace_hours));
            if !db::channels::rotate_secret(&mut conn, &code, &secret, until)? {
                anyhow::bail!("no channel with code {code} (or it was rotated meanwhile)");
            }
            eprintln!("New secret for {code}; the old one works until {until} UTC:");
            println!("{secret}");
        }
    }
    Ok(())
}

fn log_key(config: &Config) -> anyhow::Result<crate::services::tracking_log::LogKey> {
    crate::services::tracking_log::LogKey::load_or_create(&config.log_key_file, &config.log_origin)
}

fn checkpoint(config: &Config) -> anyhow::Result<()> {
    use crate::services::tracking_log::{Taken, take_checkpoint};
    let key = log_key(config)?;
    let mut conn = connect(config)?;
    match take_checkpoint(&mut conn, &key).map_err(app_error)? {
        Taken::New(c) => {
            eprintln!("checkpoint of {} event(s) taken:", c.tree_size);
            print!("{}", c.note);
        }
        Taken::Unchanged(c) => {
            eprintln!(
                "the log has not grown since its latest checkpoint ({} event(s)):",
                c.tree_size
            );
            print!("{}", c.note);
        }
    }
    Ok(())
}

fn simulate(config: &Config, url: Option<String>, limit: i64) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let (shipments, requests) = crate::services::simulator::requests(&mut conn, limit.max(1))?;
    let secrets = db::channels::list(&mut conn)?
        .into_iter()
        .map(|c| (c.code, c.webhook_secret))
        .collect();
    let base = url
        .unwrap_or_else(|| config.base_url.clone())
        .trim_end_matches('/')
        .to_string();
    let sum = actix_web::rt::System::new().block_on(crate::services::simulator::post_all(
        &base, &secrets, requests,
    ))?;
    println!(
        "{shipments} shipment(s), {} signed request(s) to {base}: {} accepted, {} duplicate, {} rejected",
        sum.requests, sum.accepted, sum.duplicate, sum.rejected
    );
    Ok(())
}

fn verify_chain(config: &Config) -> anyhow::Result<()> {
    let path = &config.log_key_file;
    if !path.exists() {
        anyhow::bail!(
            "the log key {} is missing: verify with the key the log was signed with",
            path.display()
        );
    }
    let key = crate::services::tracking_log::LogKey::load(path, &config.log_origin)?;
    let mut conn = connect(config)?;
    let v = crate::services::tracking_log::verify_chain(&mut conn, &key).map_err(app_error)?;
    if v.holds() {
        println!(
            "ok: {} event(s) in the log match the store; {} checkpoint(s) signed by {} and consistent",
            v.events,
            v.checkpoints,
            key.verifier_key()
        );
        return Ok(());
    }
    for p in &v.problems {
        eprintln!("bad: {p}");
    }
    anyhow::bail!(
        "tracking log verification failed: {} problem(s), listed above",
        v.problems.len()
    )
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let started = std::time::Instant::now();
        let backend = config.database_url.backend();
        let app = Application::build(config)?;
        let url = format!("http://{}", app.state().config.bind);
        let port = app.port();
        tracing::info!(
            port,
            backend,
            ms = started.elapsed().as_millis() as u64,
            "ready"
        );
        println!("Waybill listening on {url} ({backend})");
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// One connection with migrations applied: what every CLI command works on.
fn connect(config: &Config) -> anyhow::Result<db::PooledConn> {
    let pool = db::connect(&config.database_url, 1)?;
    let mut conn = pool.get()?;
    db::migrate(&mut conn)?;
    Ok(conn)
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        anyhow::bail!(
            "give the password on standard input, e.g. `echo 'a long password' | waybill user add …`"
        );
    }
    Ok(pw)
}

fn field_errors(errors: accounts::FieldErrors) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    anyhow::anyhow!("{}", lines.join("; "))
}

fn app_error(e: crate::error::AppError) -> anyhow::Error {
    match e {
        crate::error::AppError::Validation { fields, .. } => field_errors(fields),
        other => anyhow::anyhow!("{other:#}"),
    }
}

const DEMO: [(Role, &str, &str, Option<&str>); 4] = [
    (
        Role::Seller,
        "seller@demo.waybill.test",
        "Li Wei",
        Some("Shenzhen Demo Trading Co."),
    ),
    (
        Role::Courier,
        "courier@demo.waybill.test",
        "Zhang Min",
        None,
    ),
    (
        Role::Warehouse,
        "warehouse@demo.waybill.test",
        "Wang Fang",
        None,
    ),
    (Role::Admin, "admin@demo.waybill.test", "Chen Jie", None),
];

/// Idempotent: the approved channels are added once (an operator's later edits are kept) and
/// the same four accounts exist every time. Each run gives them fresh passwords and
/// prints them: the only place Waybill ever prints a password.
fn demo(config: &Config) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let added = crate::services::demo_catalogue::load_catalogue(&mut conn)?;
    println!(
        "Approved channels: {} in the catalogue, {added} added now.",
        crate::services::demo_catalogue::demo_channels().len()
    );
    println!("Demo accounts (sign in at {}/login):", config.base_url);
    for (role, email, name, store) in DEMO {
        let password = format!("demo-{}", &crate::security::random_token(6)?);
        let state = upsert_demo_user(&mut conn, role, email, name, store, &password)?;
        println!(
            "  {:<10} {email:<30} password: {password}   ({state})",
            role.as_str()
        );
    }
    areas::demo_area(&mut conn, DEMO[1].1)?;
    demo_sender(&mut conn, DEMO[0].1)?;
    Ok(())
}

/// The demo seller's shop as its default sender address (once), so the API books right after
/// `demo`; it lies in the demo pickup area.
fn demo_sender(conn: &mut DbConn, email: &str) -> anyhow::Result<()> {
    let seller = db::users::find_by_email(conn, email)?
        .ok_or_else(|| anyhow::anyhow!("the demo seller {email} is missing"))?;
    if !crate::services::addresses::list(conn, &seller.id)
        .map_err(app_error)?
        .is_empty()
    {
        return Ok(());
    }
    let input = crate::domain::address::AddressInput {
        name: "李伟".into(),
        company: Some("深圳演示贸易有限公司".into()),
        street1: "科技园南路 18号".into(),
        district: Some("南山区".into()),
        city: "深圳市".into(),
        state: Some("广东省".into()),
        postal_code: "518057".into(),
        country: "CN".into(),
        phone: "+86 755 8888 0000".into(),
        ..Default::default()
    };
    let address = input
        .parse(crate::domain::address::Party::Sender, "")
        .map_err(field_errors)?;
    crate::services::addresses::add(conn, &seller.id, &address, true).map_err(app_error)?;
    println!("Sender address of {email}: {}", address.city);
    Ok(())
}

fn upsert_demo_user(
    conn: &mut DbConn,
    role: Role,
    email: &str,
    name: &str,
    store: Option<&str>,
    password: &str,
) -> anyhow::Result<&'static str> {
    if let Some(user) = db::users::find_by_email(conn, email)? {
        let hash = crate::security::hash_password(password)?;
        accounts::set_password(conn, &user.id, &hash).map_err(app_error)?;
        return Ok("existing account, new password");
    }
    let input = AccountInput {
        email,
        role,
        name,
        store_name: store,
        phone: "+86 755 8888 0000",
        password,
        password_confirm: password,
    };
    let draft = input.parse().map_err(field_errors)?;
    accounts::create(conn, &draft).map_err(app_error)?;
    Ok("created")
}
