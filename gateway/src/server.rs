//! Starting a node: open the store, load the configuration (or the cached one), keep it fresh,
//! serve the proxy, Admin API and status listeners, and drain in-flight requests on shutdown.

use crate::node::Node;
use crate::proxy::Proxy;
use crate::settings::{Database, Listen, Settings};
use crate::store::{MemoryStore, PgStore, Store};
use crate::{declarative, watch};
use anyhow::Context;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch as signal;

/// mimalloc instead of glibc's malloc, for every binary and test that links this crate: the
/// proxy allocates many small, short-lived buffers per request, and under load glibc's malloc
/// and free took about a fifth of the gateway's CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Build the node for these settings and load its first configuration.
pub async fn open_node(settings: &Settings) -> anyhow::Result<Arc<Node>> {
    let cache = settings.prefix.join("gateway-config-cache.json");
    let cache = std::fs::create_dir_all(&settings.prefix)
        .ok()
        .map(|()| cache);
    match &settings.database {
        Database::Off => {
            let started = std::time::Instant::now();
            let config = match &settings.declarative_config {
                Some(path) => declarative::parse_file(path).map_err(|e| anyhow::anyhow!("{e}"))?,
                None => Default::default(),
            };
            let entities = config.len();
            let parsed = started.elapsed();
            let node = Node::new(Store::Memory(MemoryStore::new(config)), None);
            node.refresh().await?;
            // The bench reads this line: what a large declarative file costs at start.
            tracing::info!(
                entities,
                parse_ms = parsed.as_millis() as u64,
                snapshot_ms = (started.elapsed() - parsed).as_millis() as u64,
                "declarative configuration loaded"
            );
            Ok(node)
        }
        Database::Postgres(pg) => {
            let store = PgStore::connect_lazy(&pg.url())?;
            let node = Node::new(Store::Postgres(store.clone()), cache);
            // rate-limiting's `cluster` policy counts in this database.
            node.shared.rate_limiting.use_postgres(store.pool().clone());
            if let Err(e) = node.refresh().await {
                tracing::error!(error = %e, "cannot load the configuration from PostgreSQL");
                if !node.load_cache() {
                    tracing::warn!(
                        "no cached configuration: serving an empty one until the database answers"
                    );
                }
            }
            watch::spawn(
                node.clone(),
                store,
                Duration::from_secs_f64(settings.db_update_frequency.max(0.1)),
            );
            Ok(node)
        }
    }
}

/// Run until SIGINT or SIGTERM, then stop accepting and drain for `shutdown_timeout` seconds.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let node = open_node(&settings).await?;
    let proxy = Proxy::new(node.clone(), &settings);
    let (stop_tx, stop_rx) = signal::channel(false);
    let mut tasks = Vec::new();
    for listen in usable(&settings.proxy_listen, "proxy") {
        let listener = bind(&listen).await?;
        tracing::info!(addr = %listen.addr, "proxy listening");
        tasks.push(tokio::spawn(serve_proxy(
            listener,
            proxy.clone(),
            settings.max_header_size,
            stop_rx.clone(),
        )));
    }
    let routers = [
        (
            "admin",
            "Admin API",
            &settings.admin_listen,
            crate::admin::app(node.clone()),
        ),
        (
            "status",
            "status",
            &settings.status_listen,
            crate::status::app(node.clone()),
        ),
    ];
    for (what, label, listens, app) in routers {
        for listen in usable(listens, what) {
            let listener = bind(&listen).await?;
            tracing::info!(addr = %listen.addr, "{label} listening");
            let serve = serve_router(listener, app.clone(), stop_rx.clone());
            tasks.push(tokio::spawn(serve));
        }
    }
    shutdown_signal().await;
    tracing::info!(
        timeout_s = settings.shutdown_timeout,
        "shutting down: draining in-flight requests"
    );
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(
        Duration::from_secs(settings.shutdown_timeout),
        futures_util::future::join_all(tasks),
    )
    .await;
    if drained.is_err() {
        tracing::warn!("shutdown timeout reached with requests still in flight");
    }
    Ok(())
}

/// TLS listeners are accepted in settings (Kong task definitions carry them) but not served yet.
fn usable(list: &[Listen], what: &str) -> Vec<Listen> {
    list.iter()
        .filter(|l| {
            if l.ssl {
                tracing::warn!(addr = %l.addr, listener = what, "TLS listeners are not served yet; skipping");
            }
            !l.ssl
        })
        .cloned()
        .collect()
}

async fn bind(listen: &Listen) -> anyhow::Result<TcpListener> {
    TcpListener::bind(listen.addr)
        .await
        .with_context(|| format!("cannot listen on {}", listen.addr))
}

/// Serve the proxy on `listener` until `stop` turns true; then stop accepting (new connections
/// are refused at once) and wait for the requests in flight to finish. Embedders and tests call
/// this directly with their own stop handle; [`run`] calls it per proxy listener.
pub async fn serve_proxy(
    listener: TcpListener,
    proxy: Arc<Proxy>,
    max_header: usize,
    mut stop: signal::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // Headers past `max_header` get Kong's 494 from the proxy; hyper's own limit (431,
        // empty body) only stops a block so large it should not be buffered at all.
        .max_buf_size(max_header.saturating_mul(4).max(64 * 1024))
        // nginx limits the header block's size, not the number of fields.
        .max_headers(1000)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(60));
    let local_port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let metrics = proxy.metrics();
        metrics.connections_accepted.fetch_add(1, Ordering::Relaxed);
        metrics.connections_active.fetch_add(1, Ordering::Relaxed);
        let proxy = proxy.clone();
        let service = service_fn(move |req| {
            let proxy = proxy.clone();
            async move { Ok::<_, std::convert::Infallible>(proxy.handle(req, client, local_port).await) }
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            metrics.connections_active.fetch_sub(1, Ordering::Relaxed);
        });
    }
    // Closing the socket now makes new clients fail fast instead of queueing in the backlog.
    drop(listener);
    graceful.shutdown().await;
}

async fn serve_router(listener: TcpListener, app: axum::Router, mut stop: signal::Receiver<bool>) {
    let shutdown = async move {
        let _ = stop.changed().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %e, "listener failed");
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
