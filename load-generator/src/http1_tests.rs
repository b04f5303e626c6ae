//! Tests of the HTTP/1.1 response parser.

use super::*;

/// Feeds `bytes` in pieces of `step` bytes, as reads would deliver them; returns the response
/// and the bytes left over after it.
fn parse_in_steps(bytes: &[u8], step: usize) -> Result<(Response, usize), ParseError> {
    let mut parser = ResponseParser::default();
    let (mut buf, mut offered) = (Vec::new(), 0);
    loop {
        let (used, done) = parser.feed(&buf)?;
        buf.drain(..used);
        if let Some(response) = done {
            return Ok((response, buf.len() + bytes.len() - offered));
        }
        if offered == bytes.len() {
            return parser.eof().map(|r| (r, 0));
        }
        let next = (offered + step).min(bytes.len());
        buf.extend_from_slice(&bytes[offered..next]);
        offered = next;
    }
}

fn parse_all_steps(bytes: &[u8]) -> Result<(Response, usize), ParseError> {
    let whole = parse_in_steps(bytes, bytes.len().max(1));
    for step in [1, 2, 3, 7] {
        assert_eq!(parse_in_steps(bytes, step), whole, "step {step}");
    }
    whole
}

#[test]
fn content_length_body_is_skipped_and_keeps_alive() {
    let r = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nokGARBAGE";
    let (response, left) = parse_in_steps(r, r.len()).unwrap();
    assert_eq!(
        response,
        Response {
            status: 200,
            keep_alive: true
        }
    );
    assert_eq!(left, 7);
    let r = b"HTTP/1.1 200 OK\r\nContent-Length:  5 \r\n\r\nhello";
    assert_eq!(
        parse_all_steps(r).unwrap(),
        (
            Response {
                status: 200,
                keep_alive: true
            },
            0
        )
    );
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
    assert_eq!(
        parse_all_steps(r).unwrap(),
        (
            Response {
                status: 200,
                keep_alive: true
            },
            0
        )
    );
    let r = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(parse_all_steps(r).unwrap().0.status, 200);
}

#[test]
fn bad_chunks_are_malformed() {
    let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    assert_eq!(parse_all_steps(r), Err(ParseError::Malformed));
    let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n";
    assert_eq!(parse_all_steps(r), Err(ParseError::Malformed));
}

#[test]
fn error_statuses_parse_like_any_other() {
    let r = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\noops";
    assert_eq!(
        parse_all_steps(r).unwrap().0,
        Response {
            status: 500,
            keep_alive: true
        }
    );
    let r = b"HTTP/1.1 404 \r\ncontent-length: 0\r\n\r\n";
    assert_eq!(parse_all_steps(r).unwrap().0.status, 404);
}

#[test]
fn connection_close_and_http10() {
    let r = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
    assert!(!parse_all_steps(r).unwrap().0.keep_alive);
    let r = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
    assert!(!parse_all_steps(r).unwrap().0.keep_alive);
    let r = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok";
    assert!(parse_all_steps(r).unwrap().0.keep_alive);
}

#[test]
fn body_without_length_runs_until_close() {
    let r = b"HTTP/1.1 200 OK\r\n\r\nall of this until the end";
    assert_eq!(
        parse_all_steps(r).unwrap().0,
        Response {
            status: 200,
            keep_alive: false
        }
    );
    let r = b"HTTP/1.1 204 No Content\r\n\r\n";
    assert!(parse_all_steps(r).unwrap().0.keep_alive);
}

#[test]
fn early_close_and_garbage_are_errors() {
    let r = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
    assert_eq!(parse_all_steps(r), Err(ParseError::UnexpectedEof));
    assert_eq!(parse_all_steps(b""), Err(ParseError::UnexpectedEof));
    assert_eq!(parse_all_steps(b"SSH-2.0-OpenSSH\r\n\r\n"), Err(ParseError::Malformed));
    let r = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok";
    assert_eq!(parse_all_steps(r), Err(ParseError::Malformed));
    let r = b"HTTP/1.1 2x0 OK\r\n\r\n";
    assert_eq!(parse_all_steps(r), Err(ParseError::Malformed));
}

#[test]
fn interim_responses_are_skipped() {
    let r = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(parse_all_steps(r).unwrap().0.status, 201);
}

#[test]
fn request_is_a_plain_get() {
    let request = get_request("127.0.0.1:8080", "/a?b=c");
    let text = String::from_utf8(request).unwrap();
    assert!(text.starts_with("GET /a?b=c HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
    assert!(text.ends_with("\r\n\r\n"));
}
