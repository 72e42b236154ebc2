/// Who a user is; every page declares which roles may see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Role {
    #[default]
    Seller,
    Courier,
    Warehouse,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Seller, Role::Courier, Role::Warehouse, Role::Admin];

    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "seller" => Some(Role::Seller),
            "courier" => Some(Role::Courier),
            "warehouse" => Some(Role::Warehouse),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Seller => "seller",
            Role::Courier => "courier",
            Role::Warehouse => "warehouse",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Seller => "Seller",
            Role::Courier => "Courier",
            Role::Warehouse => "Warehouse operator",
            Role::Admin => "Platform operator",
        }
    }

    /// Where a user of this role lands after signing in.
    pub fn home(self) -> &'static str {
        match self {
            Role::Seller => "/seller",
            Role::Courier => "/courier",
            Role::Warehouse => "/warehouse",
            Role::Admin => "/admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse(" Admin "), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }
}
