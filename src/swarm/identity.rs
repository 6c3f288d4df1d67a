//! Object ids shaped like swarmkit's (`identity/randomid.go`, `NewID`),
//! drawn from the run's seeded streams so that ids are reproducible.

use rand::RngCore;

/// Length of a swarmkit object id.
pub const ID_LEN: usize = 25;

const ID_ENTROPY_BYTES: usize = 17;

/// A 25-character lowercase base-36 id shaped like swarmkit's
/// `identity.NewID`: 17 random bytes with the top bit forced on, read as a
/// big-endian number (always 27 base-36 digits), keeping the 2nd to the
/// 26th digit (Go: `Text(36)[1:26]`).
///
/// Draws `next_u64`, `next_u64`, `next_u32` (five 32-bit words) and uses the
/// first 17 of their little-endian bytes. This is explicit rather than
/// `fill_bytes` so the draw count does not hinge on how a generator
/// rounds partial words.
pub fn random_id<R: RngCore + ?Sized>(rng: &mut R) -> String {
    let mut n = [0u8; ID_ENTROPY_BYTES];
    n[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    n[8..16].copy_from_slice(&rng.next_u64().to_le_bytes());
    n[16] = rng.next_u32().to_le_bytes()[0];
    n[0] |= 0x80;
    // The 136-bit number (n[0] most significant, as Go's SetBytes reads
    // it) as three 64-bit limbs, most significant first.
    let lo = u128::from_be_bytes(n[1..].try_into().expect("16 bytes"));
    let mut limbs = [u64::from(n[0]), (lo >> 64) as u64, lo as u64];
    // Divide by 36^12 three times: 36 base-36 digits, least significant
    // first (the number has 27).
    const CHUNK: u64 = 36u64.pow(12);
    let mut digits = [0u8; 36];
    for chunk in digits.chunks_mut(12) {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut() {
            let cur = (u128::from(rem) << 64) | u128::from(*limb);
            *limb = (cur / u128::from(CHUNK)) as u64;
            rem = (cur % u128::from(CHUNK)) as u64;
        }
        for d in chunk.iter_mut() {
            *d = (rem % 36) as u8;
            rem /= 36;
        }
    }
    debug_assert!(limbs.iter().all(|&l| l == 0), "2^136 < 36^36");
    // Go: Text(36)[1:26] — skip the most significant of the 27 digits.
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut id = String::with_capacity(ID_LEN);
    for &d in digits[1..=ID_LEN].iter().rev() {
        id.push(char::from(DIGITS[usize::from(d)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::RngStreams;

    /// Golden values: if these change, every recorded result changes.
    #[test]
    fn golden_seed_1() {
        let mut ids = RngStreams::new(1).stream("id", "task");
        assert_eq!(random_id(&mut ids), "pazvovvlna8jvt7nvxkugdl53");
        assert_eq!(random_id(&mut ids), "5ntqlm10gcehnoooxzfhrbg0s");
    }

    #[test]
    fn random_id_shape() {
        let mut rng = RngStreams::new(3).stream("id", "shape");
        let mut seen = std::collections::BTreeSet::new();
        let mut first_chars = std::collections::BTreeSet::new();
        for _ in 0..2000 {
            let id = random_id(&mut rng);
            assert_eq!(id.len(), ID_LEN, "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
                "{id}"
            );
            first_chars.insert(id.as_bytes()[0]);
            assert!(seen.insert(id));
        }
        // The leading digit is spread over the whole alphabet.
        assert_eq!(first_chars.len(), 36);
    }

    #[test]
    fn random_id_digits_extremes() {
        struct Const(u8);
        impl RngCore for Const {
            fn next_u32(&mut self) -> u32 {
                u32::from_le_bytes([self.0; 4])
            }
            fn next_u64(&mut self) -> u64 {
                u64::from_le_bytes([self.0; 8])
            }
            fn fill_bytes(&mut self, dst: &mut [u8]) {
                dst.fill(self.0);
            }
        }
        // 0x80 00.. = 2^135 = "1hvy0lj3x0b883f8e30fyp21728" in base 36.
        assert_eq!(random_id(&mut Const(0)), "hvy0lj3x0b883f8e30fyp2172");
        // 2^136 - 1 = "2zrw1727u0mgg6ugs60vxe42e4f".
        let ones = random_id(&mut Const(0xff));
        assert_eq!(ones, "zrw1727u0mgg6ugs60vxe42e4");
        let zero = random_id(&mut Const(0));
        assert_ne!(zero, ones);
    }
}
