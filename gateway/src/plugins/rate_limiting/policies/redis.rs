//! The `redis` policy: one script call per request counts every configured window at once.
//! The script increments first and decides after, inside Redis, so nodes sharing the server
//! admit exactly the limit between them; a refused request takes its increments back, and each
//! counter expires exactly when its window ends.

use super::resp::{command, RedisClient, Reply, RespError};
use super::{CounterKey, Hit, PolicyError};
use crate::plugins::rate_limiting::windows::Window;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

/// KEYS: one counter per window. ARGV: limit and time-to-live (ms) of each, in KEYS order.
/// Returns each counter's value after the call, then 1 (admitted) or 0 (refused).
const SCRIPT: &str = r"
local counts, over = {}, false
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
  counts[i] = n
  if n > tonumber(ARGV[2 * i - 1]) then over = true end
end
if over then
  for i, key in ipairs(KEYS) do counts[i] = redis.call('DECR', key) end
end
counts[#KEYS + 1] = over and 0 or 1
return counts
";

/// The script's SHA1 as Redis reported it (the same on every server).
static SCRIPT_SHA: OnceLock<String> = OnceLock::new();

/// Count one request against every window, all within `timeout`.
pub async fn hit(
    client: &RedisClient,
    timeout: Duration,
    key: &CounterKey<'_>,
    limits: &[(Window, u64)],
    now_ms: i64,
) -> Result<Hit, PolicyError> {
    let deadline = Instant::now() + timeout;
    let fail = |source: RespError| PolicyError::Redis {
        address: client.address(),
        source,
    };
    let keys: Vec<String> = limits
        .iter()
        .map(|(w, _)| redis_key(key, *w, now_ms))
        .collect();
    let mut args: Vec<String> = Vec::with_capacity(limits.len() * 2);
    for (window, limit) in limits {
        args.push(limit.to_string());
        args.push(window.ttl_ms(now_ms).to_string());
    }
    let sha = script_sha(client, deadline).await.map_err(fail)?;
    let mut reply = client
        .call(
            eval_frame(b"EVALSHA", sha.as_bytes(), &keys, &args),
            deadline,
        )
        .await
        .map_err(fail)?;
    if matches!(&reply, Reply::Error(e) if e.starts_with("NOSCRIPT")) {
        // The server restarted or flushed its scripts: EVAL sends the text and caches it again.
        reply = client
            .call(
                eval_frame(b"EVAL", SCRIPT.as_bytes(), &keys, &args),
                deadline,
            )
            .await
            .map_err(fail)?;
    }
    parse(reply, limits.len()).map_err(fail)
}

/// `ratelimit:{scope:identifier}:<window start>:<window>`; the braces keep one identifier's
/// counters in one Redis Cluster slot, as a multi-key script requires.
pub fn redis_key(key: &CounterKey<'_>, window: Window, now_ms: i64) -> String {
    format!(
        "ratelimit:{{{}:{}:{}}}:{}:{}",
        key.route,
        key.service,
        key.identifier,
        window.start(now_ms),
        window.name()
    )
}

async fn script_sha(client: &RedisClient, deadline: Instant) -> Result<&'static str, RespError> {
    if let Some(sha) = SCRIPT_SHA.get() {
        return Ok(sha);
    }
    let frame = command(&[b"SCRIPT", b"LOAD", SCRIPT.as_bytes()]);
    match client.call(frame, deadline).await? {
        Reply::Bulk(Some(sha)) => {
            Ok(SCRIPT_SHA.get_or_init(|| String::from_utf8_lossy(&sha).into()))
        }
        Reply::Error(message) => Err(RespError::Refused {
            command: "SCRIPT LOAD",
            message,
        }),
        other => Err(RespError::Protocol(format!(
            "SCRIPT LOAD answered {other:?}"
        ))),
    }
}

fn eval_frame(verb: &[u8], script: &[u8], keys: &[String], args: &[String]) -> Vec<u8> {
    let count = keys.len().to_string();
    let mut parts: Vec<&[u8]> = vec![verb, script, count.as_bytes()];
    parts.extend(keys.iter().map(|k| k.as_bytes()));
    parts.extend(args.iter().map(|a| a.as_bytes()));
    command(&parts)
}

fn parse(reply: Reply, windows: usize) -> Result<Hit, RespError> {
    let items = match reply {
        Reply::Array(Some(items)) if items.len() == windows + 1 => items,
        Reply::Error(message) => {
            return Err(RespError::Refused {
                command: "EVALSHA",
                message,
            })
        }
        other => return Err(RespError::Protocol(format!("script answered {other:?}"))),
    };
    let mut numbers = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Reply::Int(n) => numbers.push(n),
            other => {
                return Err(RespError::Protocol(format!(
                    "expected integers, got {other:?}"
                )))
            }
        }
    }
    let admitted = numbers.pop() == Some(1);
    Ok(Hit {
        counts: numbers.into_iter().map(|n| n.max(0) as u64).collect(),
        admitted,
    })
}
