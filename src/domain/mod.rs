//! Pure rules: newtypes whose constructors are the only way in. No actix, no diesel.

pub mod address;
pub mod carrier_events;
pub mod channel;
mod country;
pub mod customs;
pub mod decimal;
mod email;
mod money;
mod parcel;
mod password;
mod phone;
pub mod rates;
mod role;
pub mod status;
pub mod tracking_flags;
pub mod tracking_log;
pub mod tracking_number;

pub use country::CountryCode;
pub use email::EmailAddress;
pub use money::{Currency, Money};
pub use parcel::{Parcel, ParcelInput, format_weight};
pub use password::NewPassword;
pub use phone::Phone;
pub use role::Role;
pub use status::{PickupStatus, Status};

/// A required free-text field: trimmed, non-empty, at most `max` characters.
pub fn required_text(raw: &str, what: &str, max: usize) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(format!("Enter the {what}."));
    }
    if t.chars().count() > max {
        return Err(format!("The {what} must be at most {max} characters."));
    }
    if t.chars().any(char::is_control) {
        return Err(format!("The {what} contains invalid characters."));
    }
    Ok(t.to_string())
}
