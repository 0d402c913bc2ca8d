//! Unit enums named once for the wire.
//!
//! [`wire_enum!`] declares a unit enum with each variant's wire name written once, next to the
//! variant, and derives everything that used to repeat those names: `Serialize` (the name as a
//! string), `Deserialize`, the `ALL` list and `as_str()`.
//!
//! serde's derived `Deserialize` for a unit enum carries its own visitor, enum access and
//! identifier code, about 1 KB of wasm per enum and per input format. These enums are read
//! instead as a string, through the one string reader every such enum shares, and then matched
//! by name: the same JSON, the same error wording (ARCHITECTURE.md, "Bundle size"). Writing is
//! `serialize_str` of the name, which is what serde_json does with a derived unit variant.

/// Declares a unit enum and its wire names:
///
/// ```ignore
/// wire_enum! {
///     /// The currencies the studio pays in.
///     #[derive(Clone, Copy, Debug, PartialEq, Eq)]
///     pub enum Currency {
///         /// US dollars.
///         Usd = "USD",
///         /// Chinese yuan.
///         Cny = "CNY",
///     }
/// }
/// ```
///
/// The enum gets `ALL` (every variant, in declaration order), `as_str()` (the variant's wire
/// name), and `Serialize` / `Deserialize` by that name. It must be `Copy`. Attributes on the
/// enum and on each variant (docs, derives, `#[default]`) are kept.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $name:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $ty {
            $($(#[$variant_meta])* $variant,)+
        }

        // An enum that is only read (a record's tag) uses neither.
        #[allow(dead_code)]
        impl $ty {
            /// Every variant, in declaration order.
            $vis const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            /// The name this value is written and read as.
            $vis fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

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
pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use std::fmt::Debug;

    wire_enum! {
        #[derive(Clone, Copy, Debug, PartialEq)]
        enum Light {
            Red = "red",
            AmberFlash = "amber_flash",
        }
    }

    #[test]
    fn reads_names_and_refuses_others_as_serde_does() {
        for light in Light::ALL {
            let json = serde_json::to_string(&light).unwrap();
            assert_eq!(serde_json::from_str::<Light>(&json).unwrap(), light);
        }
        assert_eq!(
            serde_json::to_string(&Light::AmberFlash).unwrap(),
            r#""amber_flash""#
        );
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

    /// Reads back every variant of `all` (an enum's `ALL`), and checks that each is written as
    /// its `as_str` name, that those names are `names`, in order, and that they are exactly the
    /// names its reader expects.
    fn round_trip<T>(all: &[T], as_str: fn(T) -> &'static str, names: &[&str])
    where
        T: Copy + Serialize + DeserializeOwned + PartialEq + Debug,
    {
        assert_eq!(
            all.iter().map(|value| as_str(*value)).collect::<Vec<_>>(),
            names
        );
        for value in all {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{}\"", as_str(*value)));
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), value, "{json}");
        }
        let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
        let expected = match quoted.as_slice() {
            [one] => one.clone(),
            [first, second] => format!("{first} or {second}"),
            _ => format!("one of {}", quoted.join(", ")),
        };
        let error = serde_json::from_str::<T>(r#""?""#).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("unknown variant `?`, expected {expected}")),
            "{error}"
        );
    }

    /// Every app enum named for the wire reads back every variant it writes, under the names
    /// its `ALL` and `as_str` give, which are the stored names.
    #[test]
    fn the_apps_enums_read_back_what_they_write() {
        use crate::domain::cost::money::Currency;
        use crate::domain::cost::pricing::{Resolution, VideoUnit};
        use crate::domain::provider::connection::Preset;
        use crate::domain::provider::routing::{FormatKind, SettingsKind, TaskType};

        let tasks = [
            "script_draft",
            "dialogue_emotion",
            "subtitle_timing",
            "character_voice",
            "narrative",
            "storyboard",
            "video",
        ];
        round_trip(&TaskType::ALL, TaskType::as_str, &tasks);
        let presets = [
            "holy_sheep",
            "open_ai",
            "deep_seek",
            "open_router",
            "anthropic",
            "local_sandbox",
            "custom",
        ];
        round_trip(&Preset::ALL, Preset::as_str, &presets);
        round_trip(
            &Resolution::ALL,
            Resolution::as_str,
            &["720p", "1080p", "4k"],
        );
        round_trip(
            &VideoUnit::ALL,
            VideoUnit::as_str,
            &["per_second", "per_clip"],
        );
        round_trip(&Currency::ALL, Currency::as_str, &["USD", "CNY"]);
        let formats = ["text", "json_object", "json_schema"];
        round_trip(&FormatKind::ALL, FormatKind::as_str, &formats);
        round_trip(&SettingsKind::ALL, SettingsKind::as_str, &["chat", "video"]);
        assert_eq!(serde_json::to_string(&Currency::Cny).unwrap(), r#""CNY""#);
        assert_eq!(serde_json::to_string(&Resolution::P4k).unwrap(), r#""4k""#);
    }
}
