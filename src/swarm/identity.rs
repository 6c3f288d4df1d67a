//! Object ids shaped like swarmkit's (`identity/randomid.go`, `NewID`),
//! drawn from the run's seeded streams so that ids are reproducible.

use std::cell::UnsafeCell;

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

/// A swarm object id: 25 lowercase base-36 characters, held inline.
///
/// It allocates nothing, and it reads as the `str` of its characters
/// everywhere (`Deref<Target = str>`, `Display`, `Debug`, `Ord`, `Hash`,
/// comparisons with `str` and `String`), so that an id prints, sorts and
/// keys a random stream exactly as a `String` holding the same characters
/// did. It keeps the 17 bytes drawn for it and writes its characters, in
/// the same 26 bytes, on the first read: most ids of a batch run are never
/// read, and the draw (which must stay in order on its stream) is what
/// costs least. 26 bytes of alignment 1 take no more room in a `Task` than
/// the `String` did, and no heap block.
pub struct Id {
    /// `[DRAWN, the 17 drawn bytes, 8 unused]` until the first read, then
    /// `[TEXT, the 25 characters]`. Written only by `as_str`, only while
    /// it reads `DRAWN` (see the safety note there).
    cell: UnsafeCell<[u8; 1 + ID_LEN]>,
}

/// [`Id`]'s first byte: the draw is held, not yet written in base 36.
const DRAWN: u8 = 0;
/// [`Id`]'s first byte: the characters are held.
const TEXT: u8 = 1;

impl Id {
    fn drawn(drawn: [u8; ID_ENTROPY_BYTES]) -> Id {
        let mut cell = [0u8; 1 + ID_LEN];
        cell[0] = DRAWN;
        cell[1..=ID_ENTROPY_BYTES].copy_from_slice(&drawn);
        Id {
            cell: UnsafeCell::new(cell),
        }
    }

    /// The id written as `s`: 25 lowercase base-36 characters (e.g. an id
    /// a test writes out), else None.
    pub fn parse(s: &str) -> Option<Id> {
        let bytes: [u8; ID_LEN] = s.as_bytes().try_into().ok()?;
        bytes.iter().all(|b| DIGITS.contains(b)).then(|| {
            let mut cell = [0u8; 1 + ID_LEN];
            cell[0] = TEXT;
            cell[1..].copy_from_slice(&bytes);
            Id {
                cell: UnsafeCell::new(cell),
            }
        })
    }

    /// The bytes as they are now (a copy).
    fn load(&self) -> [u8; 1 + ID_LEN] {
        // SAFETY: a read; the only write (in `as_str`) cannot run at the
        // same time: `Id` is not `Sync`, and `as_str` calls nothing that
        // could reach this id while it writes.
        unsafe { *self.cell.get() }
    }

    pub fn as_str(&self) -> &str {
        let now = self.load();
        if now[0] == DRAWN {
            let drawn: [u8; ID_ENTROPY_BYTES] =
                now[1..=ID_ENTROPY_BYTES].try_into().expect("17 bytes");
            let mut text = [0u8; 1 + ID_LEN];
            text[0] = TEXT;
            text[1..].copy_from_slice(&base36(&drawn));
            // SAFETY: no reference into the cell exists: references are
            // handed out below only once it reads TEXT, after which it is
            // never written again; `Id` is not `Sync`, so no other thread
            // sees it.
            unsafe { *self.cell.get() = text };
        }
        // SAFETY: the cell reads TEXT and is never written again, so a
        // shared reference to it lives as long as `&self`.
        let text: &[u8; 1 + ID_LEN] = unsafe { &*self.cell.get() };
        debug_assert!(text[0] == TEXT && text[1..].iter().all(|b| DIGITS.contains(b)));
        // SAFETY: the characters are bytes of `DIGITS` (written by
        // `base36` or checked by `parse`), which are ASCII and so valid
        // UTF-8.
        unsafe { std::str::from_utf8_unchecked(&text[1..]) }
    }
}

impl Clone for Id {
    fn clone(&self) -> Id {
        Id {
            cell: UnsafeCell::new(self.load()),
        }
    }
}

/// Compares as its `str` does.
impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Id {}

/// Orders as its `str` does.
impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Id) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Id {
    fn cmp(&self, other: &Id) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes as its `str` does (required by `Borrow<str>`).
impl std::hash::Hash for Id {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl std::ops::Deref for Id {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Id {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, as `str` does, so that width and precision flags apply.
        f.pad(self.as_str())
    }
}

impl std::fmt::Debug for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Id {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Id {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Id> for str {
    fn eq(&self, other: &Id) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Id> for &str {
    fn eq(&self, other: &Id) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Id> for String {
    fn eq(&self, other: &Id) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.as_str().to_string()
    }
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
pub fn random_id<R: RngCore + ?Sized>(rng: &mut R) -> Id {
    Id::drawn(draw(rng))
}

/// The characters of the id drawn as `drawn` (see [`random_id`]).
fn base36(drawn: &[u8; ID_ENTROPY_BYTES]) -> [u8; ID_LEN] {
    let mut limbs = limbs(drawn);
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
    let mut id = [0u8; ID_LEN];
    id.copy_from_slice(&digits[10..10 + ID_LEN]);
    id
}

/// The 17 random bytes of an id (see [`random_id`] for the draws) with
/// the top bit forced on.
fn draw<R: RngCore + ?Sized>(rng: &mut R) -> [u8; ID_ENTROPY_BYTES] {
    let mut n = [0u8; ID_ENTROPY_BYTES];
    n[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    n[8..16].copy_from_slice(&rng.next_u64().to_le_bytes());
    n[16] = rng.next_u32().to_le_bytes()[0];
    n[0] |= 0x80;
    n
}

/// The id's 136-bit number: the drawn bytes read big-endian as Go's
/// `SetBytes` reads them, as three 64-bit limbs, most significant first.
fn limbs(n: &[u8; ID_ENTROPY_BYTES]) -> [u64; 3] {
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
        let mut limbs = limbs(&draw(rng));
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

    /// An id prints, compares, orders and hashes as the `String` of its
    /// characters, whether it was read before it was cloned or not.
    #[test]
    fn an_id_reads_as_its_string() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        type H = BuildHasherDefault<std::collections::hash_map::DefaultHasher>;
        let mut rng = RngStreams::new(5).stream("id", "task");
        let ids: Vec<Id> = (0..300).map(|_| random_id(&mut rng)).collect();
        let copies: Vec<Id> = ids.iter().map(Id::clone).collect();
        let texts: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        for ((id, copy), text) in ids.iter().zip(&copies).zip(&texts) {
            assert_eq!(id.as_str(), text.as_str());
            assert_eq!(copy.as_str(), text.as_str());
            assert_eq!(format!("{id:?}"), format!("{text:?}"));
            assert_eq!(
                format!("{id:>30}|{id:.12}"),
                format!("{text:>30}|{text:.12}")
            );
            assert_eq!(
                H::default().hash_one(id),
                H::default().hash_one(text.as_str())
            );
            assert_eq!(Id::parse(text).as_ref(), Some(id));
            assert_eq!(id, text);
            assert_eq!(text, id);
            assert_eq!(id, &text.as_str());
        }
        for (a, ta) in ids.iter().zip(&texts).take(40) {
            for (b, tb) in copies.iter().zip(&texts).take(40) {
                assert_eq!(a.cmp(b), ta.cmp(tb));
                assert_eq!(a == b, ta == tb);
            }
        }
        // Read, then cloned: the clone holds the characters.
        let read_first: Vec<Id> = ids.iter().map(Id::clone).collect();
        assert!(read_first.iter().zip(&texts).all(|(i, t)| i == t));
        // No bigger than the `String` it replaced, and byte-aligned.
        assert_eq!(std::mem::size_of::<Id>(), 26);
        assert_eq!(std::mem::align_of::<Id>(), 1);
        assert_eq!(Id::parse("ABCDEFGHIJKLMNOPQRSTUVWXY"), None);
        assert_eq!(Id::parse("abc"), None);
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
            assert!(seen.insert(id.to_string()));
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
