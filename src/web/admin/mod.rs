//! The platform operator's pages: overview, users of every role, wallets, the mail outbox.

mod channels;
mod tracking;
mod wallets;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::db::outbox::OutboxMail;
use crate::db::users::User;
use crate::domain::Role;
use crate::error::AppError;
use crate::services::accounts::{self, AccountInput, FieldErrors};
use crate::web::extract::{Admin, CsrfForm};
use crate::web::page::{PageCtx, flash};
use crate::web::{AppState, html, html_status, redirect};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(overview)
        .service(users_page)
        .service(add_user)
        .service(mail_page);
    wallets::routes(cfg);
    channels::routes(cfg);
    tracking::routes(cfg);
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
async fn overview(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, AppError> {
    let (all, mails) = state
        .db(|c| {
            Ok((
                crate::db::users::list(c)?,
                crate::db::outbox::list_recent(c, 500)?,
            ))
        })
        .await?;
    let counts = Role::ALL
        .iter()
        .map(|r| (r.label(), all.iter().filter(|u| u.role() == *r).count()))
        .collect();
    html(&OverviewPage {
        ctx: PageCtx::new(&auth.viewer),
        counts,
        mail_pending: mails.iter().filter(|m| m.status == "pending").count(),
        mail_dead: mails.iter().filter(|m| m.status == "dead").count(),
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
    users: Vec<User>,
    form: UserForm,
    errors: FieldErrors,
    roles: [Role; 4],
}

#[get("/admin/users")]
async fn users_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, AppError> {
    let users = state.db(|c| Ok(crate::db::users::list(c)?)).await?;
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
) -> Result<HttpResponse, AppError> {
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
            let users = state.db(|c| Ok(crate::db::users::list(c)?)).await?;
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
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
struct MailPage {
    ctx: PageCtx,
    mails: Vec<OutboxMail>,
}

#[get("/admin/mail")]
async fn mail_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, AppError> {
    let mails = state
        .db(|c| Ok(crate::db::outbox::list_recent(c, 200)?))
        .await?;
    html(&MailPage {
        ctx: PageCtx::new(&auth.viewer),
        mails,
    })
}
