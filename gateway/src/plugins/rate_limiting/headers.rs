//! Kong's rate-limiting response headers: `X-RateLimit-Limit-<Window>` and
//! `X-RateLimit-Remaining-<Window>` for every configured window, and `RateLimit-Limit`,
//! `RateLimit-Remaining`, `RateLimit-Reset` for the tightest one (least remaining; on a tie,
//! the longer window, which resets later).

use super::windows::Window;
use http::{HeaderMap, HeaderName, HeaderValue};

/// One window's state after counting a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub window: Window,
    pub limit: u64,
    pub remaining: u64,
}

/// The headers to set, computed in `access` and kept in the request's extensions until the
/// upstream's response arrives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateLimitHeaders(pub Vec<(HeaderName, HeaderValue)>);

impl RateLimitHeaders {
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.0 {
            headers.insert(name.clone(), value.clone());
        }
    }
}

/// The window that will refuse first: least remaining, then the one resetting later.
pub fn tightest(usages: &[Usage]) -> Option<Usage> {
    usages
        .iter()
        .copied()
        .min_by_key(|u| (u.remaining, std::cmp::Reverse(u.window)))
}

/// The headers for these windows, and the tightest window's seconds to reset.
pub fn build(usages: &[Usage], now_ms: i64) -> (RateLimitHeaders, u64) {
    let mut out = Vec::with_capacity(usages.len() * 2 + 3);
    for u in usages {
        let (limit, remaining) = names(u.window);
        out.push((limit, HeaderValue::from(u.limit)));
        out.push((remaining, HeaderValue::from(u.remaining)));
    }
    let mut reset = 1;
    if let Some(t) = tightest(usages) {
        reset = t.window.reset_seconds(now_ms);
        out.push((HeaderName::from_static("ratelimit-limit"), t.limit.into()));
        out.push((
            HeaderName::from_static("ratelimit-remaining"),
            t.remaining.into(),
        ));
        out.push((HeaderName::from_static("ratelimit-reset"), reset.into()));
    }
    (RateLimitHeaders(out), reset)
}

fn names(window: Window) -> (HeaderName, HeaderName) {
    let (limit, remaining) = match window {
        Window::Second => ("x-ratelimit-limit-second", "x-ratelimit-remaining-second"),
        Window::Minute => ("x-ratelimit-limit-minute", "x-ratelimit-remaining-minute"),
        Window::Hour => ("x-ratelimit-limit-hour", "x-ratelimit-remaining-hour"),
        Window::Day => ("x-ratelimit-limit-day", "x-ratelimit-remaining-day"),
        Window::Month => ("x-ratelimit-limit-month", "x-ratelimit-remaining-month"),
        Window::Year => ("x-ratelimit-limit-year", "x-ratelimit-remaining-year"),
    };
    (
        HeaderName::from_static(limit),
        HeaderName::from_static(remaining),
    )
}
