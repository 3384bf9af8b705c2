//! Response compression as Kong's injected nginx settings ask (`KONG_NGINX_HTTP_GZIP`,
//! `_COMP_LEVEL`, `_TYPES`, `_PROXIED`, `_VARY`, `_MIN_LENGTH`): gzip streamed frame by frame,
//! flushed whenever the upstream pauses, never applied to an already-encoded body.

use super::body::{BoxError, ProxyBody};
use crate::settings::Gzip;
use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What compression needs to remember of the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked {
    accepts_gzip: bool,
    /// The request came through a proxy (it has `Via`): `gzip_proxied` decides.
    proxied: bool,
    authorized: bool,
    head: bool,
}

impl Asked {
    pub fn of(method: &http::Method, headers: &HeaderMap) -> Asked {
        Asked {
            accepts_gzip: headers
                .get_all(header::ACCEPT_ENCODING)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(accepts_gzip),
            proxied: headers.contains_key(header::VIA),
            authorized: headers.contains_key(header::AUTHORIZATION),
            head: method == http::Method::HEAD,
        }
    }
}

/// `gzip` or `gzip;q=0.5`, but not `gzip;q=0`.
fn accepts_gzip(item: &str) -> bool {
    let mut parts = item.split(';').map(str::trim);
    let coding = parts.next().unwrap_or("");
    if !coding.eq_ignore_ascii_case("gzip") && coding != "*" {
        return false;
    }
    !parts.any(|p| {
        p.strip_prefix("q=")
            .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q == 0.0))
    })
}

/// Should this response be compressed? nginx's rules: status 200, 403 or 404; a listed type
/// (`text/html` always); not encoded yet; long enough; `gzip_proxied` for proxied requests.
pub fn wanted(settings: &Gzip, asked: Asked, status: StatusCode, headers: &HeaderMap) -> bool {
    if !settings.on || !asked.accepts_gzip || asked.head {
        return false;
    }
    if !matches!(status.as_u16(), 200 | 403 | 404) || headers.contains_key(header::CONTENT_ENCODING)
    {
        return false;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let listed = content_type == "text/html"
        || settings
            .types
            .iter()
            .any(|t| t == "*" || t.eq_ignore_ascii_case(&content_type));
    if !listed {
        return false;
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n < settings.min_length) {
        return false;
    }
    !asked.proxied || proxied_allows(settings, asked, headers)
}

/// nginx's `gzip_proxied` conditions, checked against the response (and `auth` the request).
fn proxied_allows(settings: &Gzip, asked: Asked, headers: &HeaderMap) -> bool {
    let cache_control = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    settings
        .proxied
        .iter()
        .any(|condition| match condition.as_str() {
            "any" => true,
            "expired" => headers.contains_key(header::EXPIRES),
            "no-cache" | "no-store" | "private" => cache_control.contains(condition.as_str()),
            "no_last_modified" => !headers.contains_key(header::LAST_MODIFIED),
            "no_etag" => !headers.contains_key(header::ETAG),
            "auth" => asked.authorized,
            _ => false,
        })
}

/// Compress `body` and fix the headers that describe it.
pub fn apply(settings: &Gzip, headers: &mut HeaderMap, body: ProxyBody) -> ProxyBody {
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    if let Some(etag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok()) {
        // A compressed body is not byte-identical: a strong ETag becomes weak, as nginx does.
        if !etag.starts_with("W/") {
            if let Ok(weak) = HeaderValue::from_str(&format!("W/{etag}")) {
                headers.insert(header::ETAG, weak);
            }
        }
    }
    if settings.vary {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    let level = Compression::new(settings.level.clamp(1, 9));
    GzipBody {
        inner: body,
        encoder: Some(GzEncoder::new(Vec::new(), level)),
        unflushed: false,
    }
    .boxed_unsync()
}

struct GzipBody {
    inner: ProxyBody,
    /// None once the trailer has been written.
    encoder: Option<GzEncoder<Vec<u8>>>,
    /// Input went in since the last output: flush it before waiting on the upstream.
    unflushed: bool,
}

impl GzipBody {
    fn take_output(&mut self) -> Option<Bytes> {
        let buffer = self.encoder.as_mut()?.get_mut();
        (!buffer.is_empty()).then(|| Bytes::from(std::mem::take(buffer)))
    }
}

impl Body for GzipBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        encoder.write_all(data)?;
                        this.unflushed = true;
                    }
                    // Batch what is ready; output goes out when the buffer grows or input stops.
                    if encoder.get_ref().len() >= 16 * 1024 {
                        if let Some(out) = this.take_output() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    let Some(encoder) = this.encoder.take() else {
                        return Poll::Ready(None);
                    };
                    let rest = encoder.finish()?;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(rest)))));
                }
                Poll::Pending => {
                    // The upstream paused: send what we have so the client is not kept waiting.
                    if this.unflushed {
                        encoder.flush()?;
                        this.unflushed = false;
                    }
                    return match this.take_output() {
                        Some(out) => Poll::Ready(Some(Ok(Frame::data(out)))),
                        None => Poll::Pending,
                    };
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none()
    }
}

#[cfg(test)]
mod tests;
