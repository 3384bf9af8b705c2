//! Body types: responses stream through as they arrive, never buffered whole; request bodies
//! are capped at `client_max_body_size` while they stream.

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, Limited};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

pub fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub fn empty() -> ProxyBody {
    full(Bytes::new())
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
