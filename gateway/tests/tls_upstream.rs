//! `https` services: the proxy speaks TLS to the upstream, verifies its certificate by
//! default, and accepts any certificate only when the service sets `tls_verify: false`.

mod support;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use support::{send, Gateway};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

const CERT: &[u8] = include_bytes!("fixtures/upstream-cert.der");
const KEY: &[u8] = include_bytes!("fixtures/upstream-key.der");

/// A TLS upstream with a self-signed certificate for localhost / 127.0.0.1, answering with the
/// path it was asked for.
async fn tls_upstream() -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(CERT.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY.to_vec())),
        )
        .expect("a valid test certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    let body = format!("{{\"tls\":true,\"path\":\"{}\"}}", req.uri().path());
                    Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(
                        body,
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    port
}

#[tokio::test]
async fn https_upstreams_are_verified_unless_told_otherwise() {
    let port = tls_upstream().await;
    let gw = Gateway::start(&format!(
        r#"
_format_version: "3.0"
services:
  - name: trusting
    url: https://127.0.0.1:{port}/v1
    tls_verify: false
    routes: [{{name: trusting, paths: [/trusting]}}]
  - name: verifying
    url: https://127.0.0.1:{port}/v1
    routes: [{{name: verifying, paths: [/verifying]}}]
"#
    ))
    .await;
    let reply = send("GET", &gw.url("/trusting/forecast"), &[], "").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.json()["path"], "/v1/forecast");
    let reply = send("GET", &gw.url("/verifying/forecast"), &[], "").await;
    assert_eq!(
        reply.status, 502,
        "a self-signed certificate is refused by default"
    );
}
