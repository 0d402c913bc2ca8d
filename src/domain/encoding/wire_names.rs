//! Reading unit enums by their wire names.
//!
//! serde's derived `Deserialize` for a unit enum carries its own visitor, enum access and
//! identifier code, about 1 KB of wasm per enum and per input format. The enums that the Estimate
//! page reads at start-up are read instead as a string, through the one string reader every
//! such enum shares, and then matched by name: the same JSON, the same error wording
//! (ARCHITECTURE.md, "Bundle size"). Each enum still derives `Serialize` with the same names,
//! and its tests read back every variant it writes.

/// Implements `Deserialize` for a unit enum from its wire names:
/// `deserialize_by_name!(Currency { "USD" => Usd, "CNY" => Cny });`.
macro_rules! deserialize_by_name {
    ($ty:ident { $($name:literal => $variant:ident),+ $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                let name = <String as serde::Deserialize>::deserialize(deserializer)?;
                match name.as_str() {
                    $($name => Ok($ty::$variant),)+
                    other => Err(serde::de::Error::unknown_variant(other, &[$($name),+])),
                }
            }
        }
    };
}
pub(crate) use deserialize_by_name;

#[cfg(test)]
mod tests {
    use serde::Serialize;

    #[derive(Debug, PartialEq, Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Light {
        Red,
        AmberFlash,
    }
    deserialize_by_name!(Light { "red" => Red, "amber_flash" => AmberFlash });

    #[test]
    fn reads_names_and_refuses_others_as_serde_does() {
        for light in [Light::Red, Light::AmberFlash] {
            let json = serde_json::to_string(&light).unwrap();
            assert_eq!(serde_json::from_str::<Light>(&json).unwrap(), light);
        }
        let error = serde_json::from_str::<Light>(r#""green""#)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("unknown variant `green`, expected `red` or `amber_flash`"),
            "{error}"
        );
        assert!(serde_json::from_str::<Light>("3").is_err());
        assert!(serde_json::from_value::<Light>(serde_json::json!("red")).is_ok());
    }

    /// Every enum read by name reads back every variant it writes.
    #[test]
    fn the_apps_enums_read_back_what_they_write() {
        use crate::domain::cost::money::Currency;
        use crate::domain::cost::pricing::{Resolution, VideoUnit};
        use crate::domain::provider::connection::Preset;
        use crate::domain::provider::routing::TaskType;
        use serde::de::DeserializeOwned;
        use std::fmt::Debug;

        fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(all: &[T]) {
            for value in all {
                let json = serde_json::to_string(value).unwrap();
                assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), value, "{json}");
            }
        }
        round_trip(&TaskType::ALL);
        round_trip(&Preset::ALL);
        round_trip(&Resolution::ALL);
        round_trip(&[VideoUnit::PerSecond, VideoUnit::PerClip]);
        round_trip(&[Currency::Usd, Currency::Cny]);
        assert_eq!(serde_json::to_string(&Currency::Cny).unwrap(), r#""CNY""#);
        assert_eq!(serde_json::to_string(&Resolution::P4k).unwrap(), r#""4k""#);
    }
}
