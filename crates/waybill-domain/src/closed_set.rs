//! `closed_set!`: an enum of a closed set of values stored and sent as snake_case words, with
//! the one list of its values (`ALL`), `as_str`, `parse`, `Display`, serde as the word, and the
//! `String` conversions the database rows use (`deserialize_as = String`). A word that names
//! no value is an error that says which set it is not in.

#[macro_export]
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<$name, String> {
                $name::parse(&s).ok_or_else(|| format!("unknown {} `{s}`", $what))
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    <D::Error as ::serde::de::Error>::custom(format!("unknown {} `{s}`", $what))
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    closed_set! {
        /// A test set.
        pub enum Fruit ("fruit") {
            Apple = "apple",
            /// A long one.
            DragonFruit = "dragon_fruit",
        }
    }

    #[test]
    fn words_round_trip_and_strangers_are_refused() {
        for f in Fruit::ALL {
            assert_eq!(Fruit::parse(f.as_str()), Some(*f));
            assert_eq!(Fruit::try_from(String::from(*f)), Ok(*f));
        }
        assert_eq!(Fruit::DragonFruit.to_string(), "dragon_fruit");
        assert_eq!(
            Fruit::try_from("pear".to_string()),
            Err("unknown fruit `pear`".to_string())
        );
        let json = serde_json::to_string(&Fruit::Apple).unwrap();
        assert_eq!(json, "\"apple\"");
        assert_eq!(serde_json::from_str::<Fruit>(&json).unwrap(), Fruit::Apple);
        assert!(serde_json::from_str::<Fruit>("\"pear\"").is_err());
    }
}
