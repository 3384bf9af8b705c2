//! Where picks land: a weighted round-robin sequence and a consistent-hashing continuum, both built
//! once per configuration and read without locks.

/// Points per target on the continuum when all weights are equal (Kong's ketama uses 160).
const POINTS_PER_TARGET: u64 = 160;

/// A stable 64-bit hash (FNV-1a, then a SplitMix64 finaliser to spread short keys). Stable across
/// processes and builds, so every node maps a key to the same target.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Weighted round-robin without a materialised wheel: position `n` of a cycle of `total` (the sum
/// of the weights) is scrambled by a stride coprime with `total`, then mapped to the target whose
/// cumulative weight covers it. Each cycle gives every target exactly its weight in picks, spread
/// out rather than in runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Wheel {
    /// Cumulative weights: target `i` owns positions `ends[i-1]..ends[i]`.
    ends: Vec<u64>,
    stride: u64,
}

impl Wheel {
    pub(crate) fn new(weights: &[u32]) -> Wheel {
        let mut total = 0;
        let ends = weights
            .iter()
            .map(|w| {
                total += u64::from(*w);
                total
            })
            .collect();
        Wheel {
            ends,
            stride: coprime_stride(total),
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The scrambled position of the `n`th pick within the cycle.
    pub(crate) fn position(&self, n: u64) -> u64 {
        let total = self.total();
        if total == 0 {
            return 0;
        }
        // Both factors are below `total` (< 2^32), so the product fits.
        (n % total) * self.stride % total
    }

    /// The target owning a position.
    pub(crate) fn owner(&self, position: u64) -> usize {
        self.ends.partition_point(|end| *end <= position)
    }
}

/// A stride near the golden ratio of `total` that shares no factor with it, so that stepping by it
/// visits every position once per cycle.
fn coprime_stride(total: u64) -> u64 {
    if total <= 2 {
        return 1;
    }
    let mut stride = total * 618 / 1000;
    while gcd(stride, total) != 1 {
        stride += 1;
    }
    stride
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The consistent-hashing continuum: points sorted by hash, each owned by a target, with a share
/// of points proportional to the target's weight.
#[derive(Debug, Clone, Default)]
pub(crate) struct Continuum {
    points: Vec<(u64, usize)>,
}

impl Continuum {
    /// `targets` are `(address, weight)`; points depend only on the address, so adding or removing
    /// one target moves only the keys that land on its points.
    pub(crate) fn new(targets: &[(&str, u32)]) -> Continuum {
        let total: u64 = targets.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut points = Vec::new();
        if total == 0 {
            return Continuum { points };
        }
        let count = targets.len() as u64;
        for (index, (address, weight)) in targets.iter().enumerate() {
            let share = u64::from(*weight) * count * POINTS_PER_TARGET / total;
            for i in 0..share.max(1) {
                points.push((hash(format!("{address} {i}").as_bytes()), index));
            }
        }
        points.sort_unstable();
        Continuum { points }
    }

    /// Targets in the order a key visits them: the owner of the first point at or after the key's
    /// hash, then onwards around the circle (owners repeat; callers skip what they cannot use).
    pub(crate) fn walk(&self, key: &str) -> impl Iterator<Item = usize> + '_ {
        let start = self
            .points
            .partition_point(|(h, _)| *h < hash(key.as_bytes()));
        let (tail, head) = self.points.split_at(start);
        head.iter().chain(tail).map(|(_, index)| *index)
    }
}
