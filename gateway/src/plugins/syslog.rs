//! syslog: send each request's log object to the local syslog daemon (Kong 3.x): one RFC 3164
//! datagram (`<PRI>Mmm dd hh:mm:ss HOST kong: {json}`) on the unix socket `/dev/log`, with a
//! severity chosen by the response's class (2xx/3xx, 4xx, 5xx) and sent only when it is at
//! least as severe as `log_level`. The socket is non-blocking: a busy daemon costs the entry,
//! never the request. Without a syslog socket the plugin warns once and stays quiet.
//!
//! `socket_path` (default `/dev/log`) is ours, not Kong's. Timestamps are in UTC.

use super::log_serializer::{refuse_lua, serialize, Dropped, LogSinks, Redaction};
use super::{typed_config, Handler, LogRecord, RequestCtx};
use crate::entities::FieldErrors;
use crate::plugins::calendar::civil_from_days;
use serde::Deserialize;
use serde_json::Value;
use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

const SEVERITIES: &[(&str, u8)] = &[
    ("emerg", 0),
    ("alert", 1),
    ("crit", 2),
    ("err", 3),
    ("warning", 4),
    ("notice", 5),
    ("info", 6),
    ("debug", 7),
];

const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

/// What Kong's syslog plugin calls itself.
const TAG: &str = "kong";

fn info() -> String {
    "info".into()
}
fn user() -> String {
    "user".into()
}
fn dev_log() -> String {
    "/dev/log".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "info")]
    log_level: String,
    #[serde(default = "info")]
    successful_severity: String,
    #[serde(default = "info")]
    client_errors_severity: String,
    #[serde(default = "info")]
    server_errors_severity: String,
    #[serde(default = "user")]
    facility: String,
    #[serde(default)]
    custom_fields_by_lua: Option<Value>,
    #[serde(default = "dev_log")]
    socket_path: String,
}

#[derive(Debug)]
pub struct Syslog {
    log_level: u8,
    successful: u8,
    client_errors: u8,
    server_errors: u8,
    facility: u8,
    socket_path: PathBuf,
    /// Opened on the first message (building a handler must not touch sockets).
    socket: OnceLock<Option<UnixDatagram>>,
    warned_absent: AtomicBool,
    redaction: Arc<Redaction>,
    dropped: Dropped,
}

fn lookup(table: &[(&str, u8)], field: &str, value: &str, errors: &mut FieldErrors) -> u8 {
    match table.iter().find(|(name, _)| *name == value) {
        Some((_, code)) => *code,
        None => {
            let names: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
            errors.add(
                &format!("config.{field}"),
                format!("expected one of: {}", names.join(", ")),
            );
            0
        }
    }
}

impl Syslog {
    pub fn from_config(config: &Value, sinks: &LogSinks) -> Result<Syslog, FieldErrors> {
        let c: Config = typed_config(config)?;
        let mut errors = FieldErrors::default();
        let mut severity = |field: &str, value: &str| lookup(SEVERITIES, field, value, &mut errors);
        let log_level = severity("log_level", &c.log_level);
        let successful = severity("successful_severity", &c.successful_severity);
        let client_errors = severity("client_errors_severity", &c.client_errors_severity);
        let server_errors = severity("server_errors_severity", &c.server_errors_severity);
        let facility = lookup(FACILITIES, "facility", &c.facility, &mut errors);
        if c.socket_path.is_empty() {
            errors.add("config.socket_path", "must not be empty");
        }
        refuse_lua(c.custom_fields_by_lua.as_ref(), &mut errors);
        errors.into_result()?;
        Ok(Syslog {
            log_level,
            successful,
            client_errors,
            server_errors,
            facility,
            dropped: sinks.dropped(format!("syslog {}", c.socket_path)),
            socket_path: PathBuf::from(c.socket_path),
            socket: OnceLock::new(),
            warned_absent: AtomicBool::new(false),
            redaction: sinks.redaction.clone(),
        })
    }

    /// The severity for a response status, as Kong picks it.
    fn severity(&self, status: u16) -> u8 {
        match status {
            500.. => self.server_errors,
            400..=499 => self.client_errors,
            _ => self.successful,
        }
    }

    fn send(&self, datagram: &[u8]) {
        let socket = self.socket.get_or_init(|| {
            let socket = UnixDatagram::unbound().and_then(|s| {
                s.set_nonblocking(true)?;
                Ok(s)
            });
            socket
                .map_err(|e| tracing::error!(error = %e, "syslog: cannot create a socket"))
                .ok()
        });
        let Some(socket) = socket else {
            self.dropped.add(1, "no socket");
            return;
        };
        match socket.send_to(datagram, &self.socket_path) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
                if !self.warned_absent.swap(true, Ordering::Relaxed) {
                    tracing::warn!(socket = %self.socket_path.display(), error = %e,
                        "syslog: no syslog daemon listening; log entries are dropped");
                }
                self.dropped.add(1, "no syslog daemon");
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => self.dropped.add(1, "syslog busy"),
            Err(e) => self.dropped.add(1, &e.to_string()),
        }
    }
}

impl Handler for Syslog {
    fn log(&self, ctx: &RequestCtx, record: &LogRecord<'_>) {
        let severity = self.severity(record.status.as_u16());
        // Lower numbers are more severe: send what is at least as severe as `log_level`.
        if severity > self.log_level {
            return;
        }
        let message = serialize(ctx, record, &self.redaction).to_string();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let datagram = format_datagram(self.facility, severity, now, hostname(), &message);
        self.send(datagram.as_bytes());
    }

    fn wants_log_details(&self) -> bool {
        true
    }
}

/// An RFC 3164 message: `<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`, PRI = facility * 8 + severity.
fn format_datagram(facility: u8, severity: u8, epoch_secs: u64, host: &str, msg: &str) -> String {
    let pri = u16::from(facility) * 8 + u16::from(severity);
    format!("<{pri}>{} {host} {TAG}: {msg}", timestamp(epoch_secs))
}

/// `Mmm dd hh:mm:ss` (the day space-padded), in UTC.
fn timestamp(epoch_secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, month, day) = civil_from_days((epoch_secs / 86_400) as i64);
    let secs = epoch_secs % 86_400;
    format!(
        "{} {day:>2} {:02}:{:02}:{:02}",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// This machine's name, read once (`localhost` when it cannot be learnt).
fn hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
            .unwrap_or_else(|| "localhost".into())
    })
}

#[cfg(test)]
mod tests;
