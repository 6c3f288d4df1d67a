//! Slots (swarmkit `manager/orchestrator/slot.go`): the tasks that
//! occupy one replica index of a replicated service, or one node of a
//! global service. The updater receives slots, never loose tasks.

use rustc_hash::FxHashMap;

use crate::swarm::model::TaskId;

/// One slot handed to a worker: its key (slot number, or node for global
/// services) and the tasks it held when the run started (swarmkit passes
/// a snapshot).
#[derive(Debug, Clone, Default)]
pub struct SlotWork {
    pub slot: u64,
    pub node: Option<usize>,
    pub tasks: TaskIds,
}

/// How many task ids [`TaskIds`] keeps without allocating: one, which
/// keeps the list as small as a `Vec` (24 bytes; two would make it 32,
/// and a slot snapshot with it, for every slot of an update).
const INLINE: usize = 1;

/// A short list of task ids: a slot's tasks, the replacements waiting for
/// a task to stop, the tasks a worker shuts down. Almost always one, so
/// up to [`INLINE`] are kept in place and only longer lists allocate (a
/// slot holds more tasks only while an update or restart churns it).
/// Reads as a slice.
#[derive(Clone)]
pub enum TaskIds {
    Inline { len: u8, ids: [TaskId; INLINE] },
    Heap(Vec<TaskId>),
}

impl Default for TaskIds {
    fn default() -> TaskIds {
        TaskIds::Inline {
            len: 0,
            ids: [0; INLINE],
        }
    }
}

impl TaskIds {
    pub fn push(&mut self, id: TaskId) {
        match self {
            TaskIds::Inline { len, ids } if (*len as usize) < INLINE => {
                ids[*len as usize] = id;
                *len += 1;
            }
            TaskIds::Inline { ids, .. } => {
                let mut v = Vec::with_capacity(INLINE * 2);
                v.extend_from_slice(&ids[..]);
                v.push(id);
                *self = TaskIds::Heap(v);
            }
            TaskIds::Heap(v) => v.push(id),
        }
    }

    /// Keeps the ids `keep` accepts, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(TaskId) -> bool) {
        match self {
            TaskIds::Inline { len, ids } => {
                let mut kept = 0;
                for i in 0..*len as usize {
                    if keep(ids[i]) {
                        ids[kept] = ids[i];
                        kept += 1;
                    }
                }
                *len = kept as u8;
            }
            TaskIds::Heap(v) => v.retain(|&t| keep(t)),
        }
    }
}

impl std::ops::Deref for TaskIds {
    type Target = [TaskId];

    fn deref(&self) -> &[TaskId] {
        match self {
            TaskIds::Inline { len, ids } => &ids[..*len as usize],
            TaskIds::Heap(v) => v,
        }
    }
}

impl<'a> IntoIterator for &'a TaskIds {
    type Item = &'a TaskId;
    type IntoIter = std::slice::Iter<'a, TaskId>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<TaskId> for TaskIds {
    fn from_iter<I: IntoIterator<Item = TaskId>>(iter: I) -> TaskIds {
        let mut list = TaskIds::default();
        for id in iter {
            list.push(id);
        }
        list
    }
}

impl std::fmt::Debug for TaskIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Up to this many entries, a [`TaskMap`] finds a key by scanning them.
const TASK_MAP_SCAN: usize = 8;

/// A map keyed by task id, for the supervisors' per-task bookkeeping
/// (pending starts, waiters, workers' tasks). It mostly holds a few
/// entries (about one per update worker): up to [`TASK_MAP_SCAN`] they
/// sit in a short `Vec` found by a scan, with no hashing; past that the
/// map turns into an `FxHashMap` for good, so a large update or a mass
/// restart costs what a hash map costs. Iteration order is unspecified,
/// as a hash map's: callers that let it reach output sort first.
#[derive(Debug, Clone)]
pub enum TaskMap<V> {
    Few(Vec<(TaskId, V)>),
    Many(FxHashMap<TaskId, V>),
}

impl<V> Default for TaskMap<V> {
    fn default() -> TaskMap<V> {
        TaskMap::Few(Vec::new())
    }
}

impl<V> TaskMap<V> {
    /// Room for `entries` entries, in whichever form they will take.
    pub fn with_capacity(entries: usize) -> TaskMap<V> {
        if entries <= TASK_MAP_SCAN {
            TaskMap::Few(Vec::with_capacity(entries))
        } else {
            TaskMap::Many(FxHashMap::with_capacity_and_hasher(
                entries,
                Default::default(),
            ))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        match self {
            TaskMap::Few(v) => v.len(),
            TaskMap::Many(m) => m.len(),
        }
    }

    #[inline]
    pub fn contains_key(&self, task: TaskId) -> bool {
        self.get(task).is_some()
    }

    #[inline]
    pub fn get(&self, task: TaskId) -> Option<&V> {
        match self {
            TaskMap::Few(v) => v.iter().find(|e| e.0 == task).map(|e| &e.1),
            TaskMap::Many(m) => m.get(&task),
        }
    }

    #[inline]
    pub fn get_mut(&mut self, task: TaskId) -> Option<&mut V> {
        match self {
            TaskMap::Few(v) => v.iter_mut().find(|e| e.0 == task).map(|e| &mut e.1),
            TaskMap::Many(m) => m.get_mut(&task),
        }
    }

    /// Inserts or replaces; returns the value replaced.
    #[inline]
    pub fn insert(&mut self, task: TaskId, value: V) -> Option<V> {
        match self {
            TaskMap::Few(v) => {
                if let Some(e) = v.iter_mut().find(|e| e.0 == task) {
                    return Some(std::mem::replace(&mut e.1, value));
                }
                if v.len() < TASK_MAP_SCAN {
                    v.push((task, value));
                    return None;
                }
                let mut m: FxHashMap<TaskId, V> =
                    FxHashMap::with_capacity_and_hasher(v.len() * 2, Default::default());
                m.extend(v.drain(..));
                m.insert(task, value);
                *self = TaskMap::Many(m);
                None
            }
            TaskMap::Many(m) => m.insert(task, value),
        }
    }

    /// The value of `task`, inserted as `V::default()` if absent.
    pub fn get_or_default(&mut self, task: TaskId) -> &mut V
    where
        V: Default,
    {
        if !self.contains_key(task) {
            self.insert(task, V::default());
        }
        self.get_mut(task).expect("just inserted")
    }

    #[inline]
    pub fn remove(&mut self, task: TaskId) -> Option<V> {
        match self {
            TaskMap::Few(v) => {
                let p = v.iter().position(|e| e.0 == task)?;
                Some(v.swap_remove(p).1)
            }
            TaskMap::Many(m) => m.remove(&task),
        }
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (TaskId, &V)> + '_> {
        match self {
            TaskMap::Few(v) => Box::new(v.iter().map(|(t, v)| (*t, v))),
            TaskMap::Many(m) => Box::new(m.iter().map(|(t, v)| (*t, v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes and retains give what a Vec gives, across the spill from
    /// inline to heap storage; the list is no bigger than a Vec.
    #[test]
    fn task_ids_behave_like_a_vec() {
        assert_eq!(
            std::mem::size_of::<TaskIds>(),
            std::mem::size_of::<Vec<TaskId>>()
        );
        for n in 0..7 {
            let mut list = TaskIds::default();
            let mut v = Vec::new();
            for i in 0..n {
                list.push(i * 3);
                v.push(i * 3);
                assert_eq!(&list[..], &v[..]);
            }
            for m in [2, 3] {
                let mut l = list.clone();
                let mut w = v.clone();
                l.retain(|t| t % m != 0);
                w.retain(|t| t % m != 0);
                assert_eq!(&l[..], &w[..]);
            }
            assert_eq!(
                &(0..n).collect::<TaskIds>()[..],
                &(0..n).collect::<Vec<_>>()[..]
            );
        }
    }

    /// A task map holds what a `BTreeMap` holds through any series of
    /// inserts, replacements and removals, scanned (few keys) or hashed
    /// (many).
    #[test]
    fn task_map_behaves_like_a_map() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for keys in [6usize, 12, 60] {
            let mut map: TaskMap<u64> = TaskMap::default();
            let mut reference = std::collections::BTreeMap::new();
            for i in 0..5000u64 {
                let task = rng.random_range(0..keys);
                match rng.random_range(0..4) {
                    0 | 1 => assert_eq!(map.insert(task, i), reference.insert(task, i)),
                    2 => assert_eq!(map.remove(task), reference.remove(&task)),
                    _ => {
                        *map.get_or_default(task) += 1;
                        *reference.entry(task).or_default() += 1;
                    }
                }
                assert_eq!(map.len(), reference.len());
                let mut all: Vec<(TaskId, u64)> = map.iter().map(|(t, v)| (t, *v)).collect();
                all.sort_unstable();
                assert_eq!(
                    all,
                    reference.iter().map(|(t, v)| (*t, *v)).collect::<Vec<_>>()
                );
                for t in 0..=keys {
                    assert_eq!(map.get(t), reference.get(&t));
                }
            }
        }
    }
}
