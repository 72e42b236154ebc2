//! Record ids as types of their own: a shipment's id cannot be passed where a seller's is
//! wanted. Each is the UUIDv7 text Waybill stores; it reads as `&str` (so queries and paths
//! take it as they are) and serialises as the plain string.

use std::fmt;
use std::ops::Deref;

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                String::deserialize(d).map($name)
            }
        }
    )+};
}

id_type!(
    /// A shipment.
    ShipmentId,
    /// An account: a seller, courier, warehouse operator or admin.
    UserId,
    /// A door pickup.
    PickupId,
    /// A seller's sender address.
    AddressId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_as_its_text_and_compares_with_it() {
        let id = ShipmentId::new("0193a5f0-7d3e-7c44-9a7e-2f1d2c3b4a59");
        let s: &str = &id;
        assert_eq!(s, "0193a5f0-7d3e-7c44-9a7e-2f1d2c3b4a59");
        assert!(id == "0193a5f0-7d3e-7c44-9a7e-2f1d2c3b4a59");
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
        let back: ShipmentId = serde_json::from_str(&format!("\"{id}\"")).unwrap();
        assert_eq!(back, id);
    }
}
