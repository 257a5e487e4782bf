//! A deliberately small HTTP/1.1 server-side codec: request heads, bodies by
//! `Content-Length` (or chunked), keep-alive, and responses whose body can be
//! streamed (for the `oversized` fault).

use std::io::{self, BufRead, BufReader, Read, Write};

const MAX_LINE: usize = 16 * 1024;
const MAX_HEADERS: usize = 100;
const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// Path without the query string, still percent-encoded.
    pub path: String,
    /// The query string after `?` (raw, still percent-encoded; empty if none).
    pub query: String,
    pub http11: bool,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.http11 {
            !conn.split(',').any(|t| t.trim() == "close")
        } else {
            conn.split(',').any(|t| t.trim() == "keep-alive")
        }
    }
}

#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the connection cleanly between requests.
    Closed,
    Io,
    /// A malformed request: answer with this status and close.
    Bad(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Io
    }
}

fn read_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>) -> Result<usize, ReadError> {
    buf.clear();
    let n = r.take(MAX_LINE as u64 + 1).read_until(b'\n', buf)?;
    if n > MAX_LINE {
        return Err(ReadError::Bad(431, "header line too long"));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(n)
}

/// Read one request. `S` is written to only for `Expect: 100-continue`.
pub(crate) fn read_request<S: Read + Write>(r: &mut BufReader<S>) -> Result<Request, ReadError> {
    let mut line = Vec::new();
    // Tolerate stray empty lines between requests (RFC 9112 §2.2).
    let mut n = read_line(r, &mut line)?;
    let mut skipped = 0;
    while n > 0 && line.is_empty() && skipped < 4 {
        n = read_line(r, &mut line)?;
        skipped += 1;
    }
    if n == 0 {
        return Err(ReadError::Closed);
    }
    let start = String::from_utf8_lossy(&line).into_owned();
    let mut parts = start.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if !m.is_empty() && !t.is_empty() => (m, t, v),
        _ => return Err(ReadError::Bad(400, "malformed request line")),
    };
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(ReadError::Bad(505, "unsupported HTTP version")),
    };
    // Accept absolute-form targets too (proxies).
    let mut path = target;
    if let Some(rest) = path.strip_prefix("http://").or_else(|| path.strip_prefix("https://")) {
        path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    }
    let path_and_query = path.split('#').next().unwrap_or("/");
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let (path, query) = (path.to_string(), query.to_string());

    let mut headers = Vec::new();
    loop {
        let n = read_line(r, &mut line)?;
        if n == 0 {
            return Err(ReadError::Bad(400, "connection closed inside the request head"));
        }
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Bad(431, "too many headers"));
        }
        let l = String::from_utf8_lossy(&line);
        let (k, v) = l.split_once(':').ok_or(ReadError::Bad(400, "malformed header line"))?;
        if k.is_empty() || k.ends_with([' ', '\t']) {
            return Err(ReadError::Bad(400, "malformed header name"));
        }
        headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut req = Request { method: method.to_string(), path, query, http11, headers, body: Vec::new() };

    let chunked =
        req.header("transfer-encoding").map(|te| te.to_ascii_lowercase().contains("chunked")).unwrap_or(false);
    let length = match req.header("content-length") {
        Some(v) if !chunked => Some(v.parse::<usize>().map_err(|_| ReadError::Bad(400, "bad Content-Length"))?),
        _ => None,
    };
    if length.is_some_and(|l| l > MAX_BODY) {
        return Err(ReadError::Bad(413, "request body too large"));
    }
    let expects_continue = req.header("expect").is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
    if expects_continue && http11 && (chunked || length.unwrap_or(0) > 0) {
        let s = r.get_mut();
        s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        s.flush()?;
    }
    if chunked {
        req.body = read_chunked(r)?;
    } else if let Some(len) = length {
        let mut body = vec![0u8; len];
        r.read_exact(&mut body)?;
        req.body = body;
    }
    Ok(req)
}

fn read_chunked<R: BufRead>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut line = Vec::new();
    loop {
        read_line(r, &mut line)?;
        let s = String::from_utf8_lossy(&line);
        let size_str = s.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_str, 16).map_err(|_| ReadError::Bad(400, "bad chunk size"))?;
        if size == 0 {
            // Trailers until the empty line.
            loop {
                let n = read_line(r, &mut line)?;
                if n == 0 || line.is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(ReadError::Bad(413, "request body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        read_line(r, &mut line)?; // CRLF after the chunk
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Bytes(Vec<u8>),
    /// `bytes` bytes of JSON-looking text, generated while writing.
    Oversized(u64),
}

#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, headers: vec![("Content-Type".into(), content_type.into())], body: Body::Bytes(body.into()) }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status, "application/json; charset=utf-8", value.to_string())
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body_len(&self) -> u64 {
        match &self.body {
            Body::Bytes(b) => b.len() as u64,
            Body::Oversized(n) => *n,
        }
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// Write `resp`. `head_only` suppresses the body (HEAD requests).
pub(crate) fn write_response<W: Write>(
    w: &mut W,
    resp: &Response,
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    head.push_str(&format!("Date: {}\r\n", crate::util::http_date(crate::util::unix_now())));
    for (k, v) in &resp.headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.body_len()));
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    if !head_only {
        match &resp.body {
            Body::Bytes(b) => w.write_all(b)?,
            Body::Oversized(n) => write_oversized(w, *n)?,
        }
    }
    w.flush()
}

fn write_oversized<W: Write>(w: &mut W, total: u64) -> io::Result<()> {
    const PREFIX: &[u8] = b"{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"";
    let mut left = total;
    let p = PREFIX.len().min(left as usize);
    w.write_all(&PREFIX[..p])?;
    left -= p as u64;
    let chunk = vec![b'A'; 64 * 1024];
    while left > 0 {
        let n = chunk.len().min(left as usize);
        w.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    struct Duplex(Cursor<Vec<u8>>, Vec<u8>);
    impl Read for Duplex {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.0.read(b)
        }
    }
    impl Write for Duplex {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.1.write(b)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn parses_two_keepalive_requests() {
        let raw = b"POST /t/oauth2/v2.0/token?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\
GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
        let mut r = BufReader::new(Duplex(Cursor::new(raw.to_vec()), Vec::new()));
        let a = read_request(&mut r).unwrap();
        assert_eq!(a.method, "POST");
        assert_eq!(a.path, "/t/oauth2/v2.0/token");
        assert_eq!(a.query, "x=1");
        assert_eq!(a.body, b"abc");
        assert!(a.keep_alive());
        let b = read_request(&mut r).unwrap();
        assert_eq!(b.body, b"hi");
        assert!(!b.keep_alive());
        assert!(matches!(read_request(&mut r), Err(ReadError::Closed)));
    }

    #[test]
    fn oversized_is_exact() {
        let mut out = Vec::new();
        write_oversized(&mut out, 200_000).unwrap();
        assert_eq!(out.len(), 200_000);
        let mut out = Vec::new();
        write_oversized(&mut out, 5).unwrap();
        assert_eq!(out, b"{\"tok");
    }
}
