//! Hybrid logical clock: a timestamp that follows wall-clock time but never
//! goes backwards on a device and always sorts after what the device has
//! seen, even when phone clocks disagree. Used to order history for people
//! to read; the merge rules never depend on it.

use crate::DeviceId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch, UTC (the largest seen).
    pub wall_ms: i64,
    /// Orders events within one millisecond.
    pub counter: u32,
    /// Breaks ties between devices.
    pub device: DeviceId,
}

impl Hlc {
    pub fn zero(device: DeviceId) -> Self {
        Self {
            wall_ms: 0,
            counter: 0,
            device,
        }
    }

    /// The next timestamp for a local event at wall time `now_ms`.
    pub fn tick(self, now_ms: i64) -> Self {
        if now_ms > self.wall_ms {
            Self {
                wall_ms: now_ms,
                counter: 0,
                device: self.device,
            }
        } else {
            Self {
                counter: self.counter.saturating_add(1),
                ..self
            }
        }
    }

    /// Folds in a timestamp seen from elsewhere, so the next local event sorts after it.
    pub fn observe(self, seen: Hlc, now_ms: i64) -> Self {
        let wall = self.wall_ms.max(seen.wall_ms).max(now_ms);
        let counter = if wall == self.wall_ms && wall == seen.wall_ms {
            self.counter.max(seen.counter).saturating_add(1)
        } else if wall == self.wall_ms {
            self.counter.saturating_add(1)
        } else if wall == seen.wall_ms {
            seen.counter.saturating_add(1)
        } else {
            0
        };
        Self {
            wall_ms: wall,
            counter,
            device: self.device,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards_and_sorts_after_what_it_saw() {
        let d = DeviceId::new();
        let a = Hlc::zero(d).tick(1000);
        let b = a.tick(900); // the phone's clock went back
        assert!(b > a);
        let remote = Hlc {
            wall_ms: 5000,
            counter: 3,
            device: DeviceId::new(),
        };
        let c = b.observe(remote, 1000);
        assert!(c.wall_ms == 5000 && c.counter == 4);
        let next = c.tick(1001);
        assert!(next > c && next > remote);
        assert_eq!(
            c.tick(6000),
            Hlc {
                wall_ms: 6000,
                counter: 0,
                device: d
            }
        );
    }
}
