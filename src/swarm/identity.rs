//! Object ids shaped like swarmkit's (`identity/randomid.go`, `NewID`),
//! drawn from the run's seeded streams so that ids are reproducible.

use rand::RngCore;

/// Length of a swarmkit object id.
pub const ID_LEN: usize = 25;

const ID_ENTROPY_BYTES: usize = 17;

const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// `PAIRS[v]`: the two base-36 digits of `v < 36²`, most significant
/// first (an id is written two digits per division).
const PAIRS: [[u8; 2]; 1296] = {
    let mut t = [[0u8; 2]; 1296];
    let mut i = 0;
    while i < 1296 {
        t[i] = [DIGITS[i / 36], DIGITS[i % 36]];
        i += 1;
    }
    t
};

/// 36⁶, below 2³²: a 12-digit chunk splits into two `u32` halves.
const SIX: u64 = 36u64.pow(6);
/// 36¹²: the number is cut into chunks of 12 digits.
const CHUNK: u64 = 36u64.pow(12);

/// Writes the 6 base-36 digits of `x < 36⁶` into `out`, most significant
/// first.
fn put6(out: &mut [u8], x: u32) {
    let (ab, c) = (x / 1296, x % 1296);
    let (a, b) = (ab / 1296, ab % 1296);
    out[0..2].copy_from_slice(&PAIRS[a as usize]);
    out[2..4].copy_from_slice(&PAIRS[b as usize]);
    out[4..6].copy_from_slice(&PAIRS[c as usize]);
}

/// Writes the 12 base-36 digits of `v < 36¹²` into `out`, most
/// significant first.
fn put12(out: &mut [u8], v: u64) {
    put6(&mut out[0..6], (v / SIX) as u32);
    put6(&mut out[6..12], (v % SIX) as u32);
}

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
    let mut limbs = draw_limbs(rng);
    // 36 base-36 digits (the number has 27), most significant first,
    // written 12 at a time from the least significant chunk: each pass
    // divides the number by 36¹² and writes the remainder.
    let mut digits = [0u8; 36];
    for at in [24, 12, 0] {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut() {
            let cur = (u128::from(rem) << 64) | u128::from(*limb);
            *limb = (cur / u128::from(CHUNK)) as u64;
            rem = (cur % u128::from(CHUNK)) as u64;
        }
        put12(&mut digits[at..at + 12], rem);
    }
    debug_assert!(limbs.iter().all(|&l| l == 0), "2^136 < 36^36");
    // Go: Text(36)[1:26] — the 27 digits are digits[9..], skip the most
    // significant and keep 25.
    let id = std::str::from_utf8(&digits[10..10 + ID_LEN]).expect("base-36 digits are ASCII");
    id.to_string()
}

/// The id's 136-bit number: 17 random bytes (see [`random_id`] for the
/// draws) with the top bit forced on, read big-endian as Go's `SetBytes`
/// reads them, as three 64-bit limbs, most significant first.
fn draw_limbs<R: RngCore + ?Sized>(rng: &mut R) -> [u64; 3] {
    let mut n = [0u8; ID_ENTROPY_BYTES];
    n[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    n[8..16].copy_from_slice(&rng.next_u64().to_le_bytes());
    n[16] = rng.next_u32().to_le_bytes()[0];
    n[0] |= 0x80;
    let lo = u128::from_be_bytes(n[1..].try_into().expect("16 bytes"));
    [u64::from(n[0]), (lo >> 64) as u64, lo as u64]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::RngStreams;

    /// The digit-by-digit conversion this module used before it wrote
    /// two digits per division: the ids must not change. (The draw itself
    /// is pinned by `golden_seed_1` and the constant-byte extremes.)
    fn reference_id<R: RngCore + ?Sized>(rng: &mut R) -> String {
        // The same draw; the conversion is the one under test.
        let mut limbs = draw_limbs(rng);
        // Divide by 36^12 three times: 36 base-36 digits, least significant
        // first (the number has 27).
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
        let mut id = String::with_capacity(ID_LEN);
        for &d in digits[1..=ID_LEN].iter().rev() {
            id.push(char::from(DIGITS[usize::from(d)]));
        }
        id
    }

    /// A source that returns the same byte everywhere: the extremes of
    /// the 136-bit draw.
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

    #[test]
    fn same_ids_as_the_digit_by_digit_conversion() {
        for seed in 0..50 {
            let mut a = RngStreams::new(seed).stream("id", "task");
            let mut b = a.clone();
            for _ in 0..200 {
                assert_eq!(random_id(&mut a), reference_id(&mut b));
            }
        }
        for b in 0..=255 {
            assert_eq!(random_id(&mut Const(b)), reference_id(&mut Const(b)), "{b}");
        }
    }

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
        // 0x80 00.. = 2^135 = "1hvy0lj3x0b883f8e30fyp21728" in base 36.
        assert_eq!(random_id(&mut Const(0)), "hvy0lj3x0b883f8e30fyp2172");
        // 2^136 - 1 = "2zrw1727u0mgg6ugs60vxe42e4f".
        let ones = random_id(&mut Const(0xff));
        assert_eq!(ones, "zrw1727u0mgg6ugs60vxe42e4");
        let zero = random_id(&mut Const(0));
        assert_ne!(zero, ones);
    }
}
