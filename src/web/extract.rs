//! Request extractors: who is asking (`Viewer`), which roles a page admits (`Auth<A>`),
//! CSRF-checked forms (`CsrfForm<T>`) and API-key authentication (`ApiSeller`,
//! `ApiCourier`).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::AppState;
use crate::db::users::User;
use crate::domain::Role;
use crate::error::{ApiError, AppError};
use crate::security;

type LocalFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

pub(crate) const SESSION_USER: &str = "uid";
pub(crate) const SESSION_EPOCH: &str = "epoch";
pub(crate) const SESSION_CSRF: &str = "csrf";

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Ok(Some(t)) = session.get::<String>(SESSION_CSRF) {
        return Ok(t);
    }
    let token = security::random_token(32)?;
    session
        .insert(SESSION_CSRF, &token)
        .map_err(AppError::internal)?;
    Ok(token)
}

/// Refuses a state-changing request whose token is not this session's.
pub fn check_csrf(session: &Session, sent: Option<&str>) -> Result<(), AppError> {
    let expected = session.get::<String>(SESSION_CSRF).ok().flatten();
    match (sent, expected) {
        (Some(s), Some(e)) if security::constant_time_eq(s.as_bytes(), e.as_bytes()) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

/// Whoever is asking, signed in or not.
pub struct Viewer {
    pub user: Option<User>,
    pub session: Session,
    pub csrf: String,
    /// Path and query of this request, for "back to where you were going".
    pub target: String,
}

impl Viewer {
    /// Signs `user` in: a fresh session (no fixation), a fresh CSRF token.
    pub fn sign_in(&self, user: &User) -> Result<(), AppError> {
        self.session.renew();
        self.session.clear();
        self.session
            .insert(SESSION_USER, &user.id)
            .and_then(|_| self.session.insert(SESSION_EPOCH, user.session_epoch))
            .map_err(AppError::internal)?;
        let token = security::random_token(32)?;
        self.session
            .insert(SESSION_CSRF, token)
            .map_err(AppError::internal)?;
        Ok(())
    }
}

impl FromRequest for Viewer {
    type Error = AppError;
    type Future = LocalFuture<Self, AppError>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = req.get_session();
            let csrf = csrf_token(&session)?;
            let target = match req.query_string() {
                "" => req.path().to_string(),
                q => format!("{}?{q}", req.path()),
            };
            let uid = session.get::<String>(SESSION_USER).ok().flatten();
            let epoch = session.get::<i64>(SESSION_EPOCH).ok().flatten();
            let user = match uid {
                Some(uid) => {
                    let found = state(&req)?
                        .db(move |c| Ok(crate::db::users::find(c, &uid)?))
                        .await?;
                    // A password change bumps the epoch and so ends every older session.
                    match found {
                        Some(u) if !u.disabled && Some(u.session_epoch) == epoch => Some(u),
                        _ => {
                            session.remove(SESSION_USER);
                            session.remove(SESSION_EPOCH);
                            None
                        }
                    }
                }
                None => None,
            };
            Ok(Viewer {
                user,
                session,
                csrf,
                target,
            })
        })
    }
}

/// Which roles a page admits.
pub trait Access {
    const ROLES: &'static [Role];
}

pub struct SellerOnly;
pub struct CourierOnly;
pub struct WarehouseOnly;
pub struct AdminOnly;
pub struct AnyRole;

impl Access for SellerOnly {
    const ROLES: &'static [Role] = &[Role::Seller];
}
impl Access for CourierOnly {
    const ROLES: &'static [Role] = &[Role::Courier];
}
impl Access for WarehouseOnly {
    const ROLES: &'static [Role] = &[Role::Warehouse];
}
impl Access for AdminOnly {
    const ROLES: &'static [Role] = &[Role::Admin];
}
impl Access for AnyRole {
    const ROLES: &'static [Role] = &Role::ALL;
}

/// A signed-in user whose role the page admits: otherwise the login page (not signed in)
/// or 403 (wrong role).
pub struct Auth<A: Access> {
    pub user: User,
    pub viewer: Viewer,
    _access: PhantomData<A>,
}

pub type Seller = Auth<SellerOnly>;
pub type Courier = Auth<CourierOnly>;
pub type Warehouse = Auth<WarehouseOnly>;
pub type Admin = Auth<AdminOnly>;
pub type Anyone = Auth<AnyRole>;

impl<A: Access + 'static> FromRequest for Auth<A> {
    type Error = AppError;
    type Future = LocalFuture<Self, AppError>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        Box::pin(async move {
            let viewer = viewer.await?;
            let Some(user) = viewer.user.clone() else {
                return Err(AppError::LoginRequired {
                    next: viewer.target.clone(),
                });
            };
            if !A::ROLES.contains(&user.role()) {
                return Err(AppError::Forbidden);
            }
            Ok(Auth {
                user,
                viewer,
                _access: PhantomData,
            })
        })
    }
}

/// A url-encoded form whose `csrf_token` matches the session's; anything else is refused.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalFuture<Self, AppError>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let session = req.get_session();
        Box::pin(async move {
            let body = body
                .await
                .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
            let sent = pairs
                .iter()
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.as_str());
            check_csrf(&session, sent)?;
            serde_urlencoded::from_bytes::<T>(&body)
                .map(CsrfForm)
                .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))
        })
    }
}

/// A form that carries nothing but its CSRF token (a button: sign out, revoke, cancel…).
#[derive(serde::Deserialize)]
pub struct NoFields {}

pub type CsrfOnly = CsrfForm<NoFields>;

/// The seller behind `Authorization: Bearer KEY` on `/api/v1`.
pub struct ApiSeller {
    pub user: User,
    pub key_id: String,
}

impl FromRequest for ApiSeller {
    type Error = ApiError;
    type Future = LocalFuture<Self, ApiError>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = api_user(req, Role::Seller);
        Box::pin(async move {
            let (user, key_id) = found.await?;
            Ok(ApiSeller { user, key_id })
        })
    }
}

/// The courier behind `Authorization: Bearer KEY` (a handheld's key) on `/api/v1/courier`.
pub struct ApiCourier {
    pub user: User,
    pub key_id: String,
}

impl FromRequest for ApiCourier {
    type Error = ApiError;
    type Future = LocalFuture<Self, ApiError>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = api_user(req, Role::Courier);
        Box::pin(async move {
            let (user, key_id) = found.await?;
            Ok(ApiCourier { user, key_id })
        })
    }
}

/// The user of `role` whose API key the request carries, and the key's id.
fn api_user(req: &HttpRequest, role: Role) -> LocalFuture<(User, String), ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let state = state(req);
    Box::pin(async move {
        let unauthorized = || {
            ApiError(AppError::Unauthorized(
                "Send a valid API key as `Authorization: Bearer KEY`.".into(),
            ))
        };
        let key = header
            .as_deref()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(unauthorized)?;
        let hash = security::sha256_hex(key);
        let found = state?
            .db(move |c| {
                let found = crate::db::api_keys::authenticate_as(c, &hash, role)?;
                if let Some((k, _)) = &found {
                    let now = crate::db::now();
                    // Record use at most once a minute: no write on every request.
                    if k.last_used_at
                        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
                    {
                        crate::db::api_keys::touch(c, &k.id, now)?;
                    }
                }
                Ok(found)
            })
            .await?;
        let (key, user) = found.ok_or_else(unauthorized)?;
        Ok((user, key.id))
    })
}
