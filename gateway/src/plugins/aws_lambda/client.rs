//! The HTTP(S) client the plugin talks to AWS with (Lambda, STS, credential endpoints): pooled,
//! HTTP/1.1, TLS through rustls with the webpki roots, every exchange under one deadline.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Lambda's synchronous answers are at most 6 MB; anything far beyond is not Lambda.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("request to {uri} failed: {source}")]
    Send {
        uri: String,
        source: hyper_util::client::legacy::Error,
    },
    #[error("reading the answer of {uri} failed: {message}")]
    Body { uri: String, message: String },
    #[error("no answer from {uri} within {timeout:?}")]
    Timeout { uri: String, timeout: Duration },
}

/// A pooled client; cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpClient {
    /// `keepalive`: how long an idle pooled connection lives (the plugin's `keepalive`).
    pub fn new(keepalive: Duration) -> Result<HttpClient, rustls::Error> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(keepalive)
            .build(https);
        Ok(HttpClient { inner })
    }

    /// Send a request and read the whole answer, all within `timeout`.
    pub async fn exchange(
        &self,
        request: Request<Bytes>,
        timeout: Duration,
    ) -> Result<Response<Bytes>, ExchangeError> {
        let uri = request.uri().to_string();
        let request = request.map(Full::new);
        let work = async {
            let response =
                self.inner
                    .request(request)
                    .await
                    .map_err(|source| ExchangeError::Send {
                        uri: uri.clone(),
                        source,
                    })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| ExchangeError::Body {
                    uri: uri.clone(),
                    message: e.to_string(),
                })?
                .to_bytes();
            Ok(Response::from_parts(parts, body))
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(ExchangeError::Timeout { uri, timeout }),
        }
    }
}
