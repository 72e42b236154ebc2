//! What every page's layout needs: the user, the navigation for the role, the CSRF token
//! and one-shot flash messages.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use super::extract::Viewer;
use waybill_domain::Role;

const SESSION_FLASH: &str = "flash";

#[derive(Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: String,
    pub message: String,
}

/// Flashes kept for the next page: those of redirects nobody followed do not pile up in the
/// session cookie.
const MAX_FLASHES: usize = 5;
/// Characters of one flash: a message that echoes input (a barcode, ids) cannot overflow the
/// cookie (4 KB) and turn the answer into a 500.
const MAX_FLASH_CHARS: usize = 300;

/// Queues a message for the next page this browser sees.
pub fn flash(session: &Session, kind: &str, message: impl Into<String>) {
    let mut all: Vec<Flash> = session
        .get(SESSION_FLASH)
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut message: String = message.into();
    if message.chars().count() > MAX_FLASH_CHARS {
        message = message.chars().take(MAX_FLASH_CHARS - 1).collect();
        message.push('…');
    }
    all.push(Flash {
        kind: kind.into(),
        message,
    });
    let extra = all.len().saturating_sub(MAX_FLASHES);
    all.drain(..extra);
    // A flash that cannot be stored is lost, never fatal.
    let _ = session.insert(SESSION_FLASH, all);
}

pub struct NavUser {
    pub name: String,
    pub email: String,
    pub role_label: &'static str,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

pub struct PageCtx {
    pub user: Option<NavUser>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub flashes: Vec<Flash>,
    /// The viewer's time zone: every time on a page is shown in it.
    pub tz: waybill_domain::TimeZone,
}

fn nav_for(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Seller => &[
            ("/seller", "Dashboard"),
            ("/shipments", "Shipments"),
            ("/shipments/new", "Ship a parcel"),
            ("/pickups", "Pickups"),
            ("/wallet", "Wallet"),
            ("/seller/addresses", "Addresses"),
            ("/seller/settings", "Settings"),
        ],
        Role::Courier => &[("/courier", "Pickups")],
        Role::Warehouse => &[("/warehouse", "Inbound")],
        Role::Admin => &[
            ("/admin", "Overview"),
            ("/admin/users", "Users"),
            ("/admin/channels", "Channels"),
            ("/admin/areas", "Areas"),
            ("/admin/wallets", "Wallets"),
            ("/admin/tracking", "Tracking"),
            ("/admin/disputes", "Disputes"),
            ("/admin/mail", "Mail"),
        ],
    }
}

impl PageCtx {
    pub fn new(viewer: &Viewer) -> PageCtx {
        let flashes: Vec<Flash> = viewer
            .session
            .remove_as::<Vec<Flash>>(SESSION_FLASH)
            .and_then(Result::ok)
            .unwrap_or_default();
        let path = viewer.target.split('?').next().unwrap_or("");
        let (user, nav) = match &viewer.user {
            Some(u) => {
                let role = u.role();
                let nav = nav_for(role)
                    .iter()
                    .map(|(href, label)| NavItem {
                        href,
                        label,
                        active: path == *href,
                    })
                    .collect();
                (
                    Some(NavUser {
                        name: u.display_name().to_string(),
                        email: u.email.clone(),
                        role_label: role.label(),
                    }),
                    nav,
                )
            }
            None => (None, Vec::new()),
        };
        PageCtx {
            user,
            nav,
            csrf: viewer.csrf.clone(),
            flashes,
            tz: viewer
                .user
                .as_ref()
                .map(|u| u.time_zone())
                .unwrap_or_default(),
        }
    }

    /// A stored (UTC) time in the viewer's zone, for templates: `{{ ctx.at(t) }}`.
    pub fn at(&self, utc: impl StoredTime) -> String {
        self.tz.show(&utc.utc())
    }
}

/// A stored UTC time however a template holds it (by value or behind references).
pub trait StoredTime {
    fn utc(&self) -> chrono::NaiveDateTime;
}

impl StoredTime for chrono::NaiveDateTime {
    fn utc(&self) -> chrono::NaiveDateTime {
        *self
    }
}

impl<T: StoredTime + ?Sized> StoredTime for &T {
    fn utc(&self) -> chrono::NaiveDateTime {
        (**self).utc()
    }
}
