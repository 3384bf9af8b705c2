//! The six fixed windows (second to year), aligned to UTC calendar boundaries: a minute starts
//! at :00, a month on the 1st at midnight, a year on January 1st.

use crate::plugins::calendar::{civil_from_days, days_from_civil};

/// One of Kong's rate-limiting periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Window {
    Second,
    Minute,
    Hour,
    Day,
    Month,
    Year,
}

const DAY: i64 = 86_400;

impl Window {
    /// Shortest first, the order Kong checks limits against each other in.
    pub const ALL: [Window; 6] = [
        Window::Second,
        Window::Minute,
        Window::Hour,
        Window::Day,
        Window::Month,
        Window::Year,
    ];

    /// The config field and counter name: `minute`.
    pub fn name(self) -> &'static str {
        match self {
            Window::Second => "second",
            Window::Minute => "minute",
            Window::Hour => "hour",
            Window::Day => "day",
            Window::Month => "month",
            Window::Year => "year",
        }
    }

    /// Position in [`Window::ALL`], for per-window arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The window holding `now_s` (seconds since the epoch): its start and its end (exclusive),
    /// both in seconds since the epoch.
    pub fn bounds(self, now_s: i64) -> (i64, i64) {
        let aligned = |len: i64| {
            let start = now_s - now_s.rem_euclid(len);
            (start, start + len)
        };
        match self {
            Window::Second => aligned(1),
            Window::Minute => aligned(60),
            Window::Hour => aligned(3_600),
            Window::Day => aligned(DAY),
            Window::Month => {
                let (year, month, _) = civil_from_days(now_s.div_euclid(DAY));
                let (next_year, next_month) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                (
                    days_from_civil(year, month, 1) * DAY,
                    days_from_civil(next_year, next_month, 1) * DAY,
                )
            }
            Window::Year => {
                let (year, _, _) = civil_from_days(now_s.div_euclid(DAY));
                (
                    days_from_civil(year, 1, 1) * DAY,
                    days_from_civil(year + 1, 1, 1) * DAY,
                )
            }
        }
    }

    /// Start of the window holding `now_ms`, in seconds: what tells one window's counter from
    /// the next one's.
    pub fn start(self, now_ms: i64) -> i64 {
        self.bounds(now_ms.div_euclid(1000)).0
    }

    /// Whole seconds until the window resets, at least 1 (`RateLimit-Reset`, `Retry-After`).
    pub fn reset_seconds(self, now_ms: i64) -> u64 {
        let now_s = now_ms.div_euclid(1000);
        let (_, end) = self.bounds(now_s);
        (end - now_s).max(1) as u64
    }

    /// Milliseconds left in the window: a shared counter's exact time to live, so that it
    /// disappears when its window ends (Kong keeps Redis keys far longer).
    pub fn ttl_ms(self, now_ms: i64) -> i64 {
        let (_, end) = self.bounds(now_ms.div_euclid(1000));
        (end * 1000 - now_ms).max(1)
    }
}

#[cfg(test)]
pub(super) fn date_to_seconds(year: i64, month: u32, day: u32, h: i64, m: i64, s: i64) -> i64 {
    days_from_civil(year, month, day) * DAY + h * 3_600 + m * 60 + s
}
