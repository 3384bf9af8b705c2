//! Resolving which plugin instances apply to a route, and in which order they run: one list
//! per phase, holding only the plugins whose table row names that phase.

use super::{registry, Handler, Phase};
use crate::entities::Plugin;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// One plugin (by name) in a chain: the instance that applies to every request of the route,
/// if any, and the instances scoped to particular consumers, chosen once the consumer is known.
#[derive(Debug, Clone)]
pub struct ChainEntry {
    pub name: String,
    pub priority: i32,
    /// The phases the plugin acts in (its table row's).
    phases: &'static [Phase],
    base: Option<Ranked>,
    by_consumer: HashMap<Uuid, Ranked>,
}

#[derive(Debug, Clone)]
struct Ranked {
    rank: u8,
    plugin_id: Uuid,
    handler: Arc<dyn Handler>,
}

impl ChainEntry {
    /// The instance to run for this consumer (none: the plugin does not apply to the request).
    /// Kong's precedence: route+service+consumer > route+consumer > service+consumer >
    /// route+service > consumer > route > service > global.
    pub fn handler_for(&self, consumer: Option<Uuid>) -> Option<&Arc<dyn Handler>> {
        self.ranked_for(consumer).map(|r| &r.handler)
    }

    /// The id of the plugin instance that applies (for logs and metrics).
    pub fn plugin_id_for(&self, consumer: Option<Uuid>) -> Option<Uuid> {
        self.ranked_for(consumer).map(|r| r.plugin_id)
    }

    fn ranked_for(&self, consumer: Option<Uuid>) -> Option<&Ranked> {
        let scoped = consumer.and_then(|c| self.by_consumer.get(&c));
        match (scoped, &self.base) {
            (Some(s), Some(b)) if b.rank > s.rank => Some(b),
            (Some(s), _) => Some(s),
            (None, b) => b.as_ref(),
        }
    }

    /// Whether any instance of this plugin may need the request body.
    pub fn may_need_body(&self) -> bool {
        self.base
            .iter()
            .chain(self.by_consumer.values())
            .any(|r| r.handler.needs_body())
    }
}

/// The instances that run for one route: all of them in access-phase order, and per phase the
/// ones that act in it (in the same order), so a request never visits a plugin with nothing to
/// do in a phase.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub entries: Vec<Arc<ChainEntry>>,
    access: Vec<Arc<ChainEntry>>,
    response_headers: Vec<Arc<ChainEntry>>,
    response_body: Vec<Arc<ChainEntry>>,
    log: Vec<Arc<ChainEntry>>,
    /// Some instance reads the request body in the access phase.
    pub needs_body: bool,
}

/// A built instance with its entity, as compiled once per snapshot.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub plugin: Plugin,
    pub handler: Arc<dyn Handler>,
}

/// How specific an instance's scope is for a route, on Kong's scale (7 = route+service+consumer
/// ... 0 = global); None when it does not apply to the route.
fn specificity(p: &Plugin, route: Option<Uuid>, service: Option<Uuid>) -> Option<u8> {
    let on_route = p.route.map(|r| Some(r.id) == route);
    let on_service = p.service.map(|s| Some(s.id) == service);
    let base = match (on_route, on_service) {
        (Some(false), _) | (_, Some(false)) => return None,
        (Some(true), Some(true)) => 4,
        (Some(true), None) => 2,
        (None, Some(true)) => 1,
        (None, None) => 0,
    };
    Some(match (p.consumer.is_some(), base) {
        (false, rank) => rank,
        (true, 4) => 7,
        (true, 2) => 6,
        (true, 1) => 5,
        (true, _) => 3,
    })
}

impl Chain {
    /// The chain for a route (or for no route: global instances only).
    pub fn resolve(compiled: &[Compiled], route: Option<Uuid>, service: Option<Uuid>) -> Chain {
        let mut by_name: BTreeMap<&str, (ChainEntry, &Plugin)> = BTreeMap::new();
        for c in compiled.iter().filter(|c| c.plugin.enabled) {
            let Some(rank) = specificity(&c.plugin, route, service) else {
                continue;
            };
            let (entry, _) = by_name.entry(c.plugin.name.as_str()).or_insert_with(|| {
                let spec = registry::spec(&c.plugin.name);
                let entry = ChainEntry {
                    name: c.plugin.name.clone(),
                    priority: spec.map_or(0, |s| s.priority),
                    phases: spec.map_or(&[], |s| s.phases),
                    base: None,
                    by_consumer: HashMap::new(),
                };
                (entry, &c.plugin)
            });
            let ranked = Ranked {
                rank,
                plugin_id: c.plugin.id,
                handler: c.handler.clone(),
            };
            let slot = match c.plugin.consumer {
                Some(consumer) => entry.by_consumer.get_mut(&consumer.id),
                None => entry.base.as_mut(),
            };
            match slot {
                Some(current) if current.rank >= rank => {}
                Some(current) => *current = ranked,
                None => match c.plugin.consumer {
                    Some(consumer) => {
                        entry.by_consumer.insert(consumer.id, ranked);
                    }
                    None => entry.base = Some(ranked),
                },
            }
        }
        let mut entries: Vec<(ChainEntry, &Plugin)> = by_name.into_values().collect();
        entries.sort_by(|a, b| {
            b.0.priority
                .cmp(&a.0.priority)
                .then(a.0.name.cmp(&b.0.name))
        });
        let entries: Vec<Arc<ChainEntry>> =
            apply_ordering(entries).into_iter().map(Arc::new).collect();
        let in_phase = |phase: Phase| -> Vec<Arc<ChainEntry>> {
            let acts = |e: &&Arc<ChainEntry>| e.phases.contains(&phase);
            entries.iter().filter(acts).cloned().collect()
        };
        Chain {
            access: in_phase(Phase::Access),
            response_headers: in_phase(Phase::ResponseHeaders),
            response_body: in_phase(Phase::ResponseBody),
            log: in_phase(Phase::Log),
            needs_body: entries.iter().any(|e| e.may_need_body()),
            entries,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The plugins that act in a phase, in run order.
    pub fn phase(&self, phase: Phase) -> &[Arc<ChainEntry>] {
        match phase {
            Phase::Access => &self.access,
            Phase::ResponseHeaders => &self.response_headers,
            Phase::ResponseBody => &self.response_body,
            Phase::Log => &self.log,
        }
    }

    /// The instances that run in a phase for this consumer, in run order (the consumer is read
    /// once: in the access phase, where it may change, walk [`Chain::phase`] instead).
    pub fn handlers(
        &self,
        phase: Phase,
        consumer: Option<Uuid>,
    ) -> impl Iterator<Item = &Arc<dyn Handler>> {
        self.phase(phase)
            .iter()
            .filter_map(move |e| e.handler_for(consumer))
    }
}

/// Reorder by `ordering.before/after.access`: a topological sort that, among the instances
/// free to run next, always takes the highest priority. A cycle keeps priority order.
fn apply_ordering(sorted: Vec<(ChainEntry, &Plugin)>) -> Vec<ChainEntry> {
    let n = sorted.len();
    let index: BTreeMap<&str, usize> = sorted
        .iter()
        .enumerate()
        .map(|(i, (e, _))| (e.name.as_str(), i))
        .collect();
    // edges[a] holds b when a must run before b.
    let mut edges = vec![Vec::new(); n];
    for (i, (_, plugin)) in sorted.iter().enumerate() {
        let Some(ordering) = &plugin.ordering else {
            continue;
        };
        for name in ordering.before.get("access").into_iter().flatten() {
            if let Some(&j) = index.get(name.as_str()) {
                edges[i].push(j);
            }
        }
        for name in ordering.after.get("access").into_iter().flatten() {
            if let Some(&j) = index.get(name.as_str()) {
                edges[j].push(i);
            }
        }
    }
    let mut incoming = vec![0usize; n];
    for targets in &edges {
        for &j in targets {
            incoming[j] += 1;
        }
    }
    // An instance that must run before another inherits that one's urgency, so moving
    // request-transformer before key-auth does not also push it behind rate-limiting.
    let urgency = effective_priorities(&sorted, &edges);
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    while order.len() < n {
        let ready = (0..n).filter(|&i| !done[i] && incoming[i] == 0);
        // Ties go to the lower index, which is the higher plain priority.
        let Some(next) = ready.min_by_key(|&i| (std::cmp::Reverse(urgency[i]), i)) else {
            tracing::warn!("plugin ordering has a cycle; using priorities");
            return sorted.into_iter().map(|(e, _)| e).collect();
        };
        done[next] = true;
        order.push(next);
        for &j in &edges[next] {
            incoming[j] -= 1;
        }
    }
    let mut slots: Vec<Option<ChainEntry>> = sorted.into_iter().map(|(e, _)| Some(e)).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The highest priority among an instance and everything it must run before (depth-first,
/// with a visit guard so that a cycle cannot recurse forever).
fn effective_priorities(sorted: &[(ChainEntry, &Plugin)], edges: &[Vec<usize>]) -> Vec<i32> {
    fn visit(
        i: usize,
        sorted: &[(ChainEntry, &Plugin)],
        edges: &[Vec<usize>],
        memo: &mut [Option<i32>],
        active: &mut [bool],
    ) -> i32 {
        if let Some(v) = memo[i] {
            return v;
        }
        let mut best = sorted[i].0.priority;
        if !active[i] {
            active[i] = true;
            for &j in &edges[i] {
                best = best.max(visit(j, sorted, edges, memo, active));
            }
            active[i] = false;
        }
        memo[i] = Some(best);
        best
    }
    let mut memo = vec![None; sorted.len()];
    let mut active = vec![false; sorted.len()];
    (0..sorted.len())
        .map(|i| visit(i, sorted, edges, &mut memo, &mut active))
        .collect()
}

#[cfg(test)]
mod tests;
