//! Request mode: ended sessions counted per start minute, sent as
//! `sessions` items.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vigil_protocol::{SessionAggregateItem, SessionAggregates, SessionAttributes, SessionStatus};

use super::live::SessionState;

/// The most buckets one `sessions` item holds (Relay's and the reference
/// SDKs' limit).
pub(crate) const MAX_BUCKETS_PER_ITEM: usize = 100;

/// How a session ended, as the aggregates count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Exited,
    Errored,
    Abnormal,
    Crashed,
}

impl Outcome {
    const ALL: [Outcome; 4] = [
        Outcome::Exited,
        Outcome::Errored,
        Outcome::Abnormal,
        Outcome::Crashed,
    ];

    /// `exited` counts sessions that exited without an error; `errored`
    /// those that exited after one. A session still running (`ok`) when it
    /// is counted exited.
    fn of(state: SessionState) -> Outcome {
        match state.status() {
            SessionStatus::Crashed => Outcome::Crashed,
            SessionStatus::Abnormal => Outcome::Abnormal,
            _ if state.errors() > 0 => Outcome::Errored,
            _ => Outcome::Exited,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Counts per outcome of one bucket.
type Counts = [u32; 4];

fn add(counts: &mut Counts, outcome: Outcome, n: u32) {
    counts[outcome.index()] = counts[outcome.index()].saturating_add(n);
}

/// The buckets of one start minute: sessions without a distinct id, and
/// per distinct id (looked up by `&str`: counting an id seen before in
/// the minute allocates nothing).
#[derive(Default)]
struct MinuteBuckets {
    anonymous: Counts,
    users: HashMap<String, Counts>,
}

impl MinuteBuckets {
    fn counts(&mut self, distinct_id: Option<&str>) -> &mut Counts {
        let Some(id) = distinct_id else {
            return &mut self.anonymous;
        };
        if !self.users.contains_key(id) {
            self.users.insert(id.to_owned(), Counts::default());
        }
        self.users.get_mut(id).expect("inserted above")
    }

    /// The minute's buckets, the anonymous one first, then by id.
    fn into_items(self, minute: u32) -> impl Iterator<Item = SessionAggregateItem> {
        let started = UNIX_EPOCH + Duration::from_secs(u64::from(minute) * 60);
        let anonymous = (self.anonymous != Counts::default()).then_some((None, self.anonymous));
        let mut users: Vec<_> = self
            .users
            .into_iter()
            .map(|(id, c)| (Some(id), c))
            .collect();
        users.sort();
        anonymous
            .into_iter()
            .chain(users)
            .map(move |(distinct_id, counts)| {
                let mut item = SessionAggregateItem::new(started, distinct_id);
                item.exited = counts[Outcome::Exited.index()];
                item.errored = counts[Outcome::Errored.index()];
                item.abnormal = counts[Outcome::Abnormal.index()];
                item.crashed = counts[Outcome::Crashed.index()];
                item
            })
    }
}

/// The start minute of a session: whole minutes since the Unix epoch.
fn minute_of(started: SystemTime) -> u32 {
    let secs = started
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    u32::try_from(secs / 60).unwrap_or(u32::MAX)
}

/// One counter word: the minute in the high half, the count in the low.
const COUNT_MASK: u64 = u32::MAX as u64;

fn pack(minute: u32, count: u32) -> u64 {
    (u64::from(minute) << 32) | u64::from(count)
}

fn unpack(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, (word & COUNT_MASK) as u32)
}

/// Ended request sessions, counted until the next flush.
///
/// The common case (no distinct id, the current minute) is one atomic
/// compare-and-swap on the counter of the session's outcome. Sessions with
/// a distinct id, sessions that started in an earlier minute than the
/// counter's, and the counts of a minute the counters moved past go to a
/// map under a lock, taken at most once per minute per outcome on the
/// common path.
#[derive(Default)]
pub(crate) struct SessionAggregator {
    current: [AtomicU64; 4],
    others: Mutex<BTreeMap<u32, MinuteBuckets>>,
}

impl SessionAggregator {
    /// Counts a session that ended in `state`.
    pub(crate) fn record(
        &self,
        started: SystemTime,
        distinct_id: Option<&str>,
        state: SessionState,
    ) {
        let minute = minute_of(started);
        let outcome = Outcome::of(state);
        if distinct_id.is_none() && self.count_current(minute, outcome) {
            return;
        }
        self.add_other(minute, distinct_id, outcome, 1);
    }

    /// Counts one session in the lock-free counter when it counts `minute`
    /// or an earlier one (which it then moves to the map). Returns false
    /// when the counter is past `minute`.
    fn count_current(&self, minute: u32, outcome: Outcome) -> bool {
        let slot = &self.current[outcome.index()];
        let mut word = slot.load(Ordering::Relaxed);
        loop {
            let (counted, count) = unpack(word);
            let next = match counted.cmp(&minute) {
                std::cmp::Ordering::Equal if count < u32::MAX => pack(minute, count + 1),
                std::cmp::Ordering::Less => pack(minute, 1),
                _ => return false,
            };
            match slot.compare_exchange_weak(word, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    if counted < minute && count > 0 {
                        self.add_other(counted, None, outcome, count);
                    }
                    return true;
                }
                Err(actual) => word = actual,
            }
        }
    }

    fn add_other(&self, minute: u32, distinct_id: Option<&str>, outcome: Outcome, n: u32) {
        let mut others = self.others.lock().unwrap_or_else(PoisonError::into_inner);
        add(
            others.entry(minute).or_default().counts(distinct_id),
            outcome,
            n,
        );
    }

    /// Takes everything counted so far, as `sessions` items of at most
    /// [`MAX_BUCKETS_PER_ITEM`] buckets each (none when nothing was
    /// counted).
    pub(crate) fn take(&self, attributes: &SessionAttributes) -> Vec<SessionAggregates> {
        let mut minutes =
            std::mem::take(&mut *self.others.lock().unwrap_or_else(PoisonError::into_inner));
        for outcome in Outcome::ALL {
            // Zeroes the count and keeps the minute, in one step: a session
            // counted meanwhile lands before or after, never in between.
            let word = self.current[outcome.index()].fetch_and(!COUNT_MASK, Ordering::AcqRel);
            let (minute, count) = unpack(word);
            if count > 0 {
                add(
                    &mut minutes.entry(minute).or_default().anonymous,
                    outcome,
                    count,
                );
            }
        }
        let items: Vec<SessionAggregateItem> = minutes
            .into_iter()
            .flat_map(|(minute, buckets)| buckets.into_items(minute))
            .collect();
        items
            .chunks(MAX_BUCKETS_PER_ITEM)
            .map(|chunk| {
                let mut aggregates = SessionAggregates::new(attributes.clone());
                aggregates.aggregates = chunk.to_vec();
                aggregates
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: SessionStatus, errors: u64) -> SessionState {
        let session = super::super::live::Session::request();
        for _ in 0..errors {
            let event = vigil_protocol::Event {
                exception: vigil_protocol::Values::from(vec![vigil_protocol::Exception::default()]),
                ..Default::default()
            };
            session.update_from_event(&event);
        }
        session
            .end(status)
            .map_or_else(|| session.state(), |e| e.state)
    }

    fn at_minute(minute: u64, second: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(minute * 60 + second)
    }

    #[test]
    fn buckets_by_start_minute_and_distinct_id() {
        let agg = SessionAggregator::default();
        let attrs = SessionAttributes::new("app@1");
        agg.record(at_minute(100, 5), None, state(SessionStatus::Exited, 0));
        agg.record(at_minute(100, 59), None, state(SessionStatus::Exited, 2));
        agg.record(at_minute(100, 1), None, state(SessionStatus::Crashed, 0));
        agg.record(at_minute(101, 0), None, state(SessionStatus::Exited, 0));
        // An older minute after the counter moved on.
        agg.record(at_minute(100, 30), None, state(SessionStatus::Exited, 0));
        agg.record(
            at_minute(100, 30),
            Some("u1"),
            state(SessionStatus::Abnormal, 0),
        );
        let items = agg.take(&attrs);
        assert_eq!(items.len(), 1);
        let buckets = &items[0].aggregates;
        let find = |minute: u64, did: Option<&str>| {
            buckets
                .iter()
                .find(|b| b.started == at_minute(minute, 0) && b.distinct_id.as_deref() == did)
                .unwrap()
        };
        let b100 = find(100, None);
        assert_eq!(
            (b100.exited, b100.errored, b100.crashed, b100.abnormal),
            (2, 1, 1, 0)
        );
        assert_eq!(find(101, None).exited, 1);
        assert_eq!(find(100, Some("u1")).abnormal, 1);
        assert_eq!(items[0].total(), 6);
        assert!(agg.take(&attrs).is_empty(), "take empties the aggregator");
    }

    #[test]
    fn many_buckets_are_split_into_items_of_at_most_100() {
        let agg = SessionAggregator::default();
        for i in 0..250 {
            agg.record(
                at_minute(7, 0),
                Some(&format!("u{i}")),
                state(SessionStatus::Exited, 0),
            );
        }
        let items = agg.take(&SessionAttributes::new("app@1"));
        assert_eq!(
            items.iter().map(|i| i.aggregates.len()).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        assert_eq!(items.iter().map(SessionAggregates::total).sum::<u64>(), 250);
    }

    #[test]
    fn concurrent_records_and_takes_lose_nothing() {
        let agg = SessionAggregator::default();
        let attrs = SessionAttributes::new("app@1");
        let taken = Mutex::new(0u64);
        std::thread::scope(|s| {
            for t in 0..3u64 {
                let agg = &agg;
                s.spawn(move || {
                    for i in 0..20_000u64 {
                        // Minutes move forward, as the clock does, with stragglers.
                        let minute = 1000 + i / 5000 + (t % 2);
                        let status = if i % 7 == 0 {
                            SessionStatus::Crashed
                        } else {
                            SessionStatus::Exited
                        };
                        agg.record(at_minute(minute, 1), None, state(status, i % 3));
                    }
                });
            }
            let (agg, attrs, taken) = (&agg, &attrs, &taken);
            s.spawn(move || {
                for _ in 0..200 {
                    let n: u64 = agg.take(attrs).iter().map(SessionAggregates::total).sum();
                    *taken.lock().unwrap() += n;
                    std::thread::yield_now();
                }
            });
        });
        let rest: u64 = agg.take(&attrs).iter().map(SessionAggregates::total).sum();
        assert_eq!(*taken.lock().unwrap() + rest, 60_000);
    }
}
