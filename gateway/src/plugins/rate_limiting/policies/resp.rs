//! A small Redis client: RESP2 over one multiplexed TCP connection per Redis server, so any
//! number of concurrent requests share a socket and their commands leave in batched writes.
//! Replies come back in command order, so a FIFO of waiters pairs them up.
//!
//! A broken or silent connection is dropped and reopened by the next call, at most once per
//! [`RETRY_MS`], so an outage costs requests a fast error rather than a connect timeout each.

use arc_swap::ArcSwapOption;
use futures_util::future::BoxFuture;
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// How long after a failed connect before the next attempt.
const RETRY_MS: i64 = 250;

/// Where to connect and how to log in: one client (and connection) per distinct target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedisTarget {
    pub host: String,
    pub port: u16,
    pub database: i64,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

#[derive(Debug, thiserror::Error)]
pub enum RespError {
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    #[error("connection lost")]
    Closed,
    #[error("no answer in time")]
    Timeout,
    #[error("waiting before reconnecting after a failed attempt")]
    Backoff,
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("server refused {command}: {message}")]
    Refused {
        command: &'static str,
        message: String,
    },
}

/// Encode one command as a RESP array of bulk strings.
pub fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Read one reply (arrays recursively).
pub fn read_reply<R: AsyncBufRead + Unpin + Send>(r: &mut R) -> BoxFuture<'_, io::Result<Reply>> {
    Box::pin(async move {
        let mut line = Vec::with_capacity(32);
        if r.read_until(b'\n', &mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line
            .strip_suffix(b"\r\n")
            .ok_or_else(|| bad("line without CRLF"))?;
        let (&kind, rest) = line.split_first().ok_or_else(|| bad("empty line"))?;
        let text = || String::from_utf8_lossy(rest).into_owned();
        let number = || {
            text()
                .parse::<i64>()
                .map_err(|_| bad("bad length or integer"))
        };
        Ok(match kind {
            b'+' => Reply::Status(text()),
            b'-' => Reply::Error(text()),
            b':' => Reply::Int(number()?),
            b'$' => match usize::try_from(number()?) {
                Err(_) => Reply::Bulk(None),
                Ok(len) => {
                    let mut data = vec![0; len + 2];
                    r.read_exact(&mut data).await?;
                    data.truncate(len);
                    Reply::Bulk(Some(data))
                }
            },
            b'*' => match usize::try_from(number()?) {
                Err(_) => Reply::Array(None),
                Ok(len) => {
                    let mut items = Vec::with_capacity(len.min(1024));
                    for _ in 0..len {
                        items.push(read_reply(r).await?);
                    }
                    Reply::Array(Some(items))
                }
            },
            _ => return Err(bad("unknown reply type")),
        })
    })
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

type Waiter = oneshot::Sender<Result<Reply, RespError>>;

struct Job {
    frame: Vec<u8>,
    reply: Waiter,
}

/// The state one connection's reader and writer tasks share.
#[derive(Default)]
struct Pipe {
    waiters: Mutex<VecDeque<Waiter>>,
    dead: AtomicBool,
    tasks: OnceLock<[AbortHandle; 2]>,
}

impl Pipe {
    fn waiters(&self) -> std::sync::MutexGuard<'_, VecDeque<Waiter>> {
        self.waiters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue a waiter for the next reply; false (and the waiter told) once the pipe is dead.
    fn enqueue(&self, waiter: Waiter) -> bool {
        let mut waiters = self.waiters();
        if self.dead.load(Ordering::Acquire) {
            let _ = waiter.send(Err(RespError::Closed));
            return false;
        }
        waiters.push_back(waiter);
        true
    }

    /// Close for good: fail every waiter and stop both tasks (dropping the socket).
    fn kill(&self) {
        let drained: Vec<Waiter> = {
            let mut waiters = self.waiters();
            self.dead.store(true, Ordering::Release);
            waiters.drain(..).collect()
        };
        for waiter in drained {
            let _ = waiter.send(Err(RespError::Closed));
        }
        if let Some(tasks) = self.tasks.get() {
            tasks.iter().for_each(AbortHandle::abort);
        }
    }
}

/// One open connection.
struct Link {
    jobs: mpsc::UnboundedSender<Job>,
    pipe: Arc<Pipe>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.pipe.kill();
    }
}

/// A shared, lazily connected client for one Redis target.
pub struct RedisClient {
    target: RedisTarget,
    link: ArcSwapOption<Link>,
    connecting: tokio::sync::Mutex<()>,
    next_attempt_ms: AtomicI64,
}

impl std::fmt::Debug for RedisClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisClient({}:{})", self.target.host, self.target.port)
    }
}

impl RedisClient {
    /// No I/O here: the first call connects.
    pub fn new(target: RedisTarget) -> RedisClient {
        RedisClient {
            target,
            link: ArcSwapOption::empty(),
            connecting: tokio::sync::Mutex::new(()),
            next_attempt_ms: AtomicI64::new(0),
        }
    }

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.target.host, self.target.port)
    }

    /// Send one encoded command and wait for its reply, all before `deadline`. A connection
    /// that does not answer in time is dropped, so the next call starts afresh.
    pub async fn call(&self, frame: Vec<u8>, deadline: Instant) -> Result<Reply, RespError> {
        let link = tokio::time::timeout_at(deadline, self.link())
            .await
            .map_err(|_| RespError::Timeout)??;
        let (reply, answer) = oneshot::channel();
        if link.jobs.send(Job { frame, reply }).is_err() {
            link.pipe.kill();
            return Err(RespError::Closed);
        }
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RespError::Closed),
            Err(_) => {
                link.pipe.kill();
                Err(RespError::Timeout)
            }
        }
    }

    async fn link(&self) -> Result<Arc<Link>, RespError> {
        if let Some(link) = self.live_link() {
            return Ok(link);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(link) = self.live_link() {
            return Ok(link);
        }
        let now = now_ms();
        if now < self.next_attempt_ms.load(Ordering::Acquire) {
            return Err(RespError::Backoff);
        }
        // Set before trying, so an attempt cut short by a caller's timeout also counts.
        self.next_attempt_ms
            .store(now + RETRY_MS, Ordering::Release);
        let link = Arc::new(self.connect().await?);
        self.link.store(Some(link.clone()));
        Ok(link)
    }

    fn live_link(&self) -> Option<Arc<Link>> {
        self.link
            .load_full()
            .filter(|l| !l.pipe.dead.load(Ordering::Acquire))
    }

    async fn connect(&self) -> Result<Link, RespError> {
        let t = &self.target;
        let stream = TcpStream::connect((t.host.as_str(), t.port))
            .await
            .map_err(RespError::Connect)?;
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        let mut writer = BufWriter::new(writer);
        if let Some(password) = t.password.as_deref().filter(|p| !p.is_empty()) {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = t.username.as_deref().filter(|u| !u.is_empty()) {
                args.push(user.as_bytes());
            }
            args.push(password.as_bytes());
            handshake(&mut reader, &mut writer, "AUTH", &args).await?;
        }
        if t.database != 0 {
            let db = t.database.to_string();
            handshake(
                &mut reader,
                &mut writer,
                "SELECT",
                &[b"SELECT", db.as_bytes()],
            )
            .await?;
        }
        let (jobs, queue) = mpsc::unbounded_channel();
        let pipe = Arc::new(Pipe::default());
        let writing = tokio::spawn(write_loop(writer, queue, pipe.clone()));
        let reading = tokio::spawn(read_loop(reader, pipe.clone()));
        let _ = pipe
            .tasks
            .set([writing.abort_handle(), reading.abort_handle()]);
        Ok(Link { jobs, pipe })
    }
}

/// One command on a connection not yet shared (login, database selection).
async fn handshake(
    reader: &mut BufReader<OwnedReadHalf>,
    writer: &mut BufWriter<OwnedWriteHalf>,
    name: &'static str,
    args: &[&[u8]],
) -> Result<(), RespError> {
    let io = |e: io::Error| RespError::Protocol(format!("{name}: {e}"));
    writer.write_all(&command(args)).await.map_err(io)?;
    writer.flush().await.map_err(io)?;
    match read_reply(reader).await.map_err(io)? {
        Reply::Error(message) => Err(RespError::Refused {
            command: name,
            message,
        }),
        _ => Ok(()),
    }
}

/// Queue each job's waiter, then write its frame; flush once the queue is empty, so commands
/// arriving together leave in one write.
async fn write_loop(
    mut writer: BufWriter<OwnedWriteHalf>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    pipe: Arc<Pipe>,
) {
    while let Some(first) = jobs.recv().await {
        let mut next = Some(first);
        while let Some(Job { frame, reply }) = next.take() {
            if !pipe.enqueue(reply) {
                return;
            }
            if writer.write_all(&frame).await.is_err() {
                pipe.kill();
                return;
            }
            next = jobs.try_recv().ok();
        }
        if writer.flush().await.is_err() {
            pipe.kill();
            return;
        }
    }
}

async fn read_loop(mut reader: BufReader<OwnedReadHalf>, pipe: Arc<Pipe>) {
    loop {
        let Ok(reply) = read_reply(&mut reader).await else {
            pipe.kill();
            return;
        };
        let waiter = pipe.waiters().pop_front();
        match waiter {
            Some(waiter) => {
                let _ = waiter.send(Ok(reply));
            }
            None => {
                // A reply nobody asked for: the stream is out of step.
                pipe.kill();
                return;
            }
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
