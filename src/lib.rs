//! Waybill: online delivery for a cross-border marketplace.

pub mod accounts;
pub mod booking;
pub mod channels;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod import;
pub mod labels;
pub mod mail;
pub mod payments;
pub mod printing;
pub mod quotes;
pub mod security;
pub mod startup;
pub mod telemetry;
pub mod wallet;
pub mod web;
