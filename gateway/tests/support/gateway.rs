//! An in-process gateway: a memory-store node loaded from declarative YAML, serving the proxy
//! on a loopback port until stopped.

use gateway::node::Node;
use gateway::proxy::Proxy;
use gateway::settings::Settings;
use gateway::store::{MemoryStore, Store};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Gateway {
    pub addr: SocketAddr,
    pub node: Arc<Node>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Gateway {
    /// A gateway with default settings (DB-less) serving `yaml`.
    pub async fn start(yaml: &str) -> Gateway {
        Gateway::start_with(yaml, &[]).await
    }

    /// As [`Gateway::start`], with `KONG_*` settings such as `("KONG_CLIENT_MAX_BODY_SIZE", "1k")`.
    pub async fn start_with(yaml: &str, env: &[(&str, &str)]) -> Gateway {
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        vars.insert("KONG_DATABASE".into(), "off".into());
        for (k, v) in env {
            vars.insert((*k).into(), (*v).into());
        }
        let settings = Settings::parse(&vars).unwrap_or_else(|e| panic!("bad settings: {e:?}"));
        let config = gateway::declarative::parse_str(yaml, "test.yaml")
            .unwrap_or_else(|e| panic!("bad test configuration: {e}\n{yaml}"));
        let node = Node::new(Store::Memory(MemoryStore::new(config)), None);
        node.refresh().await.expect("memory store loads");
        let proxy = Proxy::new(node.clone(), &settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(gateway::server::serve_proxy(
            listener,
            proxy,
            settings.max_header_size,
            stop_rx,
        ));
        Gateway {
            addr,
            node,
            stop,
            task,
        }
    }

    /// `http://127.0.0.1:port{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Ask the listener to stop; in-flight requests carry on.
    pub fn trigger_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Stop and wait until every in-flight request has finished.
    pub async fn stop(self) {
        self.trigger_stop();
        self.task.await.expect("proxy listener task");
    }

    /// Wait for the listener task (after [`Gateway::trigger_stop`]).
    pub async fn stopped(self) {
        self.task.await.expect("proxy listener task");
    }
}
