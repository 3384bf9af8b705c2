//! Resolving which plugin instances apply to a route, and in which order they run.

use super::{registry, Handler};
use crate::entities::Plugin;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// One instance in a chain.
#[derive(Debug, Clone)]
pub struct ChainEntry {
    pub name: String,
    pub plugin_id: Uuid,
    pub priority: i32,
    pub handler: Arc<dyn Handler>,
}

/// The instances that run for one route, in access-phase order.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub entries: Vec<ChainEntry>,
}

/// A built instance with its entity, as compiled once per snapshot.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub plugin: Plugin,
    pub handler: Arc<dyn Handler>,
}

/// How specific an instance's scope is for this request; None when it does not apply.
/// Kong: route+service > route > service > global (consumer scopes are resolved once the
/// consumer is known).
fn specificity(p: &Plugin, route: Option<Uuid>, service: Option<Uuid>) -> Option<u8> {
    if p.consumer.is_some() {
        return None;
    }
    let on_route = p.route.map(|r| Some(r.id) == route);
    let on_service = p.service.map(|s| Some(s.id) == service);
    match (on_route, on_service) {
        (Some(false), _) | (_, Some(false)) => None,
        (Some(true), Some(true)) => Some(3),
        (Some(true), None) => Some(2),
        (None, Some(true)) => Some(1),
        (None, None) => Some(0),
    }
}

impl Chain {
    /// The chain for a route (or for no route: global instances only).
    pub fn resolve(compiled: &[Compiled], route: Option<Uuid>, service: Option<Uuid>) -> Chain {
        let mut best: BTreeMap<&str, (u8, &Compiled)> = BTreeMap::new();
        for c in compiled.iter().filter(|c| c.plugin.enabled) {
            let Some(rank) = specificity(&c.plugin, route, service) else {
                continue;
            };
            let slot = best.entry(c.plugin.name.as_str()).or_insert((rank, c));
            if rank > slot.0 {
                *slot = (rank, c);
            }
        }
        let mut entries: Vec<(ChainEntry, &Plugin)> = best
            .into_values()
            .map(|(_, c)| {
                let entry = ChainEntry {
                    name: c.plugin.name.clone(),
                    plugin_id: c.plugin.id,
                    priority: registry::priority(&c.plugin.name).unwrap_or(0),
                    handler: c.handler.clone(),
                };
                (entry, &c.plugin)
            })
            .collect();
        entries.sort_by(|a, b| {
            b.0.priority
                .cmp(&a.0.priority)
                .then(a.0.name.cmp(&b.0.name))
        });
        Chain {
            entries: apply_ordering(entries),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
