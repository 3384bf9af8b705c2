//! The local data plane's ports on 127.0.0.1: whether something listens, refusing one a program
//! the stack did not start holds, and waiting for a started one to listen.

use std::time::Duration;

use crate::deploy::DeployError;
use crate::wait;

/// How often a starting program's port is tried.
const POLL: Duration = Duration::from_millis(50);

/// Something accepts connections on `127.0.0.1:port`.
pub async fn listening(port: u16) -> bool {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok()
}

/// Refuses a port another program listens on, naming the stack field that chose it.
pub async fn port_free(port: u16, field: &str) -> Result<(), DeployError> {
    if listening(port).await {
        return Err(DeployError::PortInUse {
            port,
            field: field.to_string(),
        });
    }
    Ok(())
}

/// Waits until something listens on `port`; false when nothing did `within`.
pub async fn wait_port(port: u16, within: Duration) -> bool {
    wait::until(within, POLL, || async move {
        Ok::<_, ()>(listening(port).await.then_some(()))
    })
    .await
    .is_ok()
}
