//! The resource graph: creation order, cycle detection and the critical path.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::resource::Resource;

/// Why a graph cannot be ordered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("`{from}` depends on `{missing}`, which is not in the graph")]
    MissingDependency { from: String, missing: String },
    #[error("dependency cycle among: {}", involved.join(", "))]
    Cycle { involved: Vec<String> },
}

/// Every desired resource of one stack, keyed by logical name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Graph {
    /// The owning stack's identity, written in every resource's ownership tag.
    pub stack: String,
    pub resources: BTreeMap<String, Resource>,
}

/// The longest weighted chain of dependencies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalPath {
    /// Logical names, first created first.
    pub path: Vec<String>,
    pub total: f64,
}

// === impl Graph ===

impl Graph {
    pub fn new(stack: impl Into<String>) -> Self {
        Graph {
            stack: stack.into(),
            resources: BTreeMap::new(),
        }
    }

    pub fn insert(&mut self, resource: Resource) {
        self.resources.insert(resource.logical.clone(), resource);
    }

    pub fn get(&self, logical: &str) -> Option<&Resource> {
        self.resources.get(logical)
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// Creation order: every resource after its dependencies; ties broken by logical name so the
    /// order is stable. Destroy runs it backwards.
    pub fn topo_order(&self) -> Result<Vec<&str>, GraphError> {
        let mut pending: BTreeMap<&str, usize> = BTreeMap::new();
        let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, resource) in &self.resources {
            for dep in &resource.depends_on {
                if !self.resources.contains_key(dep) {
                    return Err(GraphError::MissingDependency {
                        from: name.clone(),
                        missing: dep.clone(),
                    });
                }
                dependents.entry(dep).or_default().push(name);
            }
            pending.insert(name, resource.depends_on.len());
        }
        let mut ready: BTreeSet<&str> = pending
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| *k)
            .collect();
        let mut order = Vec::with_capacity(self.resources.len());
        while let Some(next) = ready.pop_first() {
            order.push(next);
            pending.remove(next);
            for dependent in dependents.get(next).into_iter().flatten() {
                if let Some(count) = pending.get_mut(dependent) {
                    *count -= 1;
                    if *count == 0 {
                        ready.insert(dependent);
                    }
                }
            }
        }
        if !pending.is_empty() {
            let stuck: BTreeSet<&str> = pending.keys().copied().collect();
            return Err(GraphError::Cycle {
                involved: self.on_cycles(stuck),
            });
        }
        Ok(order)
    }

    /// Narrows the resources left unordered to those on a cycle, dropping the ones merely
    /// waiting downstream of it (nothing unordered depends on them).
    fn on_cycles<'a>(&'a self, mut stuck: BTreeSet<&'a str>) -> Vec<String> {
        loop {
            let needed: BTreeSet<&str> = stuck
                .iter()
                .flat_map(|name| self.resources[*name].depends_on.iter())
                .map(String::as_str)
                .filter(|dep| stuck.contains(dep))
                .collect();
            if needed.len() == stuck.len() {
                return stuck.into_iter().map(str::to_string).collect();
            }
            stuck = needed;
        }
    }

    /// Destroy order: dependents before what they depend on.
    pub fn destroy_order(&self) -> Result<Vec<&str>, GraphError> {
        let mut order = self.topo_order()?;
        order.reverse();
        Ok(order)
    }

    /// The chain of dependencies with the largest summed weight (e.g. creation seconds): what
    /// bounds a fully parallel apply.
    pub fn critical_path(
        &self,
        weights: &dyn Fn(&Resource) -> f64,
    ) -> Result<CriticalPath, GraphError> {
        let order = self.topo_order()?;
        // Longest finish time per node, and the predecessor that gave it.
        let mut finish: BTreeMap<&str, (f64, Option<&str>)> = BTreeMap::new();
        for name in &order {
            let resource = &self.resources[*name];
            let before = resource
                .depends_on
                .iter()
                .map(|dep| (finish[dep.as_str()].0, dep.as_str()))
                .fold(None, first_max);
            let start = before.map_or(0.0, |b| b.0);
            finish.insert(name, (start + weights(resource), before.map(|b| b.1)));
        }
        let end = finish
            .iter()
            .map(|(name, (total, _))| (*total, *name))
            .fold(None, first_max);
        let Some((total, end)) = end else {
            return Ok(CriticalPath {
                path: Vec::new(),
                total: 0.0,
            });
        };
        let mut cursor = Some(end);
        let mut path = Vec::new();
        while let Some(name) = cursor {
            path.push(name.to_string());
            cursor = finish[name].1;
        }
        path.reverse();
        Ok(CriticalPath { path, total })
    }
}

/// Keeps the first of equally heavy candidates, so ties resolve by logical name.
fn first_max<'a>(best: Option<(f64, &'a str)>, next: (f64, &'a str)) -> Option<(f64, &'a str)> {
    match best {
        Some(best) if best.0 >= next.0 => Some(best),
        _ => Some(next),
    }
}
