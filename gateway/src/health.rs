//! A minimal HTTP GET for `gateway health`, so the container health check needs no curl.

use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The status code of `GET url`, within 5 seconds.
pub async fn get_status(url: &str) -> Result<u16, String> {
    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let uri: http::Uri = url.parse().map_err(|e| format!("bad url: {e}"))?;
    match tokio::time::timeout(Duration::from_secs(5), client.get(uri)).await {
        Ok(Ok(response)) => Ok(response.status().as_u16()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}
