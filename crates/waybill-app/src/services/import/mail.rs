//! The one mail a CSV import sends when it has run: how many rows it booked, refused and
//! found already booked, and a link to the import (its rows book no confirmation each).

use askama::Template;

use waybill_domain::Money;

/// Refused rows the mail lists by line; the import's page has every one.
pub const LISTED: usize = 20;

/// A refused row: its line in the file, its reference and why.
pub struct Refusal {
    pub line: usize,
    pub reference: String,
    pub reason: String,
}

pub struct SummaryMail<'a> {
    pub filename: &'a str,
    /// Shipments in the file (rows of one reference count once).
    pub rows: usize,
    pub booked: usize,
    pub refused: usize,
    pub already: usize,
    /// Freight charged for the shipments this import booked.
    pub charged: Money,
    /// The first `LISTED` refused rows, by line.
    pub refusals: &'a [Refusal],
    pub link: String,
}

#[derive(Template)]
#[template(path = "mail/import.txt")]
struct SummaryText<'a> {
    m: &'a SummaryMail<'a>,
}

#[derive(Template)]
#[template(path = "mail/import.html")]
struct SummaryHtml<'a> {
    m: &'a SummaryMail<'a>,
}

impl SummaryMail<'_> {
    /// Refused rows the mail does not list.
    pub fn unlisted(&self) -> usize {
        self.refused.saturating_sub(self.refusals.len())
    }
}

impl crate::mail::Mail for SummaryMail<'_> {
    const KIND: &'static str = "import_summary";
    fn subject(&self) -> String {
        format!(
            "Import {}: {} booked, {} refused, {} already booked",
            self.filename, self.booked, self.refused, self.already
        )
    }
    fn text(&self) -> askama::Result<String> {
        SummaryText { m: self }.render()
    }
    fn html(&self) -> askama::Result<String> {
        SummaryHtml { m: self }.render()
    }
}
