//! A minimal HTTP/1.1 client codec for the fast `--url` path: one prebuilt `GET` request and an
//! incremental response parser that needs no allocation per response.
//!
//! Only what a plain GET needs: the status line, `Content-Length`, `Transfer-Encoding: chunked`,
//! `Connection` and a body read until close when neither length nor chunking is given. The body
//! is skipped, never kept. Interim 1xx responses are skipped. A malformed response is an error and
//! the caller drops the connection, so a parser mistake can cost a connection but never misframe
//! the next response.

/// Longest response head accepted; a longer one is treated as malformed.
pub const MAX_HEAD: usize = 64 * 1024;

/// The bytes of `GET {path} HTTP/1.1` with `Host` and no body, sent as is on every request.
pub fn get_request(host: &str, path_and_query: &str) -> Vec<u8> {
    format!("GET {path_and_query} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: load-generator\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

/// Why a response could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Not an HTTP/1.x response, or a bad header or chunk line.
    Malformed,
    /// The head is longer than [`MAX_HEAD`].
    HeadTooLong,
    /// The connection closed before the response was complete.
    UnexpectedEof,
}

/// A complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Whether the connection may carry another request.
    pub keep_alive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    /// Bytes of a `Content-Length` body still to skip.
    Body(u64),
    /// Expecting a chunk-size line.
    ChunkSize,
    /// Bytes of chunk data still to skip, then its CRLF.
    ChunkData(u64),
    ChunkCrlf,
    /// Trailer lines after the last chunk, up to an empty line.
    Trailers,
    /// Body delimited by the connection closing.
    UntilClose,
}

/// Incremental response parser: feed it bytes as they arrive, it reports how many it used.
#[derive(Debug, Clone)]
pub struct ResponseParser {
    state: State,
    status: u16,
    keep_alive: bool,
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self {
            state: State::Head,
            status: 0,
            keep_alive: true,
        }
    }
}

impl ResponseParser {
    /// Consumes what it can of `buf`. Returns the bytes used and the response once complete; bytes
    /// not used must be offered again with more appended.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, Option<Response>), ParseError> {
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            match self.state {
                State::Head => {
                    let Some(end) = find(rest, b"\r\n\r\n") else {
                        return if rest.len() > MAX_HEAD {
                            Err(ParseError::HeadTooLong)
                        } else {
                            Ok((used, None))
                        };
                    };
                    used += end + 4;
                    self.head(&rest[..end])?;
                }
                State::Body(0) => return Ok((used, Some(self.finish()))),
                State::Body(left) => {
                    let take = left.min(rest.len() as u64);
                    used += take as usize;
                    self.state = State::Body(left - take);
                    if left > take {
                        return Ok((used, None));
                    }
                }
                State::ChunkSize => {
                    let Some(end) = find(rest, b"\r\n") else {
                        return incomplete_line(used, rest);
                    };
                    let size = chunk_size(&rest[..end])?;
                    used += end + 2;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkData(left) => {
                    let take = left.min(rest.len() as u64);
                    used += take as usize;
                    self.state = if left > take {
                        State::ChunkData(left - take)
                    } else {
                        State::ChunkCrlf
                    };
                    if left > take {
                        return Ok((used, None));
                    }
                }
                State::ChunkCrlf => {
                    if rest.len() < 2 {
                        return Ok((used, None));
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(ParseError::Malformed);
                    }
                    used += 2;
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    let Some(end) = find(rest, b"\r\n") else {
                        return incomplete_line(used, rest);
                    };
                    used += end + 2;
                    if end == 0 {
                        return Ok((used, Some(self.finish())));
                    }
                }
                State::UntilClose => return Ok((buf.len(), None)),
            }
        }
    }

    /// The connection closed: completes a body read until close, otherwise an error.
    pub fn eof(&mut self) -> Result<Response, ParseError> {
        if self.state == State::UntilClose {
            self.keep_alive = false;
            Ok(self.finish())
        } else {
            Err(ParseError::UnexpectedEof)
        }
    }

    fn finish(&mut self) -> Response {
        let response = Response {
            status: self.status,
            keep_alive: self.keep_alive,
        };
        *self = Self::default();
        response
    }

    /// Parses the status line and headers (without the final empty line) and picks the body framing.
    fn head(&mut self, head: &[u8]) -> Result<(), ParseError> {
        let mut lines = head.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let status_line = lines.next().ok_or(ParseError::Malformed)?;
        let (version, rest) = split_at_space(status_line).ok_or(ParseError::Malformed)?;
        let http10 = match version {
            b"HTTP/1.1" => false,
            b"HTTP/1.0" => true,
            _ => return Err(ParseError::Malformed),
        };
        let code = rest.get(..3).ok_or(ParseError::Malformed)?;
        if !code.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|b| *b != b' ') {
            return Err(ParseError::Malformed);
        }
        let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        let (mut length, mut chunked, mut close, mut keep_alive) = (None, false, false, false);
        for line in lines {
            let colon = line.iter().position(|b| *b == b':').ok_or(ParseError::Malformed)?;
            let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
            if name.eq_ignore_ascii_case(b"content-length") {
                let n = parse_decimal(value).ok_or(ParseError::Malformed)?;
                if length.is_some_and(|l| l != n) {
                    return Err(ParseError::Malformed);
                }
                length = Some(n);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                chunked = value
                    .rsplit(|b| *b == b',')
                    .next()
                    .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            } else if name.eq_ignore_ascii_case(b"connection") {
                for token in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                    close |= token.eq_ignore_ascii_case(b"close");
                    keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
        }
        if (100..200).contains(&status) {
            // An interim response: the real one follows on the same connection.
            return Ok(());
        }
        self.status = status;
        self.keep_alive = !close && (!http10 || keep_alive);
        self.state = if matches!(status, 204 | 304) {
            State::Body(0)
        } else if chunked {
            State::ChunkSize
        } else if let Some(n) = length {
            State::Body(n)
        } else {
            self.keep_alive = false;
            State::UntilClose
        };
        Ok(())
    }
}

fn incomplete_line(used: usize, rest: &[u8]) -> Result<(usize, Option<Response>), ParseError> {
    if rest.len() > MAX_HEAD {
        Err(ParseError::Malformed)
    } else {
        Ok((used, None))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_at_space(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = line.iter().position(|b| *b == b' ')?;
    Some((&line[..space], &line[space + 1..]))
}

fn parse_decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 19 {
        return None;
    }
    text.iter()
        .try_fold(0u64, |n, d| d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0')))
}

/// A chunk-size line: hex digits, optionally followed by `;extensions`.
fn chunk_size(line: &[u8]) -> Result<u64, ParseError> {
    let digits = line.split(|b| *b == b';').next().unwrap_or_default().trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(ParseError::Malformed);
    }
    digits.iter().try_fold(0u64, |n, d| {
        let v = (*d as char).to_digit(16).ok_or(ParseError::Malformed)?;
        Ok(n * 16 + u64::from(v))
    })
}

#[cfg(test)]
#[path = "http1_tests.rs"]
mod tests;
