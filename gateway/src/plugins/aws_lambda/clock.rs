//! UTC calendar arithmetic for the few timestamp formats AWS and API Gateway events use
//! (SigV4's `20150830T123600Z`, ISO 8601 expirations, the CLF request time), without a date crate.

use crate::plugins::calendar::{civil_from_days, days_from_civil};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC civil time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Civil {
    pub fn from_system(at: SystemTime) -> Civil {
        let secs = at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
        }
    }

    /// SigV4's `X-Amz-Date`: `YYYYMMDD'T'HHMMSS'Z'`.
    pub fn amz_date(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// The request time API Gateway puts in its events: `dd/MMM/yyyy:HH:mm:ss +0000`.
    pub fn clf(&self) -> String {
        let month = MONTHS[(self.month.clamp(1, 12) - 1) as usize];
        format!(
            "{:02}/{month}/{:04}:{:02}:{:02}:{:02} +0000",
            self.day, self.year, self.hour, self.minute, self.second
        )
    }
}

/// Parse the ISO 8601 UTC timestamps AWS credential endpoints return
/// (`2024-05-01T12:00:00Z`, optionally with fractional seconds).
pub fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
    );
    let time = time.strip_suffix('Z').unwrap_or(time);
    let time = time.split(['.', '+']).next()?;
    let mut time_parts = time.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (
        time_parts.next()?.ok()?,
        time_parts.next()?.ok()?,
        time_parts.next()?.ok()?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}
