//! A pickup with what its pages and API show beside it: items, area, people.

use crate::error::AppError;
use std::collections::HashMap;
use waybill_db::shipments::Shipment;
use waybill_db::users::User;
use waybill_db::{self as db, DbConn};
use waybill_domain::address::Address;

use super::*;

/// A pickup with what its pages and API show beside it.
pub struct PickupView {
    pub pickup: Pickup,
    pub area: String,
    pub address: Address,
    pub items: Vec<(Item, Shipment)>,
    pub courier: Option<User>,
    pub seller: Option<User>,
}

impl PickupView {
    pub fn scanned(&self) -> usize {
        self.items
            .iter()
            .filter(|(i, _)| i.scanned_at.is_some())
            .count()
    }

    pub fn collected(&self) -> usize {
        self.items
            .iter()
            .filter(|(i, _)| i.outcome() == Outcome::Collected)
            .count()
    }

    pub fn flagged(&self) -> usize {
        self.items
            .iter()
            .filter(|(i, _)| i.outcome() == Outcome::NotCollected)
            .count()
    }

    pub fn total_weight_g(&self) -> i64 {
        self.items.iter().map(|(_, s)| s.weight_g).sum()
    }
}

/// Loads items, area names and people for a set of pickups in a few queries.
pub fn views(conn: &mut DbConn, pickups: Vec<Pickup>) -> Result<Vec<PickupView>, AppError> {
    let ids: Vec<String> = pickups.iter().map(|p| p.id.to_string()).collect();
    let mut items: HashMap<String, Vec<(Item, Shipment)>> = HashMap::new();
    for (i, s) in db::pickups::items(conn, &ids)? {
        items.entry(i.pickup_id.clone()).or_default().push((i, s));
    }
    let areas: HashMap<String, String> = db::areas::list(conn)?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let mut users: HashMap<String, Option<User>> = HashMap::new();
    let mut user = |c: &mut DbConn, id: &str| -> Result<Option<User>, AppError> {
        if let Some(u) = users.get(id) {
            return Ok(u.clone());
        }
        let u = db::users::find(c, id)?;
        users.insert(id.to_string(), u.clone());
        Ok(u)
    };
    let mut out = Vec::with_capacity(pickups.len());
    for p in pickups {
        let courier = match &p.courier_id {
            Some(id) => user(conn, id)?,
            None => None,
        };
        let seller = user(conn, &p.seller_id)?;
        out.push(PickupView {
            area: areas.get(&p.area_id).cloned().unwrap_or_default(),
            address: p.address.clone(),
            items: items.remove(p.id.as_str()).unwrap_or_default(),
            courier,
            seller,
            pickup: p,
        });
    }
    Ok(out)
}

pub fn view_for_seller(
    conn: &mut DbConn,
    seller_id: &str,
    id: &str,
) -> Result<PickupView, AppError> {
    let p = db::pickups::find_for_seller(conn, seller_id, id)?.ok_or(AppError::NotFound)?;
    views(conn, vec![p])?.pop().ok_or(AppError::NotFound)
}

pub fn list_for_seller(conn: &mut DbConn, seller_id: &str) -> Result<Vec<PickupView>, AppError> {
    let ps = db::pickups::list_for_seller(conn, seller_id, 100)?;
    views(conn, ps)
}
