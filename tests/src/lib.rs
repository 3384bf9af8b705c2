//! Test harness: real PostgreSQL and Redis servers on free ports, cleaned up on drop, plus helpers
//! to find the workspace's binaries for end-to-end tests.
//!
//! Map: [`TempPostgres`] / [`shared_postgres`] and [`TempRedis`] each run one server process in a
//! private scratch directory ([`scratch`]); [`process`] owns spawning, graceful stopping and the
//! watchdog that cleans up even when the test process dies without running `Drop`; [`ports`] hands
//! out ports; [`bins`] finds `target/debug/<name>`; [`owned`] lists what a stack owns in LocalStack.

pub mod bins;
pub mod cli;
pub mod localstack;
pub mod owned;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod redis;
pub mod scratch;
pub mod stackfile;
pub mod user;

pub use bins::cargo_bin;
pub use localstack::{localstack, unique_stack};
pub use ports::{free_port, wait_for_port};
pub use postgres::{shared_postgres, TempPostgres};
pub use redis::TempRedis;
