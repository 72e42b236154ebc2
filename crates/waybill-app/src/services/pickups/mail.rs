//! The pickup e-mails to the seller: booked, reminder, accepted, completed, failed, missed.
//! Rendered before the transaction that queues them (see `mail::Rendered`).

use askama::Template;

use super::{PickupView, Settings};
use crate::error::AppError;
use crate::mail::{BASE_URL_MARK, Rendered};
use waybill_db::pickups::Pickup;

#[derive(Template)]
#[template(path = "mail/pickup.txt")]
struct PickupText<'a> {
    lines: &'a [String],
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/pickup.html")]
struct PickupHtml<'a> {
    lines: &'a [String],
    link: &'a str,
}

/// One pickup mail: a subject, a few lines and a link to the pickup.
pub struct PickupMail {
    pub subject: String,
    pub lines: Vec<String>,
    pub link: String,
}

impl crate::mail::Mail for PickupMail {
    const KIND: &'static str = "pickup";
    fn subject(&self) -> String {
        self.subject.clone()
    }
    fn text(&self) -> askama::Result<String> {
        PickupText {
            lines: &self.lines,
            link: &self.link,
        }
        .render()
    }
    fn html(&self) -> askama::Result<String> {
        PickupHtml {
            lines: &self.lines,
            link: &self.link,
        }
        .render()
    }
}

fn when(p: &Pickup) -> String {
    format!("{} {}", p.date, p.window_label)
}

fn render(
    p: &Pickup,
    subject: String,
    lines: Vec<String>,
    s: &Settings,
) -> Result<Rendered, AppError> {
    Ok(Rendered::of(&PickupMail {
        subject,
        lines,
        link: format!("{}/pickups/{}", s.base_url, p.id),
    })?)
}

pub fn booked(p: &Pickup, area: &str, parcels: usize, s: &Settings) -> Result<Rendered, AppError> {
    render(
        p,
        format!("Pickup booked: {}", when(p)),
        vec![
            format!(
                "A courier will collect {parcels} parcel(s) on {} ({area}).",
                when(p)
            ),
            "Print the handover sheet and have the parcels labelled and ready.".into(),
        ],
        s,
    )
}

/// The pickup moved to another day or window: the new time replaces the one in "booked".
pub fn rescheduled(
    p: &Pickup,
    area: &str,
    parcels: usize,
    s: &Settings,
) -> Result<Rendered, AppError> {
    render(
        p,
        format!("Pickup moved: {}", when(p)),
        vec![
            format!(
                "Your pickup is now on {} ({area}): a courier will collect {parcels} parcel(s) then.",
                when(p)
            ),
            "The earlier time no longer holds.".into(),
        ],
        s,
    )
}

pub fn reminder(v: &PickupView, s: &Settings) -> Result<Rendered, AppError> {
    let p = &v.pickup;
    render(
        p,
        format!("Reminder: pickup tomorrow, {}", p.window_label),
        vec![
            format!(
                "A courier comes tomorrow, {}, for {} parcel(s).",
                when(p),
                v.items.len()
            ),
            format!("Address: {}, {}", v.address.street_line(), v.address.city),
        ],
        s,
    )
}

pub fn accepted(
    v: &PickupView,
    courier: &waybill_db::users::User,
    s: &Settings,
) -> Result<Rendered, AppError> {
    let p = &v.pickup;
    render(
        p,
        format!("Courier assigned: {}", when(p)),
        vec![format!(
            "{} ({}) will collect your parcels on {}.",
            courier.name,
            courier.phone,
            when(p)
        )],
        s,
    )
}

pub fn completed(
    v: &PickupView,
    collected: usize,
    left: usize,
    s: &Settings,
) -> Result<Rendered, AppError> {
    let p = &v.pickup;
    let mut lines = vec![format!("{collected} parcel(s) collected on {}.", when(p))];
    if left > 0 {
        lines.push(format!(
            "{left} parcel(s) were not scanned and stay with you: book another pickup for them."
        ));
    }
    render(
        p,
        format!("Pickup completed: {collected} collected, {left} left"),
        lines,
        s,
    )
}

pub fn failed(
    v: &PickupView,
    reason: &str,
    note: Option<&str>,
    s: &Settings,
) -> Result<Rendered, AppError> {
    let p = &v.pickup;
    let mut lines = vec![format!(
        "The courier could not collect on {}: {reason}.",
        when(p)
    )];
    if let Some(n) = note {
        lines.push(format!("Note: {n}"));
    }
    lines.push("Your parcels stay with you; book another pickup when they are ready.".into());
    render(p, format!("Pickup failed: {reason}"), lines, s)
}

pub fn missed(v: &PickupView, s: &Settings) -> Result<Rendered, AppError> {
    let p = &v.pickup;
    render(
        p,
        format!("Pickup missed: {}", when(p)),
        vec![
            format!("No courier came in the window {}. We are sorry.", when(p)),
            "Your parcels stay with you; book another pickup from the pickups page.".into(),
        ],
        s,
    )
}

/// To the courier who accepted a pickup whose every parcel the seller cancelled.
pub fn emptied(p: &Pickup) -> Result<Rendered, AppError> {
    Ok(Rendered::of(&PickupMail {
        subject: format!("Pickup cancelled: {}", when(p)),
        lines: vec![
            format!(
                "Every parcel of the pickup on {} was cancelled by the seller: there is nothing to collect.",
                when(p)
            ),
            "It is gone from your queue.".into(),
        ],
        link: format!("{BASE_URL_MARK}/courier"),
    })?)
}
