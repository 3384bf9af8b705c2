//! The gateway's own answers when it cannot proxy, with Kong's status codes and messages, so
//! clients and dashboards built for Kong read them the same way.

use super::body::{full, ProxyBody};
use http::{HeaderValue, Response, StatusCode};

/// Why a request did not reach (or come back from) an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    NoRoute,
    NoService,
    NoPeer,
    NameResolution,
    BadGateway,
    Timeout,
    PayloadTooLarge,
    /// The request line and headers exceed `max_header_size`.
    HeaderTooLarge,
    BadRequest,
}

impl Failure {
    pub fn status(self) -> StatusCode {
        match self {
            Failure::NoRoute => StatusCode::NOT_FOUND,
            Failure::NoService | Failure::NoPeer | Failure::NameResolution => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Failure::BadGateway => StatusCode::BAD_GATEWAY,
            Failure::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Failure::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::BadRequest => StatusCode::BAD_REQUEST,
            // nginx's own code, which Kong answers with; clients built for Kong expect it.
            Failure::HeaderTooLarge => {
                StatusCode::from_u16(494).unwrap_or(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            }
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Failure::NoRoute => "no Route matched with those values",
            Failure::NoService => "no Service found with those values",
            Failure::NoPeer => "failure to get a peer from the ring-balancer",
            Failure::NameResolution => "name resolution failed",
            Failure::BadGateway => "An invalid response was received from the upstream server",
            Failure::Timeout => "The upstream server is timing out",
            Failure::PayloadTooLarge => "Payload too large",
            Failure::BadRequest => "Bad request",
            Failure::HeaderTooLarge => "Request header or cookie too large",
        }
    }
}

/// `{"message": ..., "request_id": ...}` as Kong 3.x writes it.
pub fn respond(failure: Failure, request_id: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({ "message": failure.message(), "request_id": request_id });
    let mut response = Response::new(full(body.to_string()));
    *response.status_mut() = failure.status();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// An HTTPS-only route reached over HTTP: 426, or a redirect to the https URL.
pub fn https_required(code: u16, host: &str, path_and_query: &str) -> Response<ProxyBody> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::UPGRADE_REQUIRED);
    if status == StatusCode::UPGRADE_REQUIRED {
        let body = serde_json::json!({ "message": "Please use HTTPS protocol" });
        let mut response = Response::new(full(body.to_string()));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONNECTION,
            HeaderValue::from_static("Upgrade"),
        );
        response.headers_mut().insert(
            http::header::UPGRADE,
            HeaderValue::from_static("TLS/1.2, HTTP/1.1"),
        );
        return response;
    }
    let mut response = Response::new(full(""));
    *response.status_mut() = status;
    if let Ok(location) = HeaderValue::from_str(&format!("https://{host}{path_and_query}")) {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    response
}
