//! Small shared encodings every capability uses: the one CSV writer, base64url, the one
//! non-cryptographic hash, and unit enums' wire names.

pub mod base64url;
pub mod csv;
pub mod hash;
pub(crate) mod wire_names;
