//! The AWS side of the provisioner: SDK clients for a stack, error classification, retries with
//! backoff, and one [`kinds::Driver`] per resource kind (observe, create, update, delete, poll).
//!
//! Everything here speaks our own types ([`crate::core::Attr`] maps) to the layers above; SDK
//! types stay inside the kind files.

pub mod attrs;
pub mod clients;
pub mod error;
pub mod fresh;
pub mod kinds;
pub mod param;
pub mod retry;

pub use attrs::{Attrs, AttrsExt};
pub use clients::{api_calls, Clients, Cx};
pub use error::{api, found, gone_ok, missing, not_in_place, AwsError};
pub use kinds::{driver, Driver, Goal, Progress};
