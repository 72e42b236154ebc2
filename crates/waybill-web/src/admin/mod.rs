//! The platform operator's pages: overview, users of every role, wallets, channels, pickup
//! service areas, the mail outbox.

mod areas;
mod channels;
mod disputes;
mod tracking;
mod wallets;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{Admin, CsrfForm, CsrfOnly, PathId};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, html_status, redirect};
use waybill_app::mail::OutboxMail;
use waybill_app::services::accounts::{self, AccountInput, FieldErrors, User};
use waybill_app::services::sessions;
use waybill_domain::Role;
use waybill_domain::delivery::MailStatus;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(overview)
        .service(users_page)
        .service(add_user)
        .service(sign_out_everywhere)
        .service(mail_page);
    wallets::routes(cfg);
    channels::routes(cfg);
    areas::routes(cfg);
    tracking::routes(cfg);
    disputes::routes(cfg);
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    ctx: PageCtx,
    counts: Vec<(&'static str, usize)>,
    mail_pending: usize,
    mail_dead: usize,
}

#[get("/admin")]
async fn overview(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, PageError> {
    let (all, mails) = state
        .db(|c| Ok((accounts::users(c)?, waybill_app::mail::recent(c, 500)?)))
        .await?;
    let counts = Role::ALL
        .iter()
        .map(|r| (r.label(), all.iter().filter(|u| u.role() == *r).count()))
        .collect();
    html(&OverviewPage {
        ctx: PageCtx::new(&auth.viewer),
        counts,
        mail_pending: mails
            .iter()
            .filter(|m| m.status == MailStatus::Pending)
            .count(),
        mail_dead: mails
            .iter()
            .filter(|m| m.status == MailStatus::Dead)
            .count(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UserForm {
    email: String,
    name: String,
    role: String,
    store_name: String,
    phone: String,
    password: String,
    password_confirm: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: PageCtx,
    /// Each user with the number of sessions they have open.
    users: Vec<(User, i64)>,
    form: UserForm,
    errors: FieldErrors,
    roles: [Role; 4],
}

/// Every user with their open sessions.
async fn users_with_sessions(state: &AppState) -> Result<Vec<(User, i64)>, PageError> {
    let lifetimes = sessions::Lifetimes::of(&state.config);
    let (users, live) = state
        .db(move |c| Ok((accounts::users(c)?, sessions::live_counts(c, lifetimes)?)))
        .await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let n = live.get(u.id.as_str()).copied().unwrap_or(0);
            (u, n)
        })
        .collect())
}

#[get("/admin/users")]
async fn users_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, PageError> {
    let users = users_with_sessions(&state).await?;
    html(&UsersPage {
        ctx: PageCtx::new(&auth.viewer),
        users,
        form: UserForm {
            role: "courier".into(),
            ..Default::default()
        },
        errors: FieldErrors::new(),
        roles: Role::ALL,
    })
}

#[post("/admin/users")]
async fn add_user(
    state: web::Data<AppState>,
    auth: Admin,
    CsrfForm(mut form): CsrfForm<UserForm>,
) -> Result<HttpResponse, PageError> {
    let role = Role::parse(&form.role);
    let input = AccountInput {
        email: &form.email,
        role: role.unwrap_or_default(),
        name: &form.name,
        store_name: (role == Some(Role::Seller)).then_some(form.store_name.as_str()),
        phone: &form.phone,
        password: &form.password,
        password_confirm: &form.password_confirm,
    };
    let result = match (input.parse(), role) {
        (Ok(draft), Some(_)) => state.db(move |c| accounts::create(c, &draft)).await,
        (parsed, _) => {
            let mut errors = parsed.err().unwrap_or_default();
            if role.is_none() {
                errors.insert("role".into(), "Choose a role.".into());
            }
            Err(AppError::validation(errors))
        }
    };
    match result {
        Ok(user) => {
            tracing::info!(admin = %auth.user.id, user = %user.id, role = %user.role, "user created");
            flash(
                &auth.viewer.session,
                "ok",
                format!("{} ({}) can now sign in.", user.email, user.role().label()),
            );
            Ok(redirect("/admin/users"))
        }
        Err(AppError::Validation { fields, .. }) => {
            form.password.clear();
            form.password_confirm.clear();
            let users = users_with_sessions(&state).await?;
            html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &UsersPage {
                    ctx: PageCtx::new(&auth.viewer),
                    users,
                    form,
                    errors: fields,
                    roles: Role::ALL,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Ends every session of a user (a lost phone, a leaver, a suspected break-in).
#[post("/admin/users/{id}/sign-out")]
async fn sign_out_everywhere(
    state: web::Data<AppState>,
    auth: Admin,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let (user, ended) = state
        .db(move |c| {
            let user = accounts::find_user(c, &id)?;
            let ended = sessions::end_all(c, &user.id)?;
            Ok((user, ended))
        })
        .await?;
    tracing::info!(admin = %auth.user.id, user = %user.id, ended, "signed out everywhere");
    flash(
        &auth.viewer.session,
        "ok",
        format!(
            "{} is signed out everywhere ({ended} session{} ended).",
            user.email,
            if ended == 1 { "" } else { "s" }
        ),
    );
    Ok(redirect("/admin/users"))
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
struct MailPage {
    ctx: PageCtx,
    mails: Vec<OutboxMail>,
}

#[get("/admin/mail")]
async fn mail_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, PageError> {
    let mails = state.db(|c| waybill_app::mail::recent(c, 200)).await?;
    html(&MailPage {
        ctx: PageCtx::new(&auth.viewer),
        mails,
    })
}
