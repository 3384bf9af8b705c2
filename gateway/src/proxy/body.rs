//! Body types: responses stream through as they arrive, never buffered whole; request bodies
//! are capped at `client_max_body_size` while they stream.

use bytes::Bytes;
use http_body::Body as _;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, Limited};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

pub fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// No body. Boxing `Empty` allocates nothing (it has no size), unlike a boxed empty `Full`.
pub fn empty() -> ProxyBody {
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Box any body, capping it at `limit` bytes when a limit is set (0: none).
pub fn capped<B>(body: B, limit: u64) -> ProxyBody
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    if limit == 0 {
        body.map_err(Into::into).boxed_unsync()
    } else {
        Limited::new(body, limit as usize).boxed_unsync()
    }
}

/// Did a body error come from the size cap (so the answer is 413, not 502)?
pub fn is_too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// The upstream sent nothing for `read_timeout` in the middle of a response body.
#[derive(Debug, thiserror::Error)]
#[error("upstream sent nothing for {0:?} while streaming the response body")]
pub struct ReadTimeout(pub std::time::Duration);

/// A response body that fails when the upstream goes quiet for longer than `timeout` between
/// two frames, as nginx's `proxy_read_timeout` does (the wait is per read, not for the whole).
/// Generic over the body, so the upstream's body is boxed once, here, not once more inside.
pub fn idle_timeout<B>(body: B, timeout: std::time::Duration) -> ProxyBody
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    IdleTimeout {
        inner: body,
        timeout,
        sleep: None,
        progressed: false,
    }
    .boxed_unsync()
}

/// The timer is armed only when the upstream makes us wait, and re-armed only after progress:
/// a body whose frames are ready when asked for (most small ones) never touches the timer
/// wheel, which costs a lock per arming.
struct IdleTimeout<B> {
    inner: B,
    timeout: std::time::Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// A frame came since the timer was last armed.
    progressed: bool,
}

impl<B> http_body::Body for IdleTimeout<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.progressed = true;
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let sleep = match &mut this.sleep {
            Some(sleep) => {
                if this.progressed {
                    sleep
                        .as_mut()
                        .reset(tokio::time::Instant::now() + this.timeout);
                }
                sleep
            }
            None => this
                .sleep
                .insert(Box::pin(tokio::time::sleep(this.timeout))),
        };
        this.progressed = false;
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(ReadTimeout(this.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Tells the proxy when the request body has been handed to the upstream connection in full,
/// which is when waiting for the response (`read_timeout`) starts.
#[derive(Debug, Default)]
pub struct Sent {
    done: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl Sent {
    fn mark(&self) {
        if !self.done.swap(true, std::sync::atomic::Ordering::AcqRel) {
            self.notify.notify_waiters();
        }
    }

    /// Resolves once the whole request body was taken by the upstream connection.
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.done.load(std::sync::atomic::Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// Wraps a request body so that `sent` is marked when its last frame is taken.
pub fn tracked(body: ProxyBody, sent: Arc<Sent>) -> ProxyBody {
    if body.is_end_stream() {
        sent.mark();
    }
    Tracked { inner: body, sent }.boxed_unsync()
}

struct Tracked {
    inner: ProxyBody,
    sent: Arc<Sent>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || this.inner.is_end_stream() {
            this.sent.mark();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Read a whole request body for the plugins that need it, refusing more than `limit` bytes.
pub async fn read_whole<B>(body: B, limit: u64) -> Result<Bytes, super::Failure>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    match Limited::new(body, limit as usize).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if is_too_large(e.as_ref()) => Err(super::Failure::PayloadTooLarge),
        Err(_) => Err(super::Failure::BadRequest),
    }
}

/// Read a whole response body (for plugins that edit it), at most `limit` bytes. Boxed, so the
/// request future keeps a simple, provably `Send` type.
pub fn read_response(
    body: ProxyBody,
    limit: u64,
) -> futures_util::future::BoxFuture<'static, Result<Bytes, BoxError>> {
    Box::pin(async move {
        let mut body = body;
        let mut whole = bytes::BytesMut::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                if (whole.len() + data.len()) as u64 > limit {
                    return Err(format!("response body over {limit} bytes").into());
                }
                whole.extend_from_slice(&data);
            }
        }
        Ok(whole.freeze())
    })
}
