//! Pure rules: newtypes whose constructors are the only way in. No actix, no diesel.

pub mod address;
pub mod carrier_events;
pub mod channel;
pub mod closed_set;
pub mod country;
pub mod customs;
pub mod decimal;
pub mod delivery;
mod email;
pub mod ids;
pub mod import;
mod money;
pub mod notice;
mod parcel;
mod password;
pub mod payment;
mod phone;
pub mod pickup;
pub mod rates;
mod role;
pub mod romanise;
pub mod status;
pub mod text;
pub mod timezone;
pub mod tracking_flags;
pub mod tracking_log;
pub mod tracking_number;
pub mod weighing;

pub use country::CountryCode;
pub use email::EmailAddress;
pub use money::{Currency, Money};
pub use parcel::{MAX_SIDE_MM, MAX_WEIGHT_G, Parcel, ParcelInput, format_weight};
pub use password::NewPassword;
pub use phone::Phone;
pub use role::Role;
pub use status::{PickupStatus, Status};
pub use text::{is_id, optional_text};
pub use timezone::TimeZone;

/// A required free-text field: trimmed, with something visible in it (a name of zero-width
/// spaces is no name), no control characters or direction overrides, at most `max` characters.
pub fn required_text(raw: &str, what: &str, max: usize) -> Result<String, String> {
    match text::clean(raw, what, max)? {
        Some(t) => Ok(t.to_string()),
        None => Err(format!("Enter the {what}.")),
    }
}
