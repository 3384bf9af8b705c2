//! The `provision` subcommands that talk to AWS: plan, up, destroy, output, status, unlock.
//!
//! Each opens a [`Session`] (stack file, desired graph, SDK clients), observes what the stack owns
//! and works from there; none keeps local state.

pub mod approve;
pub mod destroy;
pub mod output;
pub mod plan;
pub mod saved;
pub mod status;
pub mod up;

use std::collections::BTreeMap;

use crate::aws::{AwsError, Cx};
use crate::core::{desired, Graph, Observed, Plan};
use crate::deploy::{DeployContext, DeployError};
use crate::engine::Progress;
use crate::stack::Stack;

/// What a failed command says; `main` prints it and exits 1.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Lock(Box<crate::engine::lock::LockError>),
    /// The deploy phase failed (an AWS error inside it is reported as [`CommandError::Aws`]).
    #[error("deploy: {0}")]
    Deploy(DeployError),
    #[error("{0}")]
    Other(String),
}

impl From<DeployError> for CommandError {
    fn from(error: DeployError) -> Self {
        match error {
            DeployError::Aws(e) => CommandError::Aws(e),
            other => CommandError::Deploy(other),
        }
    }
}

impl From<crate::engine::lock::LockError> for CommandError {
    fn from(error: crate::engine::lock::LockError) -> Self {
        CommandError::Lock(Box::new(error))
    }
}

/// One stack, ready to be observed and changed.
pub struct Session {
    pub stack: Stack,
    pub graph: Graph,
    pub cx: Cx,
    pub progress: Progress,
}

impl Session {
    pub async fn open(stack: Stack) -> Result<Session, CommandError> {
        let graph = desired(&stack);
        graph
            .topo_order()
            .map_err(|e| CommandError::Other(format!("the stack's resource graph: {e}")))?;
        let cx = Cx::for_stack(&stack).await;
        Ok(Session {
            stack,
            graph,
            cx,
            progress: Progress::new(),
        })
    }

    /// Reads everything the stack owns, reporting time and request count on stderr.
    pub async fn observe(&self) -> Result<BTreeMap<String, Observed>, CommandError> {
        Ok(crate::engine::observe_noted(&self.cx, &self.graph, &self.progress).await?)
    }

    /// What the deploy phase works with, lent from this session.
    pub fn deploy(&self) -> DeployContext<'_> {
        DeployContext {
            stack: &self.stack,
            graph: &self.graph,
            cx: &self.cx,
            progress: &self.progress,
        }
    }

    /// Observes and plans.
    pub async fn plan(&self) -> Result<(BTreeMap<String, Observed>, Plan), CommandError> {
        let observed = self.observe().await?;
        let plan = crate::core::plan(&self.graph, &observed)
            .map_err(|e| CommandError::Other(format!("planning: {e}")))?;
        Ok((observed, plan))
    }
}

/// Runs `future` on a fresh runtime (the CLI is synchronous around it).
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => panic!("cannot start the async runtime: {e}"),
    }
}
