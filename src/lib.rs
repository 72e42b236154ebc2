//! Waybill: online delivery for a cross-border marketplace.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod labels;
pub mod mail;
pub mod security;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod web;
pub mod webhooks;
