//! http-log's background sender: gathers a batch (up to `max_batch_size` entries, waiting at
//! most `max_coalescing_delay` after the first), sends it, and retries a failed batch with
//! exponential backoff until `max_retry_time` (or `retry_count`) runs out.

use super::config::Settings;
use crate::plugins::log_serializer::Dropped;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Until the queue is gone and drained.
pub async fn run(
    mut rx: mpsc::Receiver<String>,
    settings: Arc<Settings>,
    queued_bytes: Arc<AtomicUsize>,
    dropped: Arc<Dropped>,
) {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(settings.timeout));
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(settings.keepalive)
        .build(connector);
    while let Some(first) = rx.recv().await {
        let batch = gather(&mut rx, first, &settings).await;
        let bytes: usize = batch.iter().map(String::len).sum();
        queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
        let entries = batch.len() as u64;
        let body = body_of(batch, settings.max_batch_size > 1);
        if let Err(e) = deliver(&client, &settings, body).await {
            dropped.add(entries, &e);
        }
    }
}

/// The first entry and whatever follows, up to the batch size or the coalescing delay.
async fn gather(rx: &mut mpsc::Receiver<String>, first: String, s: &Settings) -> Vec<String> {
    let mut batch = vec![first];
    let deadline = Instant::now() + s.max_coalescing_delay;
    while batch.len() < s.max_batch_size {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(entry)) => batch.push(entry),
            Ok(None) | Err(_) => break,
        }
    }
    batch
}

/// One entry as a JSON object; batches (when the batch size is above 1) as a JSON array.
pub(super) fn body_of(batch: Vec<String>, as_array: bool) -> Bytes {
    if !as_array {
        return Bytes::from(batch.concat());
    }
    let mut body = String::with_capacity(batch.iter().map(|e| e.len() + 1).sum::<usize>() + 2);
    body.push('[');
    for (i, entry) in batch.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(entry);
    }
    body.push(']');
    Bytes::from(body)
}

/// Send a batch, retrying with backoff; the last error when every attempt failed.
async fn deliver(client: &HttpClient, s: &Settings, body: Bytes) -> Result<(), String> {
    let started = Instant::now();
    let mut delay = s.initial_retry_delay;
    let mut retries = 0u32;
    loop {
        let error = match send_once(client, s, body.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let out_of_time = s
            .max_retry_time
            .is_none_or(|max| started.elapsed() + delay > max);
        let out_of_tries = s.retry_count.is_some_and(|max| retries >= max);
        if out_of_time || out_of_tries {
            return Err(error);
        }
        tracing::debug!(endpoint = %s.endpoint, error = %error, retry_in = ?delay, "http-log: send failed");
        tokio::time::sleep(delay).await;
        retries += 1;
        delay = (delay * 2).min(s.max_retry_delay);
    }
}

/// One request to the collector; any status below 400 is success (as Kong counts it).
async fn send_once(client: &HttpClient, s: &Settings, body: Bytes) -> Result<(), String> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = s.method.clone();
    *request.uri_mut() = s.endpoint.clone();
    *request.headers_mut() = s.headers.clone();
    let exchange = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        // Read the answer whole so the connection can be reused.
        let _ = response.into_body().collect().await;
        if status.as_u16() >= 400 {
            return Err(format!("collector answered {status}"));
        }
        Ok(())
    };
    match tokio::time::timeout(s.timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {:?}", s.timeout)),
    }
}
