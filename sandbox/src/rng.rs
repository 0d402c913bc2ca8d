//! Small deterministic building blocks: a stable hash and a seedable PRNG.
//!
//! The standard library's hasher is not guaranteed to be stable across Rust
//! releases, so replies would change with the toolchain. These two functions are
//! fixed forever, which keeps every reply and every fault sequence reproducible.

use serde_json::Value;

/// FNV-1a offset basis (64-bit).
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a prime (64-bit).
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Hashes bytes with 64-bit FNV-1a.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_extend(FNV_OFFSET, bytes)
}

/// Continues an FNV-1a hash with more bytes.
pub(crate) fn fnv1a_extend(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Hashes a JSON value canonically: object keys are visited in sorted order, so
/// two documents that differ only in key order or whitespace hash the same.
pub fn hash_json(value: &Value) -> u64 {
    hash_json_into(FNV_OFFSET, value)
}

fn hash_json_into(hash: u64, value: &Value) -> u64 {
    match value {
        Value::Null => fnv1a_extend(hash, b"n"),
        Value::Bool(b) => fnv1a_extend(hash, if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            let hash = fnv1a_extend(hash, b"#");
            fnv1a_extend(hash, n.to_string().as_bytes())
        }
        Value::String(s) => {
            // The length prefix keeps ["ab","c"] and ["a","bc"] apart.
            let hash = fnv1a_extend(hash, format!("s{}:", s.len()).as_bytes());
            fnv1a_extend(hash, s.as_bytes())
        }
        Value::Array(items) => {
            let mut hash = fnv1a_extend(hash, format!("[{}", items.len()).as_bytes());
            for item in items {
                hash = hash_json_into(hash, item);
            }
            fnv1a_extend(hash, b"]")
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut hash = fnv1a_extend(hash, format!("{{{}", keys.len()).as_bytes());
            for key in keys {
                hash = hash_json_into(hash, &Value::String(key.clone()));
                hash = hash_json_into(hash, &map[key]);
            }
            fnv1a_extend(hash, b"}")
        }
    }
}

/// The SplitMix64 generator: tiny, fast and good enough for picking phrases and
/// drawing fault probabilities. Not for anything security related.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Creates a generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns a float uniformly distributed in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // The top 53 bits fill the mantissa exactly.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Returns an integer uniformly distributed in `[0, n)`; `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        self.next_u64() % n
    }

    /// Returns an integer uniformly distributed in `[low, high]` (inclusive).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        match (high - low).checked_add(1) {
            Some(span) => low + self.below(span),
            None => self.next_u64(),
        }
    }

    /// Picks one element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn json_hash_ignores_key_order_but_not_values() {
        let a = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let b: Value =
            serde_json::from_str(r#"{ "messages":[{"content":"hi","role":"user"}], "model":"m" }"#)
                .unwrap();
        assert_eq!(hash_json(&a), hash_json(&b));
        let c = json!({"model": "m", "messages": [{"role": "user", "content": "hi!"}]});
        assert_ne!(hash_json(&a), hash_json(&c));
        assert_ne!(
            hash_json(&json!(["ab", "c"])),
            hash_json(&json!(["a", "bc"]))
        );
    }

    #[test]
    fn splitmix_is_deterministic_and_in_range() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..1000 {
            let x = a.next_f64();
            assert_eq!(x, b.next_f64());
            assert!((0.0..1.0).contains(&x));
            let y = a.between(4, 8);
            assert_eq!(y, b.between(4, 8));
            assert!((4..=8).contains(&y));
        }
        assert_eq!(SplitMix64::new(3).between(5, 5), 5);
        assert_eq!(SplitMix64::new(3).between(9, 2), 9);
    }
}
