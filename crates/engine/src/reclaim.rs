//! Snapshot reads: a blob that a write replaced or deleted is removed only when no reader that may have seen it
//! is still reading it.
//!
//! A reader takes a `Pin` before it looks up a record, so it cannot see a record whose blobs were freed before
//! it started. Freeing a blob stamps it with the current epoch; while a pin of that epoch or an older one is
//! still only looking up, the blob waits. Once the lookup is done the pin holds exactly the blobs of the record
//! it found (a count per blob), and lets go of its epoch: a slow download keeps only its own blobs, not every
//! blob freed while it runs. Blobs that become free on a reader's drop are removed on a thread of their own (the
//! drop may run on an async worker). What a crash leaves pending is swept at start-up as orphans.

use crate::stores::BlobStore;
use std::collections::{BTreeMap, HashMap};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, Weak};

#[derive(Default)]
struct State {
    /// Advanced by every free.
    epoch: u64,
    /// Pins still looking up: epoch -> how many.
    looking: BTreeMap<u64, usize>,
    /// Blobs that readers hold: blob -> (readers, freed meanwhile).
    held: HashMap<u64, (usize, bool)>,
    /// Freed blobs waiting for the lookups that started at or before their epoch: (epoch, blob).
    waiting: Vec<(u64, u64)>,
}

/// The bookkeeping of pins and freed blobs, shared by an engine and the pins it handed out.
pub struct Reclaimer {
    state: Mutex<State>,
    /// To the thread that removes blobs freed by a reader's drop.
    later: mpsc::Sender<Vec<u64>>,
    store: Arc<dyn BlobStore>,
}

impl Reclaimer {
    pub fn new(store: Arc<dyn BlobStore>) -> Arc<Reclaimer> {
        let (tx, rx) = mpsc::channel::<Vec<u64>>();
        let r = Arc::new(Reclaimer { state: Mutex::new(State::default()), later: tx, store });
        let weak: Weak<Reclaimer> = Arc::downgrade(&r);
        // The thread ends when the last handle on the reclaimer is gone (its sender with it).
        let spawned = std::thread::Builder::new().name("ossd-reclaim".into()).spawn(move || {
            while let Ok(ids) = rx.recv() {
                let Some(r) = weak.upgrade() else { break };
                for id in ids {
                    r.store.remove(id);
                }
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "no reclaim thread: blobs freed after a read stay until the next start");
        }
        r
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A pin for a reader that is about to look up a record.
    pub fn pin(self: &Arc<Self>) -> Lookup {
        let mut s = self.state();
        let epoch = s.epoch;
        *s.looking.entry(epoch).or_default() += 1;
        Lookup { reclaimer: self.clone(), epoch: Some(epoch) }
    }

    /// Frees `ids` (no record names them any more): returns those that no reader can be reading, for the caller
    /// to remove now; the others are removed when their readers are done.
    #[must_use]
    pub fn free(&self, ids: impl IntoIterator<Item = u64>) -> Vec<u64> {
        let mut s = self.state();
        let epoch = s.epoch;
        s.epoch += 1;
        let oldest = s.looking.keys().next().copied();
        let mut now = Vec::new();
        for id in ids {
            // A lookup still running may find it too, even when another reader holds it already.
            if oldest.is_some_and(|o| o <= epoch) {
                s.waiting.push((epoch, id));
            } else if let Some(h) = s.held.get_mut(&id) {
                h.1 = true;
            } else {
                now.push(id);
            }
        }
        now
    }

    /// Blobs freed, not yet removed, because a reader may still read them.
    pub fn deferred(&self) -> usize {
        let s = self.state();
        s.waiting.len() + s.held.values().filter(|h| h.1).count()
    }

    /// Ends a lookup of `epoch` (holding `hold` from now on): returns the blobs that became removable.
    fn end_lookup(&self, s: &mut State, epoch: u64, hold: &[u64]) -> Vec<u64> {
        for id in hold {
            s.held.entry(*id).or_default().0 += 1;
        }
        if let Some(n) = s.looking.get_mut(&epoch) {
            *n -= 1;
            if *n == 0 {
                s.looking.remove(&epoch);
            }
        }
        let oldest = s.looking.keys().next().copied();
        let mut due = Vec::new();
        let mut i = 0;
        while i < s.waiting.len() {
            let (e, id) = s.waiting[i];
            if oldest.is_some_and(|o| o <= e) {
                i += 1;
                continue;
            }
            s.waiting.swap_remove(i);
            match s.held.get_mut(&id) {
                Some(h) => h.1 = true,
                None => due.push(id),
            }
        }
        due
    }

    fn release(&self, s: &mut State, hold: &[u64]) -> Vec<u64> {
        let mut due = Vec::new();
        for id in hold {
            if let Some(h) = s.held.get_mut(id) {
                h.0 -= 1;
                if h.0 == 0 {
                    if h.1 {
                        due.push(*id);
                    }
                    s.held.remove(id);
                }
            }
        }
        due
    }

    /// Hands `ids` to the reclaim thread.
    fn remove_later(&self, ids: Vec<u64>) {
        if ids.is_empty() {
            return;
        }
        if self.later.send(ids).is_err() {
            tracing::warn!("reclaim thread gone: freed blobs stay until the next start-up sweep");
        }
    }
}

/// A reader between taking its pin and finding its record.
pub struct Lookup {
    reclaimer: Arc<Reclaimer>,
    epoch: Option<u64>,
}

impl Lookup {
    /// The lookup found a record made of `blobs`: they stay until the returned pin (and every clone) is dropped.
    pub fn hold(mut self, blobs: impl IntoIterator<Item = u64>) -> Pin {
        let mut ids: Vec<u64> = blobs.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let r = self.reclaimer.clone();
        if let Some(epoch) = self.epoch.take() {
            let due = {
                let mut s = r.state();
                r.end_lookup(&mut s, epoch, &ids)
            };
            r.remove_later(due);
        }
        Pin(Some(Arc::new(Held { reclaimer: r, ids })))
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        if let Some(epoch) = self.epoch.take() {
            let due = {
                let mut s = self.reclaimer.state();
                self.reclaimer.end_lookup(&mut s, epoch, &[])
            };
            self.reclaimer.remove_later(due);
        }
    }
}

struct Held {
    reclaimer: Arc<Reclaimer>,
    ids: Vec<u64>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let due = {
            let mut s = self.reclaimer.state();
            self.reclaimer.release(&mut s, &self.ids)
        };
        self.reclaimer.remove_later(due);
    }
}

/// What keeps a record's blobs readable: a record the engine read for a reader carries one, and its blobs stay
/// until every copy of that record is dropped. A record read any other way carries none. Pins never affect
/// equality.
#[derive(Clone, Default)]
pub struct Pin(Option<Arc<Held>>);

impl Pin {
    pub fn is_held(&self) -> bool {
        self.0.is_some()
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Pin(held)" } else { "Pin(none)" })
    }
}

impl PartialEq for Pin {
    fn eq(&self, _: &Pin) -> bool {
        true
    }
}

impl Eq for Pin {}

#[cfg(test)]
mod tests {
    use super::*;

    fn reclaimer() -> (Arc<Reclaimer>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ossd-reclaim-{}", crate::model::random_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        (Reclaimer::new(Arc::new(crate::stores::files::FileBlobStore::open(&dir, false, None).unwrap())), dir)
    }

    #[test]
    fn a_blob_freed_during_a_lookup_or_a_read_waits_for_it_and_no_longer() {
        let (r, dir) = reclaimer();
        assert_eq!(r.free([1]), vec![1], "no reader: removed at once");

        // A lookup that started before the free may have found the blob: it waits for the lookup's end.
        let looking = r.pin();
        assert!(r.free([2, 3]).is_empty());
        let late = r.pin(); // started after the free: cannot see 2 or 3
        let pin = looking.hold([2]);
        assert_eq!(r.deferred(), 1, "3 was removed at the lookup's end, 2 is held");
        assert!(r.free([4]).is_empty(), "the late lookup may see 4");
        drop(late);
        assert_eq!(r.deferred(), 1, "4 removed once the late lookup ended");
        let copy = pin.clone();
        drop(pin);
        assert_eq!(r.deferred(), 1, "a copy of the record still holds 2");
        drop(copy);
        assert_eq!(r.deferred(), 0);

        // Freed while one reader holds it and another is still looking: it outlives both.
        let holder = r.pin().hold([20]);
        let looking = r.pin();
        assert!(r.free([20]).is_empty());
        drop(holder);
        assert_eq!(r.deferred(), 1, "the running lookup may have found 20");
        let second = looking.hold([20]);
        assert_eq!(r.deferred(), 1);
        drop(second);
        assert_eq!(r.deferred(), 0);

        // A held blob that is never freed is left alone; a slow reader holds only its own blobs.
        let slow = r.pin().hold([10]);
        assert_eq!(r.free([11]), vec![11]);
        assert!(r.free([10]).is_empty());
        drop(slow);
        assert_eq!(r.deferred(), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
