//! What the deploy phase works with: the stack, its desired graph, the AWS context and the
//! progress display, lent by whichever command runs it (deploy knows nothing of commands).

use std::collections::BTreeMap;

use super::DeployError;
use crate::aws::Cx;
use crate::core::{Graph, Observed};
use crate::engine::Progress;
use crate::stack::Stack;

/// One stack, as the deploy phase sees it.
#[derive(Clone, Copy)]
pub struct DeployContext<'a> {
    pub stack: &'a Stack,
    pub graph: &'a Graph,
    pub cx: &'a Cx,
    pub progress: &'a Progress,
}

impl DeployContext<'_> {
    /// Reads everything the stack owns (as the command's own observe does, noted on stderr).
    pub async fn observe(&self) -> Result<BTreeMap<String, Observed>, DeployError> {
        Ok(crate::engine::observe_noted(self.cx, self.graph, self.progress).await?)
    }
}
