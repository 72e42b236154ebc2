//! Request extractors: who is asking (`Viewer`), which roles a page admits (`Auth<A>`),
//! CSRF-checked forms (`CsrfForm<T>`), API-key authentication (`ApiSeller`), and the keys
//! and bodies that reach queries checked at the door: record ids and channel codes in the
//! path (`PathId`, `PathCode`), JSON bodies free of control characters (`ApiJson<T>`).
//! `ApiCourier` for a courier's handheld.

use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::AppState;
use crate::error::{ApiError, AppError, PageError};
use waybill_app::security;
use waybill_app::services::accounts::User;
use waybill_app::services::api_keys;
use waybill_app::services::sessions;
use waybill_domain::{Role, channel, is_id};

type LocalFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

/// The token naming the server-side session (`services::sessions`); the user is found from it.
pub(crate) const SESSION_ID: &str = "sid";
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
    /// Signs `user` in: a new server-side session, a fresh cookie (no fixation), a fresh CSRF
    /// token.
    pub async fn sign_in(&self, state: &AppState, user: &User) -> Result<(), PageError> {
        let user_id = user.id.clone();
        let token = state.db(move |c| sessions::start(c, &user_id)).await?;
        self.session.renew();
        self.session.clear();
        self.session
            .insert(SESSION_ID, token)
            .map_err(AppError::internal)?;
        let csrf = security::random_token(32)?;
        self.session
            .insert(SESSION_CSRF, csrf)
            .map_err(AppError::internal)?;
        Ok(())
    }

    /// Ends this session on the server, so that a copy of the cookie opens nothing either,
    /// and drops the cookie.
    pub async fn sign_out(&self, state: &AppState) -> Result<(), PageError> {
        if let Some(token) = self.session.get::<String>(SESSION_ID).ok().flatten() {
            state.db(move |c| sessions::end(c, &token)).await?;
        }
        self.session.purge();
        Ok(())
    }
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = LocalFuture<Self, PageError>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = req.get_session();
            let csrf = csrf_token(&session)?;
            let target = match req.query_string() {
                "" => req.path().to_string(),
                q => format!("{}?{q}", req.path()),
            };
            let user = match session.get::<String>(SESSION_ID).ok().flatten() {
                Some(token) => {
                    let state = state(&req)?;
                    let lifetimes = sessions::Lifetimes::of(&state.config);
                    let found = state
                        .db(move |c| sessions::resume(c, &token, lifetimes))
                        .await?;
                    // Ended, run out or never known: the cookie names nothing any more.
                    if found.is_none() {
                        session.remove(SESSION_ID);
                    }
                    found
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
    type Error = PageError;
    type Future = LocalFuture<Self, PageError>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        Box::pin(async move {
            let viewer = viewer.await?;
            let Some(user) = viewer.user.clone() else {
                return Err(PageError(AppError::LoginRequired {
                    next: viewer.target.clone(),
                }));
            };
            if !A::ROLES.contains(&user.role()) {
                return Err(PageError(AppError::Forbidden));
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
    type Error = PageError;
    type Future = LocalFuture<Self, PageError>;

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
                .map_err(|e| {
                    PageError(AppError::BadRequest(format!(
                        "The form could not be read: {e}"
                    )))
                })
        })
    }
}

/// A form that carries nothing but its CSRF token (a button: sign out, revoke, cancel…).
#[derive(serde::Deserialize)]
pub struct NoFields {}

pub type CsrfOnly = CsrfForm<NoFields>;

/// Not found, as the area answers it: JSON under `/api`, the error page elsewhere.
fn not_found(req: &HttpRequest) -> actix_web::Error {
    if req.path().starts_with("/api/") {
        ApiError(AppError::NotFound).into()
    } else {
        PageError(AppError::NotFound).into()
    }
}

/// The route's one `{…}` segment (percent-decoded), if `accepts` takes it; otherwise 404
/// before any query runs: a NUL byte, a 600-character id or bytes that are not UTF-8 name no
/// record (and PostgreSQL would refuse the NUL with an error).
fn path_key(req: &HttpRequest, accepts: fn(&str) -> bool) -> Result<String, actix_web::Error> {
    match req.match_info().iter().next() {
        Some((_, v)) if accepts(v) => Ok(v.to_string()),
        _ => Err(not_found(req)),
    }
}

/// A record id from the path: what `clock::new_id` makes, or 404.
pub struct PathId(pub String);

impl PathId {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl FromRequest for PathId {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(path_key(req, is_id).map(PathId))
    }
}

/// A channel code from the path (`CNPOST-RAM`), or 404.
pub struct PathCode(pub String);

impl PathCode {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl FromRequest for PathCode {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(path_key(req, channel::is_code).map(PathCode))
    }
}

/// A tracking number from the path (letters and digits, as every carrier's format is), or
/// 404: a buyer's typo and a hostile byte alike name no parcel.
pub struct PathTrackingNumber(pub String);

impl PathTrackingNumber {
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Whether `s` could be a tracking number at all (no query runs for anything else).
pub fn is_tracking_number(s: &str) -> bool {
    (4..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl FromRequest for PathTrackingNumber {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(path_key(req, is_tracking_number).map(PathTrackingNumber))
    }
}

/// A JSON body (read with the scope's `JsonConfig`: size limit, content type, error shape)
/// whose strings and keys hold no control character: serde accepts `"\u0000"`, PostgreSQL
/// does not. Each one found is a field error under its JSON path (`recipient.name`,
/// `customs.items.0.description`), so the API answers 422 the way it does for any bad field.
pub struct ApiJson<T>(pub T);

impl<T> std::ops::Deref for ApiJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> ApiJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Field errors for every string (or key) under `v` that holds a control character.
fn control_characters(v: &serde_json::Value, path: &str, errors: &mut BTreeMap<String, String>) {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    let bad = |s: &str| s.chars().find(|c| c.is_control());
    let say = |c: char| {
        format!(
            "Remove the control character (U+{:04X}): text here may not hold one.",
            c as u32
        )
    };
    match v {
        serde_json::Value::String(s) => {
            if let Some(c) = bad(s) {
                errors.insert(path.to_string(), say(c));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                control_characters(item, &at(&i.to_string()), errors);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                match bad(k) {
                    // The key itself is not worth repeating back.
                    Some(c) => {
                        errors.insert(at("(key)"), say(c));
                    }
                    None => control_characters(item, &at(k), errors),
                }
            }
        }
        _ => {}
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = LocalFuture<Self, actix_web::Error>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = body.await?.into_inner();
            let mut errors = BTreeMap::new();
            control_characters(&value, "", &mut errors);
            if !errors.is_empty() {
                return Err(ApiError(AppError::validation(errors)).into());
            }
            serde_json::from_value::<T>(value)
                .map(ApiJson)
                .map_err(|e| {
                    ApiError(AppError::BadRequest(format!(
                        "The request body is not valid JSON for this endpoint: {e}"
                    )))
                    .into()
                })
        })
    }
}

/// Which role an API key must belong to.
pub trait KeyRole {
    const ROLE: Role;
}

impl KeyRole for SellerOnly {
    const ROLE: Role = Role::Seller;
}
impl KeyRole for CourierOnly {
    const ROLE: Role = Role::Courier;
}
impl KeyRole for WarehouseOnly {
    const ROLE: Role = Role::Warehouse;
}

/// The account behind `Authorization: Bearer KEY` on `/api/v1`, if its role is `R`'s: a key
/// opens only its own role's part of the API (401 otherwise, with `WWW-Authenticate`).
pub struct ApiKeyed<R: KeyRole> {
    pub user: User,
    pub key_id: String,
    _role: PhantomData<R>,
}

/// A seller's integration.
pub type ApiSeller = ApiKeyed<SellerOnly>;
/// A courier's handheld, on `/api/v1/courier`.
pub type ApiCourier = ApiKeyed<CourierOnly>;
/// A warehouse's scanning machine, on `/api/v1/warehouse`.
pub type ApiWarehouse = ApiKeyed<WarehouseOnly>;

impl<R: KeyRole + 'static> FromRequest for ApiKeyed<R> {
    type Error = ApiError;
    type Future = LocalFuture<Self, ApiError>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = api_user(req, R::ROLE);
        Box::pin(async move {
            let (user, key_id) = found.await?;
            Ok(ApiKeyed {
                user,
                key_id,
                _role: PhantomData,
            })
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
        state?
            .db(move |c| api_keys::authenticate(c, &hash, role))
            .await?
            .ok_or_else(unauthorized)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_named_by_their_json_path() {
        let v = serde_json::json!({
            "recipient": {"name": "Anna", "company": "A\u{0}B"},
            "customs": {"items": [{"description": "ok"}, {"description": "lamp\u{1b}"}]},
            "ids": ["x", "\u{0}"],
            "bad\u{0}key": 1,
            "note": "tab\tis a control character too"
        });
        let mut e = BTreeMap::new();
        control_characters(&v, "", &mut e);
        let keys: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "(key)",
                "customs.items.1.description",
                "ids.1",
                "note",
                "recipient.company"
            ]
        );
        assert!(e["recipient.company"].contains("U+0000"));
    }
}
