//! What the server acknowledged of a device's outbox and the device has not
//! yet removed from it: runs of consecutive outbox keys.
//!
//! Removing an entry from the browser's database costs three times reading
//! it (docs/performance.md, session 14), and a push of 100,000 records spent
//! most of its time there. So a push marks what the server took — one small
//! value for a run of thousands of entries — and the entries themselves go
//! later, when the sync is over (`forget_acknowledged` on the device), as
//! PouchDB checkpoints a replication instead of removing what it sent. An
//! entry inside a run is sent: never read for a push, never counted as
//! waiting, never shown as waiting.
//!
//! A run is only ever made of keys the server acknowledged, checked against
//! the store in the transaction that writes it: a record saved with a key
//! inside a run (a phone whose clock went back) removes that run at once,
//! in the save's own transaction, so nothing waiting is ever inside one.

use uuid::Uuid;

/// Consecutive outbox keys `first..=last`, all acknowledged: `count` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub first: Uuid,
    pub last: Uuid,
    pub count: u32,
}

/// The runs, in key order, none overlapping another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acknowledged(Vec<Run>);

/// Keys strictly between `after` and `before` (an open end when `None`):
/// where waiting entries may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub after: Option<Uuid>,
    pub before: Option<Uuid>,
}

impl Acknowledged {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries acknowledged and still in the outbox.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|r| u64::from(r.count)).sum()
    }

    pub fn runs(&self) -> &[Run] {
        &self.0
    }

    /// The run `id` falls in, if any. (Runs are few — one usually, merged
    /// push after push — so they are looked through, not searched: the
    /// phone downloads less code.)
    pub fn holding(&self, id: Uuid) -> Option<Run> {
        self.0
            .iter()
            .find(|run| run.first <= id && id <= run.last)
            .copied()
    }

    pub fn contains(&self, id: Uuid) -> bool {
        self.holding(id).is_some()
    }

    /// The run ending last before `id`.
    pub fn before(&self, id: Uuid) -> Option<Run> {
        self.0.iter().rev().find(|run| run.last < id).copied()
    }

    /// Adds a run. The caller has checked that the store holds exactly the
    /// acknowledged keys from `run.first` to `run.last`, so it overlaps no
    /// other run — except one it extends (same `first`), which it replaces.
    pub fn add(&mut self, run: Run) {
        self.remove(&run);
        let i = self
            .0
            .iter()
            .position(|r| r.first > run.first)
            .unwrap_or(self.0.len());
        self.0.insert(i, run);
    }

    /// Forgets a run (its entries were removed, or are being).
    pub fn remove(&mut self, run: &Run) {
        if let Some(i) = self.0.iter().position(|r| r.first == run.first) {
            self.0.remove(i);
        }
    }

    /// Where entries after `after` (from the start when `None`) may wait,
    /// in key order: everything outside the runs.
    pub fn gaps(&self, after: Option<Uuid>) -> Vec<Gap> {
        let mut gaps = vec![];
        let mut from = after;
        for run in &self.0 {
            if from.is_some_and(|f| run.last <= f) {
                continue;
            }
            if from.is_none_or(|f| f < run.first) {
                gaps.push(Gap {
                    after: from,
                    before: Some(run.first),
                });
            }
            from = Some(run.last);
        }
        gaps.push(Gap {
            after: from,
            before: None,
        });
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a gap means (the device reads it as a key range with open ends:
    /// `gap_keys` in the app's device store).
    impl Gap {
        fn contains(&self, id: Uuid) -> bool {
            self.after.is_none_or(|a| a < id) && self.before.is_none_or(|b| id < b)
        }
    }
    use proptest::prelude::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn run(first: u128, last: u128) -> Run {
        Run {
            first: id(first),
            last: id(last),
            count: u32::try_from(last - first + 1).unwrap_or(u32::MAX),
        }
    }

    #[test]
    fn nothing_acknowledged_leaves_one_gap_over_everything() {
        let none = Acknowledged::default();
        assert_eq!(
            none.gaps(None),
            vec![Gap {
                after: None,
                before: None
            }]
        );
        assert!(!none.contains(id(1)));
        assert_eq!(none.count(), 0);
    }

    #[test]
    fn a_run_extended_by_the_next_push_is_replaced_not_doubled() {
        let mut acknowledged = Acknowledged::default();
        acknowledged.add(run(10, 19));
        acknowledged.add(run(10, 29));
        assert_eq!(acknowledged.runs(), &[run(10, 29)]);
        assert_eq!(acknowledged.count(), 20);
        assert_eq!(acknowledged.before(id(30)), Some(run(10, 29)));
        assert_eq!(acknowledged.before(id(29)), None);
    }

    #[test]
    fn gaps_start_after_the_place_given_and_skip_the_runs() {
        let mut acknowledged = Acknowledged::default();
        acknowledged.add(run(40, 49));
        acknowledged.add(run(10, 19));
        let gap = |after: Option<u128>, before: Option<u128>| Gap {
            after: after.map(id),
            before: before.map(id),
        };
        assert_eq!(
            acknowledged.gaps(None),
            vec![
                gap(None, Some(10)),
                gap(Some(19), Some(40)),
                gap(Some(49), None)
            ]
        );
        // From inside a run, from between two, from past the last.
        assert_eq!(
            acknowledged.gaps(Some(id(15))),
            vec![gap(Some(19), Some(40)), gap(Some(49), None)]
        );
        assert_eq!(
            acknowledged.gaps(Some(id(30))),
            vec![gap(Some(30), Some(40)), gap(Some(49), None)]
        );
        assert_eq!(acknowledged.gaps(Some(id(60))), vec![gap(Some(60), None)]);
        acknowledged.remove(&run(10, 19));
        assert_eq!(acknowledged.runs(), &[run(40, 49)]);
    }

    proptest! {
        /// Every key is either in exactly one run or in exactly one gap:
        /// nothing waiting is hidden, nothing acknowledged is sent again.
        #[test]
        fn every_key_is_in_a_run_or_a_gap_never_both(
            bounds in proptest::collection::btree_set(0u128..200, 0..12),
            after in proptest::option::of(0u128..200),
            key in 0u128..200,
        ) {
            let bounds: Vec<u128> = bounds.into_iter().collect();
            let mut acknowledged = Acknowledged::default();
            for pair in bounds.chunks_exact(2) {
                acknowledged.add(run(pair[0], pair[1]));
            }
            let gaps = acknowledged.gaps(after.map(id));
            let in_gaps = gaps.iter().filter(|g| g.contains(id(key))).count();
            let past = after.is_none_or(|a| a < key);
            let in_run = acknowledged.contains(id(key));
            prop_assert_eq!(in_gaps, usize::from(past && !in_run));
            let held = bounds.chunks_exact(2).any(|p| p[0] <= key && key <= p[1]);
            prop_assert_eq!(in_run, held);
            // Gaps come in key order and never touch a run.
            for g in &gaps {
                prop_assert!(g.after.zip(g.before).is_none_or(|(a, b)| a < b));
            }
        }
    }
}
