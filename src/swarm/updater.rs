//! The update supervisor and updater (swarmkit
//! `manager/orchestrator/update/updater.go`), as a state machine on the
//! event queue instead of goroutines.
//!
//! One [`Updater`] per service at most. A run:
//! 1. returns at once if the update is paused;
//! 2. keeps the dirty slots (in the order given: ascending slot number —
//!    real Swarm's order is random);
//! 3. completes at once if none is dirty and an update/rollback was in
//!    progress;
//! 4. marks the update started (`update in progress`) if no status is set;
//! 5. uses `Rollback` config when the service is rolling back, else
//!    `Update` (defaults when absent); parallelism 0 = all dirty slots;
//! 6. hands slots to `P` workers; a worker creates the new task (desired
//!    READY), shuts the old one down (stop-first) or waits for the new one
//!    to run first (start-first), waits for the new task to reach RUNNING
//!    or fail (no timeout), then sleeps `Delay` — after every slot,
//!    including the last;
//! 7. counts failures of the tasks it created (before RUNNING or within
//!    `Monitor` after), only while handing out slots and while monitoring;
//!    `failures / dirty slots > max_failure_ratio` triggers the failure
//!    action;
//! 8. after the last slot, waits for the workers, then monitors for
//!    `Monitor` (or `Delay + 1s` when `Delay >= Monitor`), then completes.

use std::collections::{BTreeSet, VecDeque};

use crate::docker::duration::format_go_duration;
use crate::sim::queue::EventKey;
use crate::sim::time::{SimDuration, SimTime, secs};
use crate::swarm::model::{
    FailureAction, ServiceId, ServiceSpec, TaskId, TaskState, UpdateConfig, UpdateOrder,
    UpdateState, UpdateStatus,
};
use crate::swarm::orchestrator::slot::{SlotWork, TaskIds, TaskMap};
use crate::swarm::orchestrator::task::is_task_dirty;
use crate::swarm::restart::{RestartSupervisor, StartWatcher};
use crate::swarm::store::{Event, Store};

#[derive(Debug, Clone)]
pub enum Worker {
    Idle,
    /// Waiting for the delayed start of `task` (stop-first: for the old
    /// task to stop), then for it to run.
    WaitStart {
        task: TaskId,
        work: SlotWork,
        start_first: bool,
    },
    /// Waiting for `task` to reach RUNNING or fail.
    WaitRunning {
        task: TaskId,
        work: SlotWork,
        start_first: bool,
    },
    /// Reusing a clean task of the slot: waiting for its start.
    WaitExisting {
        task: TaskId,
    },
    /// Sleeping `Delay` after a slot.
    Sleeping {
        timer: EventKey,
    },
}

/// What `removeOldTasks` will do to a slot's old tasks.
#[derive(Debug, Clone, Default)]
struct RemovePlan {
    shutdown: TaskIds,
    removed: Option<TaskId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The main loop hands out slots (failures are evaluated at once).
    Dispatching,
    /// All slots handed out; waiting for the workers (failures queue up).
    Draining,
    /// Final monitoring period.
    Monitoring,
}

/// The running updaters, indexed by service id (ids are dense: every
/// task state change looks its service's updater up).
#[derive(Debug, Default)]
pub struct Updaters(Vec<Option<Updater>>);

impl Updaters {
    pub fn get(&self, service: &ServiceId) -> Option<&Updater> {
        self.0.get(*service)?.as_ref()
    }

    pub fn get_mut(&mut self, service: &ServiceId) -> Option<&mut Updater> {
        self.0.get_mut(*service)?.as_mut()
    }

    pub fn insert(&mut self, service: ServiceId, updater: Updater) {
        if self.0.len() <= service {
            self.0.resize_with(service + 1, || None);
        }
        self.0[service] = Some(updater);
    }

    pub fn remove(&mut self, service: &ServiceId) -> Option<Updater> {
        self.0.get_mut(*service)?.take()
    }
}

impl std::ops::Index<&ServiceId> for Updaters {
    type Output = Updater;

    fn index(&self, service: &ServiceId) -> &Updater {
        self.get(service).expect("updater")
    }
}

/// The update supervisor (swarmkit `update.Supervisor`): at most one
/// updater per service; a new update replaces the running one.
#[derive(Debug)]
pub struct UpdateSupervisor {
    pub updaters: Updaters,
    /// Numbers each updater run, so that timers of a replaced run are
    /// ignored.
    pub next_run: u64,
}

impl Default for UpdateSupervisor {
    fn default() -> UpdateSupervisor {
        UpdateSupervisor {
            updaters: Updaters::default(),
            next_run: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Updater {
    pub run: u64,
    pub service: ServiceId,
    /// The spec this run works towards (`Supervisor.Update` ignores a
    /// request for the same spec).
    pub spec: ServiceSpec,
    /// The service's spec version when the run was created: the same
    /// version is the same spec, without comparing them.
    pub spec_version: u64,
    /// The service's update status when the run was created.
    pub status_at_start: Option<UpdateState>,
    pub config: UpdateConfig,
    pub monitor: SimDuration,
    pub queue: VecDeque<SlotWork>,
    pub dirty_slots: usize,
    pub workers: Vec<Worker>,
    /// Task → worker waiting on it.
    pub waiting: TaskMap<usize>,
    /// Tasks this run created → when it saw them reach RUNNING (or fail).
    pub updated: TaskMap<Option<SimTime>>,
    pub counted: BTreeSet<TaskId>,
    pub failures: u64,
    /// Failure events seen while draining, evaluated when monitoring starts.
    pub buffered: Vec<TaskId>,
    pub phase: Phase,
    pub stopped: bool,
    pub monitor_timer: Option<EventKey>,
}

impl UpdateSupervisor {
    /// `Supervisor.Update`: start an updater run for these slots unless
    /// one already works towards the same spec; a run for another spec is
    /// cancelled first.
    pub fn update(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        service: ServiceId,
        slots: Vec<SlotWork>,
    ) {
        let svc = &s.state.services[service];
        if let Some(u) = self.updaters.get(&service) {
            if u.spec_version == svc.spec_version || u.spec == svc.spec {
                return;
            }
            self.cancel(s, service);
        }
        let status = s.state.services[service]
            .update_status
            .as_ref()
            .map(|s| s.state);
        // 1. Paused: do nothing.
        if matches!(
            status,
            Some(UpdateState::Paused | UpdateState::RollbackPaused)
        ) {
            s.explain(Some(service), |c| {
                format!(
                    "{}: the update is paused, so the updater changes nothing until the next `docker service update`",
                    c.state.services[service].spec.name
                )
            });
            return;
        }
        // 2. Dirty slots, in the order given; with `engine: slot_order:
        // random`, in Go's map order, which it randomizes (swarmkit takes
        // them from a map: docs/swarm-rules.md#updater-slot-order). No draw
        // otherwise, so other runs are unchanged.
        let mut dirty: VecDeque<SlotWork> = slots
            .into_iter()
            .filter(|w| self.is_slot_dirty(s, service, w))
            .collect();
        if s.engine.random_slot_order && dirty.len() > 1 {
            let key = format!("{}#{}", s.state.services[service].id, self.next_run);
            let mut rng = s.streams.stream("slot-order", &key);
            rand::seq::SliceRandom::shuffle(dirty.make_contiguous(), &mut rng);
        }
        // 3. Nothing to do.
        if dirty.is_empty() {
            if matches!(
                status,
                Some(UpdateState::Updating | UpdateState::RollbackStarted)
            ) {
                s.explain(Some(service), |c| {
                    format!(
                        "{}: every task already matches the spec, so the update completes",
                        c.state.services[service].spec.name
                    )
                });
                self.complete_update(s, service);
            }
            return;
        }
        // 4. Start the update.
        if status.is_none() {
            s.set_update_status(
                service,
                Some(UpdateStatus {
                    state: UpdateState::Updating,
                    started_at: Some(s.now),
                    completed_at: None,
                    message: "update in progress".to_string(),
                }),
            );
        }
        // 5. Which config.
        let svc = &s.state.services[service];
        let config = if status == Some(UpdateState::RollbackStarted) {
            svc.spec.rollback_config.unwrap_or_default()
        } else {
            svc.spec.update_config.unwrap_or_default()
        };
        // 6. Workers: parallelism 0 means all slots (swarmkit updater.go
        // `Run`); more workers than dirty slots would only idle, so the
        // count is clamped to the slots (docs/limits.md) and a huge
        // parallelism allocates nothing.
        let parallelism = match usize::try_from(config.parallelism) {
            Ok(0) | Err(_) => dirty.len(),
            Ok(p) => p.min(dirty.len()),
        };
        let run = self.next_run;
        self.next_run += 1;
        let dirty_slots = dirty.len();
        let updater = Updater {
            run,
            service,
            spec: svc.spec.clone(),
            spec_version: svc.spec_version,
            status_at_start: status,
            config,
            monitor: config.monitor_period(),
            dirty_slots,
            queue: dirty,
            workers: vec![Worker::Idle; parallelism],
            // Sized for a task per worker and per slot: no regrowth.
            waiting: TaskMap::with_capacity(parallelism),
            updated: TaskMap::with_capacity(dirty_slots),
            counted: BTreeSet::new(),
            failures: 0,
            buffered: Vec::new(),
            phase: Phase::Dispatching,
            stopped: false,
            monitor_timer: None,
        };
        self.updaters.insert(service, updater);
        s.explain(Some(service), |c| {
            let u = &self.updaters[&service];
            let rollback = status == Some(UpdateState::RollbackStarted);
            let key = if rollback { "rollback_config" } else { "update_config" };
            let set = if rollback {
                c.state.services[service].spec.rollback_config.is_some()
            } else {
                c.state.services[service].spec.update_config.is_some()
            };
            let what = match status {
                None | Some(UpdateState::Updating) => "update".to_string(),
                Some(UpdateState::RollbackStarted) => "rollback".to_string(),
                Some(s) => format!(
                    "clean-up run (the status stays {}: a slot holds more than one task)",
                    s.as_str()
                ),
            };
            format!(
                "{}: {what} of {} slot(s) starts with {key}{}: parallelism {}{}, delay {}, monitor {}, failure_action {}, max_failure_ratio {}, order {}",
                u.spec.name,
                u.dirty_slots,
                if set { "" } else { " (Swarm's defaults: none set)" },
                u.config.parallelism,
                if u.config.parallelism == 0 {
                    format!(" (all {} slots at once)", u.dirty_slots)
                } else {
                    String::new()
                },
                format_go_duration(u.config.delay),
                format_go_duration(u.monitor),
                u.config.failure_action.as_str(),
                u.config.max_failure_ratio,
                u.config.order.as_str(),
            )
        });
        self.dispatch(s, r, service);
    }

    /// Whether a run for the service's current spec version is going on
    /// (then [`Self::update`] returns at once, whatever the slots).
    pub fn works_towards_current_spec(&self, s: &Store, service: ServiceId) -> bool {
        self.updaters
            .get(&service)
            .is_some_and(|u| u.spec_version == s.state.services[service].spec_version)
    }

    /// Whether, with no dirty slot, [`Self::update`] would do nothing: no
    /// run to cancel, and a status that is neither paused (explained) nor
    /// in progress (completed).
    pub fn idle_when_clean(&self, s: &Store, service: ServiceId) -> bool {
        self.updaters.get(&service).is_none()
            && matches!(
                s.state.services[service]
                    .update_status
                    .as_ref()
                    .map(|u| u.state),
                None | Some(UpdateState::Completed | UpdateState::RollbackCompleted)
            )
    }

    /// `Updater.Cancel`: stop waiting; tasks already created stay, and the
    /// restart supervisor's pending delayed starts still fire.
    pub fn cancel(&mut self, s: &mut Store, service: ServiceId) {
        if let Some(u) = self.updaters.remove(&service) {
            s.explain(Some(service), |_| {
                format!(
                    "{}: the service spec changed, so the update run in progress is cancelled (tasks it created stay)",
                    u.spec.name
                )
            });
            for w in &u.workers {
                if let Worker::Sleeping { timer } = w {
                    s.queue.cancel(*timer);
                }
            }
            if let Some(k) = u.monitor_timer {
                s.queue.cancel(k);
            }
        }
    }

    /// `isSlotDirty`: more than one task, or its single task is dirty.
    fn is_slot_dirty(&self, s: &Store, service: ServiceId, w: &SlotWork) -> bool {
        w.tasks.len() > 1 || (w.tasks.len() == 1 && is_task_dirty(s, service, w.tasks[0]))
    }

    /// The main loop: hand slots to idle workers while any are left.
    fn dispatch(&mut self, s: &mut Store, r: &mut RestartSupervisor, service: ServiceId) {
        loop {
            let Some(u) = self.updaters.get_mut(&service) else {
                return;
            };
            if u.phase != Phase::Dispatching {
                break;
            }
            let Some(w) = u.workers.iter().position(|w| matches!(w, Worker::Idle)) else {
                return;
            };
            let Some(work) = u.queue.pop_front() else {
                u.phase = Phase::Draining;
                break;
            };
            if u.queue.is_empty() {
                // The last slot is handed out: the main loop now waits for
                // the workers.
                u.phase = Phase::Draining;
                s.explain(Some(service), |c| {
                    format!(
                        "{}: last slot handed out; failures are not read again until the final watch starts",
                        c.state.services[service].spec.name
                    )
                });
            }
            self.worker_begin(s, r, service, w, work);
        }
        self.check_drained(s, r, service);
    }

    /// `worker`: reuse a clean task of the slot, or create the new task.
    fn worker_begin(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        service: ServiceId,
        w: usize,
        mut work: SlotWork,
    ) {
        // The snapshot's tasks still in the store (a deleted task never
        // comes back, so the snapshot itself can drop the others).
        work.tasks.retain(|t| !s.state.tasks[t].deleted);
        let live = &work.tasks;
        let mut running_task = None;
        let mut clean_task = None;
        for &t in live {
            if !is_task_dirty(s, service, t) {
                let desired = s.state.tasks[t].desired;
                if desired == TaskState::Running {
                    running_task = Some(t);
                    break;
                }
                if desired < TaskState::Running {
                    clean_task = Some(t);
                }
            }
        }
        if let Some(existing) = running_task.or(clean_task) {
            s.explain(Some(service), |c| {
                format!(
                    "{}: task {} already has the new spec: kept, the slot's other tasks are stopped",
                    c.task_name(existing),
                    c.short_id(existing)
                )
            });
            self.use_existing_task(s, r, service, w, live, existing);
            return;
        }
        let order = self.updaters[&service].config.order;
        let start_first =
            order == UpdateOrder::StartFirst && !crate::mutant::on("start-first-as-stop-first");
        // Stop-first creates the new task and shuts the old ones down in
        // one store batch; if shutting them down fails (the slot's tasks
        // were already shut down and replaced since the run started, e.g.
        // by a drain), the batch is aborted: no task is created and the
        // worker goes on to its delay.
        let removal = if start_first {
            None
        } else {
            match self.plan_remove_old_tasks(s, r, live) {
                Ok(plan) => Some(plan),
                Err(()) => {
                    s.explain(Some(service), |c| {
                        format!(
                            "{}.{}: its tasks were shut down and replaced since the update started, so the updater creates nothing here (swarmkit aborts the store batch)",
                            c.state.services[service].spec.name,
                            work.slot
                        )
                    });
                    self.worker_slot_done(s, r, service, w);
                    return;
                }
            }
        };
        let new = s.create_task(
            service,
            work.slot,
            work.node,
            TaskState::Ready,
            "updater: new task for the slot",
        );
        let u = self.updaters.get_mut(&service).expect("updater");
        u.updated.insert(new, None);
        u.waiting.insert(new, w);
        u.workers[w] = Worker::WaitStart {
            task: new,
            work,
            start_first,
        };
        s.explain(Some(service), |c| {
            let name = c.task_name(new);
            if start_first {
                format!(
                    "{name}: new task {} starts before the old one stops (order start-first)",
                    c.short_id(new)
                )
            } else {
                format!(
                    "{name}: new task {} waits for the old task to stop (order stop-first)",
                    c.short_id(new)
                )
            }
        });
        match removal {
            None => r.delay_start(s, self, None, new, SimDuration::ZERO, false),
            Some(plan) => {
                let old = self.apply_remove_old_tasks(s, plan);
                r.delay_start(s, self, old, new, SimDuration::ZERO, true);
            }
        }
    }

    /// The tasks of a slot snapshot that are still in the store.
    fn still_stored(&self, s: &Store, tasks: &[TaskId]) -> Vec<TaskId> {
        tasks
            .iter()
            .copied()
            .filter(|&t| !s.state.tasks[t].deleted)
            .collect()
    }

    /// `useExistingTask`: keep `existing`, shut the others down, start it
    /// (after they stopped) if it is not desired RUNNING yet.
    fn use_existing_task(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        service: ServiceId,
        w: usize,
        slot: &[TaskId],
        existing: TaskId,
    ) {
        let others: Vec<TaskId> = slot.iter().copied().filter(|&t| t != existing).collect();
        let desired = s.state.tasks[existing].desired;
        if others.is_empty() && desired == TaskState::Running {
            self.worker_slot_done(s, r, service, w);
            return;
        }
        let old = if others.is_empty() {
            None
        } else {
            match self.plan_remove_old_tasks(s, r, &others) {
                Ok(plan) => self.apply_remove_old_tasks(s, plan),
                Err(()) => {
                    // The batch failed: the worker moves on.
                    self.worker_slot_done(s, r, service, w);
                    return;
                }
            }
        };
        if desired != TaskState::Running {
            let u = self.updaters.get_mut(&service).expect("updater");
            u.workers[w] = Worker::WaitExisting { task: existing };
            u.waiting.insert(existing, w);
            r.delay_start(s, self, old, existing, SimDuration::ZERO, true);
        } else {
            self.worker_slot_done(s, r, service, w);
        }
    }

    /// `removeOldTasks`, planned: the tasks to shut down (those still
    /// desired ≤ RUNNING) and the one to report as removed. A task already
    /// shut down counts as removed only if it must not be restarted;
    /// otherwise (or if it is gone) that is an error, and if no task could
    /// be removed the whole call fails.
    fn plan_remove_old_tasks(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        tasks: &[TaskId],
    ) -> Result<RemovePlan, ()> {
        let mut plan = RemovePlan::default();
        let mut failed = false;
        for &t in tasks {
            if s.state.tasks[t].deleted {
                failed = true;
            } else if s.state.tasks[t].desired > TaskState::Running {
                if r.should_restart(s, t) {
                    // "task %s was already shut down when reached by updater"
                    failed = true;
                } else {
                    plan.removed = Some(t);
                }
            } else {
                plan.shutdown.push(t);
                plan.removed = Some(t);
            }
        }
        if plan.removed.is_none() && failed {
            Err(())
        } else {
            Ok(plan)
        }
    }

    fn apply_remove_old_tasks(&mut self, s: &mut Store, plan: RemovePlan) -> Option<TaskId> {
        for &t in plan.shutdown.iter() {
            s.set_desired(t, TaskState::Shutdown, "updater: old task shut down");
        }
        plan.removed
    }

    /// The restart supervisor raised `task` to desired RUNNING.
    pub fn delayed_start(&mut self, s: &mut Store, r: &mut RestartSupervisor, task: TaskId) {
        let service = s.state.tasks[task].service;
        let Some(u) = self.updaters.get_mut(&service) else {
            return;
        };
        let Some(&w) = u.waiting.get(task) else {
            return;
        };
        match &mut u.workers[w] {
            Worker::WaitStart {
                task: t,
                work,
                start_first,
            } if *t == task => {
                // The slot moves over to the next state, without a copy.
                let (work, start_first) = (std::mem::take(work), *start_first);
                u.workers[w] = Worker::WaitRunning {
                    task,
                    work,
                    start_first,
                };
                let state = s.state.tasks[task].state;
                if state >= TaskState::Running {
                    self.worker_task_up(s, r, service, w, task, state);
                }
            }
            Worker::WaitExisting { task: t } if *t == task => {
                u.waiting.remove(task);
                self.worker_slot_done(s, r, service, w);
            }
            _ => {}
        }
    }

    /// A task of a service with an updater changed state.
    ///
    /// The failure watch sees the change before the worker does: in
    /// swarmkit the main loop is already blocked in its `select` when the
    /// event is published, while the worker still has to return from
    /// `updateTask` and come back for the next slot — so a failure stops
    /// the hand-out of further slots even with no `Delay`.
    #[inline]
    pub fn on_task_state(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        task: TaskId,
        state: TaskState,
    ) {
        // Most changes concern nobody here: states before RUNNING (the
        // failure watch and the workers look at RUNNING and beyond), and
        // tasks of a service without an updater.
        if state < TaskState::Running || self.updaters.get(&s.state.tasks[task].service).is_none() {
            return;
        }
        self.task_state_changed(s, r, task, state);
    }

    fn task_state_changed(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        task: TaskId,
        state: TaskState,
    ) {
        let service = s.state.tasks[task].service;
        if self.worker_wins_failure_race(s, service, task, state) {
            // `engine: failure_race`: the worker waiting on this task is
            // released first and takes the next slot; the failure is read
            // after (below).
            let u = self.updaters.get_mut(&service).expect("updater");
            let w = *u.waiting.get(task).expect("a waiting worker");
            self.worker_task_up(s, r, service, w, task, state);
        }
        let Some(u) = self.updaters.get_mut(&service) else {
            return;
        };
        // The failure watch (not for failure action `continue`).
        if state > TaskState::Running && u.config.failure_action != FailureAction::Continue {
            match u.phase {
                Phase::Draining => u.buffered.push(task),
                Phase::Dispatching | Phase::Monitoring => {
                    let phase = u.phase;
                    if self.failure_triggers_action(s, service, task) {
                        self.after_trigger(s, r, service, phase);
                    }
                }
            }
        }
        let Some(u) = self.updaters.get_mut(&service) else {
            return;
        };
        if state >= TaskState::Running
            && let Some(&w) = u.waiting.get(task)
            && matches!(u.workers[w], Worker::WaitRunning { task: t, .. } if t == task)
        {
            self.worker_task_up(s, r, service, w, task, state);
        }
    }

    /// The race of `engine: rollback_race` (docs/scenario-format.md): a
    /// failed task of an update whose failure action is rollback; with
    /// that probability the updater (which swaps the spec back) goes before
    /// the restart supervisor. No draw at all when the probability is 0 or
    /// the failure cannot start a rollback, so other runs are unchanged.
    #[inline]
    pub fn wins_rollback_race(&mut self, s: &mut Store, task: TaskId, state: TaskState) -> bool {
        // The common case, no race configured or no failure, inlined.
        let may_race = s.engine.rollback_race > 0.0 && state > TaskState::Running;
        if !may_race {
            return false;
        }
        self.rollback_race_draw(s, task)
    }

    fn rollback_race_draw(&mut self, s: &mut Store, task: TaskId) -> bool {
        let p = s.engine.rollback_race;
        let service = s.state.tasks[task].service;
        let racing = self.updaters.get(&service).is_some_and(|u| {
            u.config.failure_action == FailureAction::Rollback
                && u.status_at_start != Some(UpdateState::RollbackStarted)
        });
        if !racing {
            return false;
        }
        let mut rng = s.streams.stream("rollback-race", &s.state.tasks[task].id);
        rand::Rng::random_bool(&mut rng, p.min(1.0))
    }

    /// The race of `engine: failure_race` (docs/scenario-format.md): a task
    /// a worker waits on ended without running while slots are still being
    /// handed out with no delay; swarmkit's `Run` then has both the failure
    /// event and the freed worker ready in one `select`, and Go picks one
    /// at random. With that probability the worker goes first. No draw at
    /// all when the probability is 0 or nothing races, so other runs are
    /// unchanged.
    fn worker_wins_failure_race(
        &mut self,
        s: &mut Store,
        service: ServiceId,
        task: TaskId,
        state: TaskState,
    ) -> bool {
        let p = s.engine.failure_race;
        if p <= 0.0 || state <= TaskState::Running {
            return false;
        }
        let Some(u) = self.updaters.get(&service) else {
            return false;
        };
        let racing = u.config.failure_action != FailureAction::Continue
            && u.config.delay.is_zero()
            && u.phase == Phase::Dispatching
            && !u.queue.is_empty()
            && u.waiting.get(task).is_some_and(
                |&w| matches!(u.workers[w], Worker::WaitRunning { task: t, .. } if t == task),
            );
        if !racing {
            return false;
        }
        let mut rng = s.streams.stream("failure-race", &s.state.tasks[task].id);
        rand::Rng::random_bool(&mut rng, p.min(1.0))
    }

    /// The worker saw its new task at RUNNING or beyond.
    fn worker_task_up(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        service: ServiceId,
        w: usize,
        task: TaskId,
        state: TaskState,
    ) {
        s.explain(Some(service), |c| {
            let t = &c.state.tasks[task];
            let took = format_go_duration(c.now - t.created_at);
            if state == TaskState::Running {
                format!(
                    "{}: task {} is running, {took} after it was created",
                    c.task_name(task),
                    c.short_id(task)
                )
            } else {
                format!(
                    "{}: task {} ended {} without running; the worker moves on (it does not retry)",
                    c.task_name(task),
                    c.short_id(task),
                    state.api_str()
                )
            }
        });
        let now = s.now;
        let u = self.updaters.get_mut(&service).expect("updater");
        u.updated.insert(task, Some(now));
        u.waiting.remove(task);
        let Worker::WaitRunning {
            work, start_first, ..
        } = std::mem::replace(&mut u.workers[w], Worker::Idle)
        else {
            return;
        };
        if start_first && state == TaskState::Running {
            let live = self.still_stored(s, &work.tasks);
            // A failure here is only logged by swarmkit.
            if let Ok(plan) = self.plan_remove_old_tasks(s, r, &live) {
                self.apply_remove_old_tasks(s, plan);
            }
        }
        self.worker_slot_done(s, r, service, w);
    }

    /// After a slot: sleep `Delay` if set, then take the next slot.
    fn worker_slot_done(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        service: ServiceId,
        w: usize,
    ) {
        let Some(u) = self.updaters.get_mut(&service) else {
            return;
        };
        if u.config.delay > SimDuration::ZERO
            && !(crate::mutant::on("no-delay-at-parallelism-0") && u.config.parallelism == 0)
        {
            let delay = u.config.delay;
            s.explain(Some(service), |c| {
                format!(
                    "{}: the worker sleeps {} before its next slot (update delay; swarmkit sleeps after every slot, the last one included)",
                    c.state.services[service].spec.name,
                    format_go_duration(delay)
                )
            });
            let u = self.updaters.get_mut(&service).expect("updater");
            let timer = s.queue.push(
                s.now + u.config.delay,
                Event::UpdaterDelay {
                    service,
                    run: u.run,
                    worker: w,
                },
            );
            u.workers[w] = Worker::Sleeping { timer };
        } else {
            u.workers[w] = Worker::Idle;
            self.dispatch(s, r, service);
        }
    }

    pub fn delay_done(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        service: ServiceId,
        run: u64,
        w: usize,
    ) {
        let Some(u) = self.updaters.get_mut(&service) else {
            return;
        };
        if u.run != run {
            return;
        }
        u.workers[w] = Worker::Idle;
        self.dispatch(s, r, service);
    }

    /// Once every worker is idle after the last slot: stop if a failure
    /// action stopped the run, else start the final monitoring.
    fn check_drained(&mut self, s: &mut Store, r: &mut RestartSupervisor, service: ServiceId) {
        let Some(u) = self.updaters.get_mut(&service) else {
            return;
        };
        if u.phase != Phase::Draining || !u.workers.iter().all(|w| matches!(w, Worker::Idle)) {
            return;
        }
        if u.stopped {
            self.updaters.remove(&service);
            return;
        }
        u.phase = Phase::Monitoring;
        // `Delay >= Monitor` stretches the final watch to `Delay + 1s`.
        let configured = u.monitor;
        if u.config.delay >= u.monitor && !crate::mutant::on("watch-without-delay-plus-1s") {
            u.monitor = u.config.delay + secs(1);
        }
        let (monitor, delay) = (u.monitor, u.config.delay);
        s.explain(Some(service), |c| {
            let name = &c.state.services[service].spec.name;
            if monitor != configured {
                format!(
                    "{name}: all slots done; watching for failures for {} (delay {} >= monitor {}, so delay + 1s)",
                    format_go_duration(monitor),
                    format_go_duration(delay),
                    format_go_duration(configured)
                )
            } else {
                format!(
                    "{name}: all slots done; watching for failures for {} (monitor)",
                    format_go_duration(monitor)
                )
            }
        });
        let u = self.updaters.get_mut(&service).expect("updater");
        let buffered = std::mem::take(&mut u.buffered);
        for task in buffered {
            if self.failure_triggers_action(s, service, task) {
                self.after_trigger(s, r, service, Phase::Monitoring);
                return;
            }
        }
        let u = self.updaters.get_mut(&service).expect("updater");
        let at = s.now + u.monitor;
        u.monitor_timer = Some(s.queue.push(
            at,
            Event::UpdaterMonitor {
                service,
                run: u.run,
            },
        ));
    }

    pub fn monitor_done(&mut self, s: &mut Store, service: ServiceId, run: u64) {
        let Some(u) = self.updaters.get(&service) else {
            return;
        };
        if u.run != run {
            return;
        }
        let stopped = u.stopped;
        self.updaters.remove(&service);
        if !stopped {
            self.complete_update(s, service);
        }
    }

    /// What the main loop does after a failure triggered the action.
    fn after_trigger(
        &mut self,
        s: &mut Store,
        r: &mut RestartSupervisor,
        service: ServiceId,
        phase: Phase,
    ) {
        let Some(u) = self.updaters.get_mut(&service) else {
            // A rollback replaced this run.
            return;
        };
        match phase {
            Phase::Dispatching => {
                // `break slotsLoop`: no more slots; wait for the workers.
                u.queue.clear();
                u.phase = Phase::Draining;
                self.check_drained(s, r, service);
            }
            Phase::Monitoring | Phase::Draining => {
                // `break monitorLoop`, then complete unless stopped (the
                // "rollback paused" branch does not stop: swarmkit then
                // overwrites the status with `completed`).
                if let Some(k) = u.monitor_timer.take() {
                    s.queue.cancel(k);
                }
                let stopped = u.stopped;
                self.updaters.remove(&service);
                if !stopped {
                    self.complete_update(s, service);
                }
            }
        }
    }

    /// `failureTriggersAction`.
    fn failure_triggers_action(&mut self, s: &mut Store, service: ServiceId, task: TaskId) -> bool {
        let now = s.now;
        let u = self.updaters.get_mut(&service).expect("updater");
        if u.counted.contains(&task) {
            return false;
        }
        let Some(&started) = u.updated.get(task) else {
            s.explain(Some(service), |c| {
                format!(
                    "{}: task {} stopped; only tasks this update run created count as update failures",
                    c.task_name(task),
                    c.short_id(task)
                )
            });
            return false;
        };
        let monitor = u.monitor;
        let counts = match started {
            None => true,
            Some(s) => now - s <= monitor,
        };
        if !counts {
            s.explain(Some(service), |c| {
                let s = started.unwrap_or(now);
                let failed_at = c.state.tasks[task].timestamp.min(now);
                let read = if failed_at < now && failed_at >= s {
                    format!(
                        " (read by the updater {} after the start)",
                        format_go_duration(now - s)
                    )
                } else {
                    String::new()
                };
                format!(
                    "{}: task {} stopped {} after it started{read}, later than the {} monitor: not counted as an update failure",
                    c.task_name(task),
                    c.short_id(task),
                    format_go_duration(failed_at.max(s) - s),
                    format_go_duration(monitor)
                )
            });
            return false;
        }
        u.counted.insert(task);
        u.failures += 1;
        let (failures, dirty, ratio, action) = (
            u.failures,
            u.dirty_slots,
            u.config.max_failure_ratio,
            u.config.failure_action,
        );
        let rolling_back = u.status_at_start == Some(UpdateState::RollbackStarted);
        // Strictly greater, in float32 like swarmkit.
        let trips = if crate::mutant::on("failure-ratio-ge") {
            (failures as f32) / (dirty as f32) >= ratio
        } else {
            (failures as f32) / (dirty as f32) > ratio
        };
        s.explain(Some(service), |c| {
            // When the task failed, and, when later, when the updater's
            // failure watch read it (the monitor is measured to the read).
            let failed_at = c.state.tasks[task].timestamp.min(now);
            let when = match started {
                None => "before it ran".to_string(),
                Some(s) if failed_at < now && failed_at >= s => format!(
                    "{} after it started (read by the updater {} after the start, within the {} monitor)",
                    format_go_duration(failed_at - s),
                    format_go_duration(now - s),
                    format_go_duration(monitor)
                ),
                Some(s) => format!(
                    "{} after it started, within the {} monitor",
                    format_go_duration(now - s),
                    format_go_duration(monitor)
                ),
            };
            let outcome = if trips {
                match action {
                    FailureAction::Pause => "so the update pauses (failure_action pause)".to_string(),
                    FailureAction::Rollback if rolling_back => {
                        "so the rollback pauses (failure_action rollback, but a rollback is never rolled back)".to_string()
                    }
                    FailureAction::Rollback => {
                        "so the service rolls back to its previous spec (failure_action rollback)".to_string()
                    }
                    FailureAction::Continue => "but failure_action is continue".to_string(),
                }
            } else {
                "so the update goes on".to_string()
            };
            format!(
                "{}: task {} failed {when}: {failures} failure(s) of {dirty} slot(s) = {:.3} {} max_failure_ratio {ratio}, {outcome}",
                c.task_name(task),
                c.short_id(task),
                failures as f32 / dirty as f32,
                if trips { ">" } else { "<=" },
            )
        });
        if !trips {
            return false;
        }
        let u = self.updaters.get_mut(&service).expect("updater");
        let id = s.state.tasks[task].id.clone();
        match u.config.failure_action {
            FailureAction::Continue => false,
            FailureAction::Pause => {
                u.stopped = true;
                self.pause_update(
                    s,
                    service,
                    format!("update paused due to failure or early termination of task {id}"),
                );
                true
            }
            FailureAction::Rollback => {
                if u.status_at_start == Some(UpdateState::RollbackStarted) {
                    // Never roll back a rollback.
                    self.pause_update(
                        s,
                        service,
                        format!("rollback paused due to failure or early termination of task {id}"),
                    );
                } else {
                    u.stopped = true;
                    self.rollback_update(
                        s,
                        service,
                        format!(
                            "update rolled back due to failure or early termination of task {id}"
                        ),
                    );
                }
                true
            }
        }
    }

    /// `completeUpdate`.
    pub fn complete_update(&mut self, s: &mut Store, service: ServiceId) {
        // Built from the current status's fields (its message is
        // replaced, so it is not copied).
        let Some(current) = &s.state.services[service].update_status else {
            return;
        };
        let (state, message) = if current.state == UpdateState::RollbackStarted {
            (UpdateState::RollbackCompleted, "rollback completed")
        } else {
            (UpdateState::Completed, "update completed")
        };
        let status = UpdateStatus {
            state,
            started_at: current.started_at,
            completed_at: Some(s.now),
            message: message.to_string(),
        };
        s.set_update_status(service, Some(status));
    }

    /// `pauseUpdate`.
    fn pause_update(&mut self, s: &mut Store, service: ServiceId, message: String) {
        let Some(mut status) = s.state.services[service].update_status.clone() else {
            return;
        };
        status.state = if status.state == UpdateState::RollbackStarted {
            UpdateState::RollbackPaused
        } else {
            UpdateState::Paused
        };
        status.message = message;
        s.set_update_status(service, Some(status));
    }

    /// `rollbackUpdate`: ROLLBACK_STARTED and the previous spec, which is
    /// then cleared. Without a previous spec the transaction fails and the
    /// status stays as it was.
    fn rollback_update(&mut self, s: &mut Store, service: ServiceId, message: String) {
        let svc = &s.state.services[service];
        let Some(mut status) = svc.update_status.clone() else {
            return;
        };
        let (Some(prev), Some(prev_version)) =
            (svc.previous_spec.clone(), svc.previous_spec_version)
        else {
            return;
        };
        status.state = UpdateState::RollbackStarted;
        status.message = message;
        let svc = &mut s.state.services[service];
        svc.spec = prev;
        svc.spec_version = prev_version;
        svc.previous_spec = None;
        svc.previous_spec_version = None;
        svc.updated_at = s.now;
        s.set_update_status(service, Some(status));
        s.notify_service(service);
    }
}

impl StartWatcher for UpdateSupervisor {
    fn on_delayed_start(&mut self, s: &mut Store, r: &mut RestartSupervisor, task: TaskId) {
        self.delayed_start(s, r, task);
    }
}
