//! Slots (swarmkit `manager/orchestrator/slot.go`): the tasks that
//! occupy one replica index of a replicated service, or one node of a
//! global service. The updater receives slots, never loose tasks.

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
}
