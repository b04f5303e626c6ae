//! One persistent HTTP/1.1 connection of the fast path: sends the prebuilt `GET` and reads the
//! answer with [`ResponseParser`] into a buffer reused for every request.
//!
//! A request that finds a reused connection closed before any byte of the answer arrived is sent
//! once more on a fresh connection, as browsers and hyper do for idempotent requests: the server
//! may close an idle keep-alive connection at any time. A failure on a fresh connection is the
//! request's outcome.

use crate::http1::{self, ParseError, Response, ResponseParser};
use crate::stats::Outcome;
use anyhow::{Context, bail};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long choosing among a host's addresses waits for each to accept.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Read buffer per connection; a response head must fit in it.
const BUFFER: usize = 16 * 1024;

/// Where the fast path sends its requests.
#[derive(Debug, Clone)]
pub struct Target {
    addr: SocketAddr,
    request: Box<[u8]>,
    /// `GET {path}`, the endpoint label in the summary.
    pub label: String,
}

impl Target {
    /// Parses and resolves an `http://` URL once, and prebuilds its request. Of several addresses
    /// (`localhost` is often `::1` and `127.0.0.1`) it keeps the first that accepts a connection,
    /// as a browser would, or the first at all when none does.
    pub async fn resolve(url: &str) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url).with_context(|| format!("bad --url {url:?}"))?;
        if parsed.scheme() != "http" {
            bail!("--url must be http:// (got {url:?})");
        }
        let host = parsed.host_str().context("--url has no host")?;
        let port = parsed.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .with_context(|| format!("resolving {host}"))?
                .collect(),
        };
        let mut addr = *addrs.first().with_context(|| format!("{host} has no address"))?;
        for candidate in &addrs {
            if let Ok(Ok(_)) = tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(candidate)).await {
                addr = *candidate;
                break;
            }
        }
        let authority = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let path = match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_owned(),
        };
        Ok(Self {
            addr,
            request: http1::get_request(&authority, &path).into_boxed_slice(),
            label: format!("GET {}", parsed.path()),
        })
    }
}

/// Why one exchange failed.
enum Failure {
    /// A reused connection was found closed before any answer: worth one retry.
    Stale,
    /// Anything else.
    Broken,
}

/// A connection that reconnects when needed.
pub struct Connection {
    stream: Option<TcpStream>,
    buf: Box<[u8]>,
    /// Bytes of `buf` holding data, and how many of them the parser already used.
    filled: usize,
    used: usize,
}

impl Default for Connection {
    fn default() -> Self {
        Self {
            stream: None,
            buf: vec![0; BUFFER].into_boxed_slice(),
            filled: 0,
            used: 0,
        }
    }
}

impl Connection {
    /// Sends the target's request and reads the answer. The caller bounds it with a timeout and
    /// calls [`reset`](Self::reset) when it fires.
    pub async fn get(&mut self, target: &Target) -> Outcome {
        loop {
            let reused = self.stream.is_some();
            if !reused {
                match TcpStream::connect(target.addr).await {
                    Ok(stream) => {
                        // Requests are small writes that must leave at once.
                        let _ = stream.set_nodelay(true);
                        self.stream = Some(stream);
                    }
                    Err(_) => return Outcome::Connect,
                }
            }
            match self.exchange(target, reused).await {
                Ok(response) => {
                    if !response.keep_alive {
                        self.reset();
                    }
                    return Outcome::Status(response.status);
                }
                Err(Failure::Stale) => self.reset(),
                Err(Failure::Broken) => {
                    self.reset();
                    return Outcome::Transport;
                }
            }
        }
    }

    /// Drops the connection, e.g. after a timeout left it in an unknown state.
    pub fn reset(&mut self) {
        self.stream = None;
        (self.filled, self.used) = (0, 0);
    }

    async fn exchange(&mut self, target: &Target, reused: bool) -> Result<Response, Failure> {
        let early = if reused { Failure::Stale } else { Failure::Broken };
        let Some(stream) = self.stream.as_mut() else {
            return Err(Failure::Broken);
        };
        if stream.write_all(&target.request).await.is_err() {
            return Err(early);
        }
        let mut parser = ResponseParser::default();
        let mut answered = false;
        loop {
            if self.filled > self.used {
                let (used, done) = parser
                    .feed(&self.buf[self.used..self.filled])
                    .map_err(|_| Failure::Broken)?;
                self.used += used;
                if let Some(mut response) = done {
                    // Nothing was asked for beyond this answer; extra bytes mean the framing is off.
                    response.keep_alive &= self.used == self.filled;
                    (self.filled, self.used) = (0, 0);
                    return Ok(response);
                }
            }
            if self.used == self.filled {
                (self.filled, self.used) = (0, 0);
            } else if self.filled == self.buf.len() {
                if self.used == 0 {
                    return Err(Failure::Broken); // a head longer than the buffer
                }
                self.buf.copy_within(self.used..self.filled, 0);
                (self.filled, self.used) = (self.filled - self.used, 0);
            }
            match stream.read(&mut self.buf[self.filled..]).await {
                Ok(0) if !answered => return Err(early),
                Ok(0) => {
                    return parser.eof().map_err(|_: ParseError| Failure::Broken);
                }
                Ok(n) => {
                    answered = true;
                    self.filled += n;
                }
                Err(_) if !answered => return Err(early),
                Err(_) => return Err(Failure::Broken),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolve_prebuilds_the_request_and_the_label() {
        let target = Target::resolve("http://127.0.0.1:9/a/b?c=d").await.unwrap();
        assert_eq!(target.addr, "127.0.0.1:9".parse().unwrap());
        assert_eq!(target.label, "GET /a/b");
        assert!(
            target
                .request
                .starts_with(b"GET /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:9\r\n")
        );
        let target = Target::resolve("http://[::1]/").await.unwrap();
        assert_eq!(target.addr, "[::1]:80".parse().unwrap());
        assert!(target.request.starts_with(b"GET / HTTP/1.1\r\nHost: [::1]\r\n"));
        assert!(Target::resolve("https://127.0.0.1/").await.is_err());
        assert!(Target::resolve("not a url").await.is_err());
    }
}
