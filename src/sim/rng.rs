//! Seeded random streams: one independent ChaCha8 stream per
//! `(purpose, entity)`.
//!
//! The run seed is expanded into a 32-byte ChaCha key with splitmix64; the
//! ChaCha stream number (its 64-bit nonce) is the FNV-1a hash of
//! `purpose ++ 0x00 ++ entity`. A stream therefore depends only on the seed
//! and its own name: adding a node, a service or a new purpose never shifts
//! the draws of any other stream, and the order in which streams are created
//! does not matter.
//!
//! Never use `thread_rng`, `StdRng` or a randomly seeded hasher in the
//! engine: all three would make runs irreproducible.

use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Derives named random streams from one run seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngStreams {
    pub seed: u64,
}

impl RngStreams {
    pub fn new(seed: u64) -> Self {
        RngStreams { seed }
    }

    /// The stream for `purpose` (what the draws are for, e.g. `"pull"`)
    /// and `entity` (who draws, e.g. a node or task name). The same
    /// arguments always give a generator in the same initial state.
    pub fn stream(&self, purpose: &str, entity: &str) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(seed_key(self.seed));
        rng.set_stream(stream_id(purpose, entity));
        rng
    }
}

/// A stream made on its first draw: the same generator as
/// [`RngStreams::stream`] gives, without its set-up cost when nothing is
/// ever drawn from it (a fixed latency, a node whose heartbeat never
/// matters). Drawing from it is drawing from that stream.
#[derive(Debug, Clone)]
pub struct LazyStream {
    seed: u64,
    id: u64,
    rng: Option<ChaCha8Rng>,
}

impl LazyStream {
    pub fn new(streams: &RngStreams, purpose: &str, entity: &str) -> LazyStream {
        LazyStream {
            seed: streams.seed,
            id: stream_id(purpose, entity),
            rng: None,
        }
    }

    fn rng(&mut self) -> &mut ChaCha8Rng {
        let (seed, id) = (self.seed, self.id);
        self.rng.get_or_insert_with(|| {
            let mut rng = ChaCha8Rng::from_seed(seed_key(seed));
            rng.set_stream(id);
            rng
        })
    }
}

impl RngCore for LazyStream {
    fn next_u32(&mut self) -> u32 {
        self.rng().next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.rng().next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.rng().fill_bytes(dst)
    }
}

/// The ChaCha key for a run seed: four consecutive splitmix64 outputs,
/// little-endian.
fn seed_key(seed: u64) -> [u8; 32] {
    let mut state = seed;
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    key
}

/// Sebastiano Vigna's splitmix64 step.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a64(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// FNV-1a 64 of `purpose ++ 0x00 ++ entity`. The separator keeps
/// `("ab", "c")` and `("a", "bc")` apart.
fn stream_id(purpose: &str, entity: &str) -> u64 {
    let h = fnv1a64(FNV_OFFSET, purpose.as_bytes());
    let h = fnv1a64(h, &[0]);
    fnv1a64(h, entity.as_bytes())
}

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
    use rand::Rng;

    fn first_u64s(mut rng: ChaCha8Rng, n: usize) -> Vec<u64> {
        (0..n).map(|_| rng.next_u64()).collect()
    }

    #[test]
    fn lazy_stream_draws_what_the_stream_draws() {
        let streams = RngStreams::new(42);
        let mut lazy = LazyStream::new(&streams, "pull", "redis:3.0.7");
        let lazy_draws: Vec<u64> = (0..5).map(|_| lazy.next_u64()).collect();
        assert_eq!(
            lazy_draws,
            first_u64s(streams.stream("pull", "redis:3.0.7"), 5)
        );
        let other = first_u64s(streams.stream("pull", "redis:3.0.6"), 5);
        assert_ne!(lazy_draws, other);
    }

    #[test]
    fn splitmix64_reference_values() {
        // First outputs for state 0 from Vigna's reference implementation.
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(&mut s), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(splitmix64(&mut s), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn fnv1a64_reference_values() {
        assert_eq!(fnv1a64(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(stream_id("foo", "bar"), fnv1a64(FNV_OFFSET, b"foo\0bar"));
    }

    #[test]
    fn same_inputs_same_draws() {
        let a = RngStreams::new(7).stream("pull", "node-1");
        let b = RngStreams::new(7).stream("pull", "node-1");
        assert_eq!(first_u64s(a, 100), first_u64s(b, 100));
    }

    #[test]
    fn streams_differ_by_seed_purpose_and_entity() {
        let base = first_u64s(RngStreams::new(7).stream("pull", "node-1"), 8);
        for other in [
            RngStreams::new(8).stream("pull", "node-1"),
            RngStreams::new(7).stream("start", "node-1"),
            RngStreams::new(7).stream("pull", "node-2"),
            RngStreams::new(7).stream("pull", ""),
            RngStreams::new(7).stream("pullnode-1", ""),
            RngStreams::new(7).stream("pul", "lnode-1"),
        ] {
            assert_ne!(first_u64s(other, 8), base);
        }
        assert_ne!(stream_id("ab", "c"), stream_id("a", "bc"));
    }

    #[test]
    fn creating_other_streams_does_not_disturb_a_stream() {
        let streams = RngStreams::new(99);
        let alone = first_u64s(streams.stream("start", "web.1"), 16);
        // Interleave: create and drain many other streams, then the one.
        let mut others: Vec<ChaCha8Rng> = (0..50)
            .map(|i| streams.stream("start", &format!("web.{}", i + 2)))
            .collect();
        for o in &mut others {
            o.next_u64();
        }
        let mut s = streams.stream("start", "web.1");
        let mut o = streams.stream("pull", "web.1");
        let mut got = Vec::new();
        for _ in 0..16 {
            got.push(s.next_u64());
            o.next_u64();
        }
        assert_eq!(got, alone);
    }

    /// Golden values: if these change, every recorded result changes.
    /// Update them only together with a deliberate algorithm change.
    #[test]
    fn golden_seed_1() {
        let streams = RngStreams::new(1);
        assert_eq!(
            first_u64s(streams.stream("pull", "node-1"), 3),
            vec![
                GOLDEN_PULL_NODE1[0],
                GOLDEN_PULL_NODE1[1],
                GOLDEN_PULL_NODE1[2]
            ]
        );
        assert_eq!(
            first_u64s(streams.stream("start", "web.1"), 1),
            vec![GOLDEN_START_WEB1]
        );
        let mut ids = streams.stream("id", "task");
        assert_eq!(random_id(&mut ids), GOLDEN_IDS[0]);
        assert_eq!(random_id(&mut ids), GOLDEN_IDS[1]);
        let mut f = streams.stream("pull", "node-1");
        let x: f64 = f.random();
        assert_eq!(x.to_bits(), GOLDEN_F64_BITS);
    }

    // Cross-checked against an independent ChaCha8 + splitmix64 + FNV-1a
    // implementation (Python, written from the specifications).
    const GOLDEN_PULL_NODE1: [u64; 3] = [
        0xbf5f_3b56_7619_0686,
        0x3bd5_7fe4_8af9_7961,
        0x8b9b_f4f6_c8cc_087b,
    ];
    const GOLDEN_START_WEB1: u64 = 0xf303_46f8_82b9_7c6b;
    const GOLDEN_IDS: [&str; 2] = ["pazvovvlna8jvt7nvxkugdl53", "5ntqlm10gcehnoooxzfhrbg0s"];
    /// rand 0.9's `f64`: the top 53 bits of `next_u64` times 2^-53.
    const GOLDEN_F64_BITS: u64 = 0x3fe7_ebe7_6ace_c320;

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
