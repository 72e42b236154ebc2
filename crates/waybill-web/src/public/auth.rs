//! Sign-in, sign-out, seller sign-up and password reset.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{CsrfForm, CsrfOnly, Viewer};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, html_status, redirect, safe_next};
use waybill_app::services::accounts::{self, AccountInput, FieldErrors, SignIn};
use waybill_domain::Role;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login_form)
        .service(login)
        .service(logout)
        .service(signup_form)
        .service(signup)
        .service(forgot_form)
        .service(forgot)
        .service(reset_form)
        .service(reset);
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
    signed_out: Option<String>,
    reset: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[get("/login")]
async fn login_form(viewer: Viewer, q: web::Query<NextQuery>) -> Result<HttpResponse, PageError> {
    if let Some(u) = &viewer.user {
        return Ok(redirect(u.role().home()));
    }
    let q = q.into_inner();
    let notice = if q.reset.is_some() {
        Some("Your password has been changed. Sign in with the new one.")
    } else if q.signed_out.is_some() {
        Some("You have signed out.")
    } else {
        None
    };
    html(&LoginPage {
        ctx: PageCtx::new(&viewer),
        email: String::new(),
        next: q.next,
        error: None,
        notice,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    email: String,
    password: String,
    next: String,
}

#[post("/login")]
async fn login(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let (email, password) = (form.email.clone(), form.password);
    let outcome = state
        .db(move |c| accounts::sign_in(c, &email, &password))
        .await?;
    let (status, error) = match outcome {
        SignIn::Ok(user) => {
            viewer.sign_in(&state, &user).await?;
            tracing::info!(user = %user.id, role = %user.role, "signed in");
            let to = safe_next(&form.next).unwrap_or(user.role().home());
            return Ok(redirect(to));
        }
        SignIn::Wrong => (
            StatusCode::UNAUTHORIZED,
            "The e-mail or password is not right. Check both and try again.".to_string(),
        ),
        SignIn::Locked { minutes } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts for this account. Try again in {minutes} minute{}, or reset your password.",
                if minutes == 1 { "" } else { "s" }
            ),
        ),
    };
    html_status(
        status,
        &LoginPage {
            ctx: PageCtx::new(&viewer),
            email: form.email,
            next: form.next,
            error: Some(error),
            notice: None,
        },
    )
}

#[post("/logout")]
async fn logout(
    state: web::Data<AppState>,
    viewer: Viewer,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    viewer.sign_out(&state).await?;
    Ok(redirect("/login?signed_out=1"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignupForm {
    store_name: String,
    name: String,
    email: String,
    phone: String,
    password: String,
    password_confirm: String,
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    ctx: PageCtx,
    form: SignupForm,
    errors: FieldErrors,
}

#[get("/signup")]
async fn signup_form(viewer: Viewer) -> Result<HttpResponse, PageError> {
    if let Some(u) = &viewer.user {
        return Ok(redirect(u.role().home()));
    }
    html(&SignupPage {
        ctx: PageCtx::new(&viewer),
        form: SignupForm::default(),
        errors: FieldErrors::new(),
    })
}

#[post("/signup")]
async fn signup(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(mut form): CsrfForm<SignupForm>,
) -> Result<HttpResponse, PageError> {
    let input = AccountInput {
        email: &form.email,
        role: Role::Seller,
        name: &form.name,
        store_name: Some(&form.store_name),
        phone: &form.phone,
        password: &form.password,
        password_confirm: &form.password_confirm,
    };
    let result = match input.parse() {
        Ok(draft) => state.db(move |c| accounts::create(c, &draft)).await,
        Err(errors) => Err(AppError::validation(errors)),
    };
    match result {
        Ok(user) => {
            viewer.sign_in(&state, &user).await?;
            tracing::info!(user = %user.id, "seller signed up");
            flash(
                &viewer.session,
                "ok",
                format!("Welcome to Waybill, {}.", user.display_name()),
            );
            Ok(redirect(Role::Seller.home()))
        }
        Err(AppError::Validation { fields, .. }) => {
            form.password.clear();
            form.password_confirm.clear();
            html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SignupPage {
                    ctx: PageCtx::new(&viewer),
                    form,
                    errors: fields,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    ctx: PageCtx,
    sent_to: Option<String>,
}

#[get("/password/forgot")]
async fn forgot_form(viewer: Viewer) -> Result<HttpResponse, PageError> {
    html(&ForgotPage {
        ctx: PageCtx::new(&viewer),
        sent_to: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ForgotForm {
    email: String,
}

#[post("/password/forgot")]
async fn forgot(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Result<HttpResponse, PageError> {
    let email = form.email.trim().to_string();
    let base = state.config.base_url.clone();
    let e = email.clone();
    if state
        .db(move |c| accounts::request_reset(c, &e, &base))
        .await?
    {
        state.mail.wake();
    }
    // The same answer whether or not the account exists.
    html(&ForgotPage {
        ctx: PageCtx::new(&viewer),
        sent_to: Some(email),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenQuery {
    token: String,
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    ctx: PageCtx,
    token: String,
    valid: bool,
    errors: FieldErrors,
}

#[get("/password/reset")]
async fn reset_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let token = q.into_inner().token;
    let t = token.clone();
    let valid = state
        .db(move |c| accounts::reset_token_valid(c, &t))
        .await?;
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    html_status(
        status,
        &ResetPage {
            ctx: PageCtx::new(&viewer),
            token,
            valid,
            errors: FieldErrors::new(),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResetForm {
    token: String,
    password: String,
    password_confirm: String,
}

#[post("/password/reset")]
async fn reset(
    state: web::Data<AppState>,
    viewer: Viewer,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let mut errors = FieldErrors::new();
    accounts::check_new_password(&mut errors, &form.password, &form.password_confirm);
    if !errors.is_empty() {
        return html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetPage {
                ctx: PageCtx::new(&viewer),
                token: form.token,
                valid: true,
                errors,
            },
        );
    }
    let token = form.token.clone();
    let password = form.password;
    let done = state
        .db(move |c| {
            let hash = waybill_app::security::hash_password(&password)?;
            accounts::complete_reset(c, &token, &hash)
        })
        .await?;
    if !done {
        return html_status(
            StatusCode::GONE,
            &ResetPage {
                ctx: PageCtx::new(&viewer),
                token: form.token,
                valid: false,
                errors: FieldErrors::new(),
            },
        );
    }
    // The reset ended the account's sessions; this browser's own, whoever it was, ends too.
    viewer.sign_out(&state).await?;
    Ok(redirect("/login?reset=1"))
}
