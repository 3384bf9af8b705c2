//! Which candidates can possibly match a request, without looking at the others: candidates
//! are filed by exact host, then by the literal text their paths must start with.

use super::compile::{Candidate, Paths};
use std::collections::HashMap;

/// Candidate positions (ascending, i.e. by priority) filed by host and path prefix.
#[derive(Debug, Default)]
pub(super) struct CandidateIndex {
    /// Candidates whose hosts are all exact, under each of their host names.
    by_host: HashMap<String, PathTrie>,
    /// Every other candidate (no hosts, or a wildcard host).
    general: PathTrie,
}

impl CandidateIndex {
    pub fn new(candidates: &[Candidate]) -> Self {
        let mut index = CandidateIndex::default();
        for (position, candidate) in candidates.iter().enumerate() {
            let position = position as u32;
            match candidate.exact_hosts() {
                Some(hosts) => {
                    for host in hosts {
                        let trie = index.by_host.entry(host.to_string()).or_default();
                        trie.insert_candidate(candidate, position);
                    }
                }
                None => index.general.insert_candidate(candidate, position),
            }
        }
        index
    }

    /// The positions that may match a request for `host` (lower-case) and `path`, in
    /// ascending order, each once.
    pub fn lookup<'a>(&'a self, host: &str, path: &str) -> Positions<'a> {
        let mut lists = Vec::new();
        if let Some(trie) = self.by_host.get(host) {
            trie.collect(path, &mut lists);
        }
        self.general.collect(path, &mut lists);
        Positions { lists, last: None }
    }
}

/// A byte trie of path prefixes; each node lists the candidates whose key ends there.
#[derive(Debug)]
struct PathTrie {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    /// Sorted by byte.
    children: Vec<(u8, u32)>,
    positions: Vec<u32>,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie {
            nodes: vec![Node::default()],
        }
    }
}

impl PathTrie {
    fn insert_candidate(&mut self, candidate: &Candidate, position: u32) {
        match &candidate.paths {
            Paths::Any => self.insert("", position),
            Paths::Prefixes(prefixes) => prefixes.iter().for_each(|p| self.insert(p, position)),
            Paths::Regexes(regexes) => regexes
                .iter()
                .for_each(|r| self.insert(&r.literal, position)),
        }
    }

    fn insert(&mut self, key: &str, position: u32) {
        let mut node = 0usize;
        for byte in key.bytes() {
            node = match self.nodes[node]
                .children
                .binary_search_by_key(&byte, |c| c.0)
            {
                Ok(i) => self.nodes[node].children[i].1 as usize,
                Err(i) => {
                    let child = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[node].children.insert(i, (byte, child as u32));
                    child
                }
            };
        }
        let positions = &mut self.nodes[node].positions;
        // Two paths of one candidate may share a key.
        if positions.last() != Some(&position) {
            positions.push(position);
        }
    }

    /// Add the lists of every key that is a prefix of `path`.
    fn collect<'a>(&'a self, path: &str, lists: &mut Vec<&'a [u32]>) {
        let mut node = &self.nodes[0];
        if !node.positions.is_empty() {
            lists.push(&node.positions);
        }
        for byte in path.bytes() {
            let Ok(i) = node.children.binary_search_by_key(&byte, |c| c.0) else {
                return;
            };
            node = &self.nodes[node.children[i].1 as usize];
            if !node.positions.is_empty() {
                lists.push(&node.positions);
            }
        }
    }
}

/// Merges ascending lists into one ascending walk without repeats.
pub(super) struct Positions<'a> {
    lists: Vec<&'a [u32]>,
    last: Option<u32>,
}

impl Iterator for Positions<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        loop {
            let (smallest, _) = self
                .lists
                .iter()
                .enumerate()
                .filter_map(|(i, list)| list.first().map(|p| (i, *p)))
                .min_by_key(|(_, p)| *p)?;
            let list = &mut self.lists[smallest];
            let position = list[0];
            *list = &list[1..];
            // A candidate filed under two prefixes of the same path comes up twice.
            if self.last != Some(position) {
                self.last = Some(position);
                return Some(position);
            }
        }
    }
}
