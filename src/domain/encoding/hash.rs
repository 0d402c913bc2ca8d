//! The one non-cryptographic hash: FNV-1a, 32 bits. A checksum against accidents and a stable
//! fingerprint of a text, never an authenticator.

/// The FNV-1a 32-bit hash of `bytes`.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_fnv1a_32_vectors() {
        // The FNV reference test vectors for FNV-1a, 32 bits.
        assert_eq!(fnv1a32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9c_f968);
    }
}
