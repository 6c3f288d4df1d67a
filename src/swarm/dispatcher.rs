//! Node liveness (swarmkit `manager/dispatcher/dispatcher.go`,
//! `nodes.go`, `period.go`): a stopped machine stays READY until its
//! heartbeat is overdue. Each heartbeat reply gives the agent a period
//! drawn uniformly in 5 s ± 0.5 s; the node is declared DOWN when no
//! heartbeat arrived within 3 × that period. The simulator draws, per node
//! and stop, the period and how long before the stop the last heartbeat
//! was sent (uniform in one period), from the node's own stream.

use rand::Rng;

use crate::docker::duration::format_go_duration;
use crate::sim::rng::LazyStream;
use crate::sim::time::{SimDuration, SimTime, millis, secs};
use crate::swarm::agent::Agent;
use crate::swarm::model::{NodeId, NodeStatus, TaskState};
use crate::swarm::store::{Event, Store};

/// The dispatcher's view of each node's agent (swarmkit
/// `dispatcher/dispatcher.go`): heartbeat bookkeeping per node.
#[derive(Debug)]
pub struct Dispatcher {
    /// Bumped when a node stops or starts, so stale timers are ignored.
    pub epochs: Vec<u64>,
    /// Per node, the stream the heartbeat period's jitter is drawn from.
    pub heartbeat_rngs: Vec<LazyStream>,
    /// Per node: when the node stopped (for heartbeat expiry).
    pub stopped_at: Vec<Option<SimTime>>,
}

impl Dispatcher {
    pub fn new(heartbeat_rngs: Vec<LazyStream>) -> Dispatcher {
        let n = heartbeat_rngs.len();
        Dispatcher {
            epochs: vec![0; n],
            heartbeat_rngs,
            stopped_at: vec![None; n],
        }
    }
}

/// `DefaultHeartBeatPeriod` and `defaultHeartBeatEpsilon`.
const HEARTBEAT_PERIOD_MS: u64 = 5000;
const HEARTBEAT_EPSILON_MS: u64 = 500;
/// `defaultGracePeriodMultiplier`.
const GRACE_MULTIPLIER: u64 = 3;
/// `defaultNodeDownPeriod`: tasks of a node down this long are orphaned.
const NODE_DOWN_PERIOD: SimDuration = secs(24 * 3600);

impl Dispatcher {
    /// The machine stops: its agent and containers are gone at once; the
    /// managers notice when the heartbeat deadline passes.
    pub fn node_stop(&mut self, s: &mut Store, agent: &mut Agent, node: NodeId) {
        if !s.state.nodes[node].agent_up {
            return;
        }
        s.node_agent_changed(node, false);
        agent.node_stopped(s, node);
        self.stopped_at[node] = Some(s.now);
        self.epochs[node] += 1;
        let rng = &mut self.heartbeat_rngs[node];
        let period = millis(rng.random_range(
            HEARTBEAT_PERIOD_MS - HEARTBEAT_EPSILON_MS..=HEARTBEAT_PERIOD_MS + HEARTBEAT_EPSILON_MS,
        ));
        let since_last = SimDuration::from_nanos(rng.random_range(0..period.as_nanos()));
        let deadline = (s.now + period * GRACE_MULTIPLIER).saturating_sub(since_last);
        let epoch = self.epochs[node];
        s.queue
            .push(deadline.max(s.now), Event::HeartbeatExpired { node, epoch });
        s.explain(None, |c| {
            format!(
                "node {} stopped; its last heartbeat was {} ago with a {} period, so the managers notice in {} (3 periods after that heartbeat)",
                c.state.nodes[node].hostname,
                format_go_duration(since_last),
                format_go_duration(period),
                format_go_duration(deadline.max(c.now) - c.now)
            )
        });
    }

    /// The heartbeat deadline passed: the node is DOWN (`heartbeat failure`).
    pub fn heartbeat_expired(&mut self, s: &mut Store, node: NodeId, epoch: u64) {
        if self.epochs[node] != epoch || s.state.nodes[node].agent_up {
            return;
        }
        s.state.nodes[node].status = NodeStatus::Down;
        s.explain(None, |c| {
            format!(
                "node {} missed its heartbeat deadline: the managers mark it down (heartbeat failure)",
                c.state.nodes[node].hostname
            )
        });
        s.log_node(node, "down");
        s.notify_node(node);
        s.queue.push(
            s.now + NODE_DOWN_PERIOD,
            Event::NodeDownPeriod { node, epoch },
        );
    }

    /// `moveTasksToOrphaned`: after 24 h down, the node's tasks that were
    /// assigned and not yet stopped are ORPHANED (the agent will never
    /// report them).
    pub fn orphan_tasks(&mut self, s: &mut Store, node: NodeId, epoch: u64) {
        if self.epochs[node] != epoch || s.state.nodes[node].status != NodeStatus::Down {
            return;
        }
        for t in s.tasks_on_node(node) {
            let state = s.state.tasks[t].state;
            if (TaskState::Assigned..=TaskState::Running).contains(&state) {
                s.set_state(t, TaskState::Orphaned, "orphaned", None, "dispatcher");
            }
        }
    }

    /// The machine is back: the agent registers, the node is READY, and the
    /// agent reports what became of its tasks.
    pub fn node_start(&mut self, s: &mut Store, agent: &mut Agent, node: NodeId) {
        if s.state.nodes[node].agent_up {
            return;
        }
        self.epochs[node] += 1;
        self.stopped_at[node] = None;
        s.node_agent_changed(node, true);
        let was_down = s.state.nodes[node].status != NodeStatus::Ready;
        s.state.nodes[node].status = NodeStatus::Ready;
        if was_down {
            s.log_node(node, "ready");
            s.notify_node(node);
        }
        agent.node_started(s, node);
    }
}
