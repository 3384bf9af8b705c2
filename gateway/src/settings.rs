//! Node settings from Kong's environment variable names (`KONG_DATABASE`, `KONG_PG_HOST`,
//! `KONG_PROXY_LISTEN`, ...), so a task definition written for Kong starts this gateway
//! unchanged. Parsing goes through a lookup function, so tests inject a map; every problem is
//! reported at once; settings we do not know are kept and logged, never fatal.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

#[cfg(test)]
mod tests;

/// How the node stores its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Postgres(PgSettings),
    /// DB-less: from `declarative_config`, or empty.
    Off,
}

#[derive(Clone, PartialEq, Eq)]
pub struct PgSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
    pub ssl: bool,
    pub ssl_verify: bool,
}

impl std::fmt::Debug for PgSettings {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("database", &self.database)
            .field("ssl", &self.ssl)
            .finish()
    }
}

impl PgSettings {
    /// A connection URL for sqlx (user and password percent-encoded).
    pub fn url(&self) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let auth = match &self.password {
            Some(p) => format!("{}:{}", enc(&self.user), enc(p)),
            None => enc(&self.user),
        };
        let ssl = match (self.ssl, self.ssl_verify) {
            (false, _) => "disable",
            (true, false) => "require",
            (true, true) => "verify-full",
        };
        format!(
            "postgres://{auth}@{}:{}/{}?sslmode={ssl}",
            self.host,
            self.port,
            enc(&self.database)
        )
    }
}

/// One `KONG_*_LISTEN` entry: `0.0.0.0:8000 reuseport backlog=16384` or `... ssl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub addr: SocketAddr,
    pub ssl: bool,
    pub http2: bool,
}

/// Response compression, as `KONG_NGINX_HTTP_GZIP*` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gzip {
    pub on: bool,
    pub level: u32,
    pub types: Vec<String>,
    pub proxied: Vec<String>,
    pub vary: bool,
    pub min_length: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub database: Database,
    pub declarative_config: Option<PathBuf>,
    pub proxy_listen: Vec<Listen>,
    pub admin_listen: Vec<Listen>,
    pub status_listen: Vec<Listen>,
    pub plugins: Vec<String>,
    pub log_level: String,
    pub prefix: PathBuf,
    /// Seconds between polls of the database version (LISTEN/NOTIFY is the fast path).
    pub db_update_frequency: f64,
    pub proxy_access_log: Option<String>,
    pub gzip: Gzip,
    /// Largest request body accepted, in bytes; 0 for no limit (Kong's `client_max_body_size`).
    pub client_max_body_size: u64,
    /// Largest request header block accepted, in bytes.
    pub max_header_size: usize,
    /// Seconds to drain in-flight requests on shutdown.
    pub shutdown_timeout: u64,
    /// Every `KONG_*` setting this gateway does not act on, kept to be logged at start.
    pub ignored: BTreeMap<String, String>,
}

/// Settings from the process environment.
pub fn from_env() -> Result<Settings, Vec<String>> {
    let vars: BTreeMap<String, String> = std::env::vars().collect();
    Settings::parse(&vars)
}

/// Settings this gateway reads (without the `KONG_` prefix, lower case).
const KNOWN: &[&str] = &[
    "database",
    "pg_host",
    "pg_port",
    "pg_user",
    "pg_password",
    "pg_database",
    "pg_ssl",
    "pg_ssl_verify",
    "declarative_config",
    "proxy_listen",
    "admin_listen",
    "status_listen",
    "plugins",
    "log_level",
    "prefix",
    "db_update_frequency",
    "proxy_access_log",
    "nginx_http_gzip",
    "nginx_http_gzip_comp_level",
    "nginx_http_gzip_types",
    "nginx_http_gzip_proxied",
    "nginx_http_gzip_vary",
    "nginx_http_gzip_min_length",
    "client_max_body_size",
    "max_header_size",
    "shutdown_timeout",
];

/// Reads typed values out of a variable map, remembering every problem.
struct Reader<'a> {
    vars: &'a BTreeMap<String, String>,
    errors: Vec<String>,
}

impl Reader<'_> {
    fn get(&self, key: &str) -> Option<String> {
        let name = format!("KONG_{}", key.to_ascii_uppercase());
        self.vars.get(&name).map(|v| v.trim().to_string())
    }

    fn string(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or_else(|| default.to_string())
    }

    fn number<T: std::str::FromStr>(&mut self, key: &str, default: T) -> T {
        match self.get(key) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.errors.push(format!(
                    "KONG_{}: expected a number, got '{raw}'",
                    key.to_ascii_uppercase()
                ));
                default
            }),
        }
    }

    fn flag(&mut self, key: &str, default: bool) -> bool {
        match self.get(key).as_deref() {
            None => default,
            Some("on" | "true" | "1" | "yes") => true,
            Some("off" | "false" | "0" | "no") => false,
            Some(other) => {
                self.errors.push(format!(
                    "KONG_{}: expected on or off, got '{other}'",
                    key.to_ascii_uppercase()
                ));
                default
            }
        }
    }

    fn listen(&mut self, key: &str, default: &str) -> Vec<Listen> {
        let raw = self.string(key, default);
        match parse_listen(&raw) {
            Ok(list) => list,
            Err(e) => {
                self.errors
                    .push(format!("KONG_{}: {e}", key.to_ascii_uppercase()));
                Vec::new()
            }
        }
    }
}

impl Settings {
    /// Parse from a map of environment variables; all problems are returned together.
    pub fn parse(vars: &BTreeMap<String, String>) -> Result<Settings, Vec<String>> {
        let mut r = Reader {
            vars,
            errors: Vec::new(),
        };
        let database = match r.string("database", "postgres").as_str() {
            "postgres" => Database::Postgres(PgSettings {
                host: r.string("pg_host", "127.0.0.1"),
                port: r.number("pg_port", 5432),
                user: r.string("pg_user", "kong"),
                password: r.get("pg_password").filter(|p| !p.is_empty()),
                database: r.string("pg_database", "kong"),
                ssl: r.flag("pg_ssl", false),
                ssl_verify: r.flag("pg_ssl_verify", false),
            }),
            "off" => Database::Off,
            other => {
                r.errors.push(format!(
                    "KONG_DATABASE: expected postgres or off, got '{other}'"
                ));
                Database::Off
            }
        };
        let gzip = Gzip {
            on: r.flag("nginx_http_gzip", false),
            level: r.number("nginx_http_gzip_comp_level", 1),
            types: words(&r.string("nginx_http_gzip_types", "text/html")),
            proxied: words(&r.string("nginx_http_gzip_proxied", "off")),
            vary: r.flag("nginx_http_gzip_vary", false),
            min_length: r.number("nginx_http_gzip_min_length", 20),
        };
        if gzip.level == 0 || gzip.level > 9 {
            r.errors
                .push("KONG_NGINX_HTTP_GZIP_COMP_LEVEL: expected 1 to 9".into());
        }
        let settings = Settings {
            database,
            declarative_config: r.get("declarative_config").filter(|p| !p.is_empty()).map(PathBuf::from),
            proxy_listen: r.listen("proxy_listen", "0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384"),
            admin_listen: r.listen("admin_listen", "127.0.0.1:8001 reuseport backlog=16384, 127.0.0.1:8444 http2 ssl reuseport backlog=16384"),
            status_listen: r.listen("status_listen", "off"),
            plugins: r.string("plugins", "bundled").split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
            log_level: r.string("log_level", "notice"),
            prefix: PathBuf::from(r.string("prefix", "/usr/local/kong")),
            db_update_frequency: r.number("db_update_frequency", 1.0),
            proxy_access_log: r.get("proxy_access_log").filter(|v| v != "off"),
            client_max_body_size: parse_size(&r.string("client_max_body_size", "0")).unwrap_or_else(|| {
                r.errors.push("KONG_CLIENT_MAX_BODY_SIZE: expected a size such as 8m or 0".into());
                0
            }),
            max_header_size: r.number("max_header_size", 32 * 1024),
            shutdown_timeout: r.number("shutdown_timeout", 10),
            gzip,
            ignored: vars
                .iter()
                .filter_map(|(k, v)| {
                    let key = k.strip_prefix("KONG_")?.to_ascii_lowercase();
                    (!KNOWN.contains(&key.as_str())).then(|| (k.clone(), v.clone()))
                })
                .collect(),
        };
        if r.errors.is_empty() {
            Ok(settings)
        } else {
            Err(r.errors)
        }
    }

    /// The tracing filter for `KONG_LOG_LEVEL` (nginx levels mapped onto tracing's).
    pub fn tracing_level(&self) -> &'static str {
        match self.log_level.as_str() {
            "debug" => "debug",
            "info" | "notice" => "info",
            "warn" => "warn",
            _ => "error",
        }
    }
}

fn words(raw: &str) -> Vec<String> {
    raw.split_whitespace().map(str::to_string).collect()
}

/// nginx sizes: `0`, `512`, `8k`, `16m`, `1g`.
fn parse_size(raw: &str) -> Option<u64> {
    let raw = raw.trim().to_ascii_lowercase();
    let (digits, unit) = match raw.chars().last()? {
        'k' => (&raw[..raw.len() - 1], 1024),
        'm' => (&raw[..raw.len() - 1], 1024 * 1024),
        'g' => (&raw[..raw.len() - 1], 1024 * 1024 * 1024),
        _ => (raw.as_str(), 1),
    };
    digits.parse::<u64>().ok().map(|n| n * unit)
}

/// `off`, or comma-separated `addr:port [flags...]`.
pub fn parse_listen(raw: &str) -> Result<Vec<Listen>, String> {
    if raw.trim() == "off" {
        return Ok(Vec::new());
    }
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let mut parts = entry.split_whitespace();
            let addr = parts.next().unwrap_or_default();
            let flags: Vec<&str> = parts.collect();
            let addr = addr
                .parse::<SocketAddr>()
                .or_else(|_| format!("0.0.0.0:{addr}").parse())
                .map_err(|_| format!("'{entry}' is not an address:port"))?;
            Ok(Listen {
                addr,
                ssl: flags.contains(&"ssl"),
                http2: flags.contains(&"http2"),
            })
        })
        .collect()
}
