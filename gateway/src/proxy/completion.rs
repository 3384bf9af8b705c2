//! The end of a request: a response body wrapper that counts the bytes sent to the client and,
//! once the body is finished or dropped (the client went away), runs the log phase exactly once.

use super::body::{BoxError, ProxyBody};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `on_done` is called once with the number of body bytes that went out. Generic, so the
/// callback lives inside the one boxed body instead of in a box of its own.
pub fn observe<F>(body: ProxyBody, on_done: F) -> ProxyBody
where
    F: FnOnce(u64) + Send + Unpin + 'static,
{
    Observed {
        inner: body,
        sent: 0,
        on_done: Some(on_done),
    }
    .boxed_unsync()
}

struct Observed<F: FnOnce(u64)> {
    inner: ProxyBody,
    sent: u64,
    on_done: Option<F>,
}

impl<F: FnOnce(u64)> Observed<F> {
    fn finish(&mut self) {
        if let Some(done) = self.on_done.take() {
            done(self.sent);
        }
    }
}

impl<F: FnOnce(u64) + Unpin> Body for Observed<F> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.sent += data.len() as u64;
                }
                if self.inner.is_end_stream() {
                    self.finish();
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<F: FnOnce(u64)> Drop for Observed<F> {
    fn drop(&mut self) {
        self.finish();
    }
}
