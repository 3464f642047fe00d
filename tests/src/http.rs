//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: a chart repository for `helm repo add`, or
//! just enough of a Kubernetes API for helm to read a release. It records every request as
//! `METHOD target`, so a test can show the cluster was (or was not) touched. The request
//! reader and response writer below are also what the Git server ([`crate::git_http`]) uses.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the handler answers.
pub enum Response {
    Ok {
        content_type: &'static str,
        body: Vec<u8>,
    },
    NotFound,
    /// For anything but a GET on a read-only fake: a write fails loudly and shows in the record.
    MethodNotAllowed,
}

/// Answers a request from its method and path (query string removed).
pub type Handler = dyn Fn(&str, &str) -> Response + Send + Sync;

pub struct HttpServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    /// Listens on a free port and answers each request from `handler`, one at a time.
    pub fn start(handler: Box<Handler>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = Request::read(&mut stream) else { continue };
                if let Ok(mut seen) = seen.lock() {
                    seen.push(format!("{} {}", request.method, request.target));
                }
                let _ = match handler(&request.method, request.path()) {
                    Response::Ok { content_type, body } => {
                        write_response(&mut stream, 200, "OK", &[("Content-Type", content_type)], &body)
                    }
                    Response::NotFound => write_response(&mut stream, 404, "Not Found", &[], b""),
                    Response::MethodNotAllowed => write_response(&mut stream, 405, "Method Not Allowed", &[], b""),
                };
            }
        });
        HttpServer { port, requests }
    }

    /// Every request so far, as `METHOD target`.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|requests| requests.clone()).unwrap_or_default()
    }
}

/// A JSON body.
pub fn json(value: &serde_json::Value) -> Response {
    Response::Ok { content_type: "application/json", body: value.to_string().into_bytes() }
}

/// One HTTP/1.1 request: its line, headers and whole body (by `Content-Length`, or
/// de-chunked when `Transfer-Encoding: chunked`, which git uses for large fetch requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// As sent: path and query string.
    pub target: String,
    /// Names as sent; look them up with [`Request::header`], which ignores case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The largest request body the test servers take: a fetch of a test repository is a few KB.
const MAX_BODY: usize = 64 << 20;

impl Request {
    /// Reads one request; None when the peer closed the connection or sent no valid HTTP.
    pub fn read(stream: &mut TcpStream) -> Option<Request> {
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        Request::read_from(&mut reader)
    }

    /// [`Request::read`] from any buffered reader (the unit tests feed bytes).
    pub fn read_from(reader: &mut impl BufRead) -> Option<Request> {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).ok()? == 0 {
            return None;
        }
        let mut words = request_line.split_whitespace();
        let method = words.next()?.to_string();
        let target = words.next()?.to_string();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        let mut request = Request { method, target, headers, body: Vec::new() };
        if request.header("Transfer-Encoding").is_some_and(|value| value.eq_ignore_ascii_case("chunked")) {
            request.body = read_chunked(reader)?;
        } else if let Some(length) = request.header("Content-Length") {
            let length: usize = length.parse().ok()?;
            if length > MAX_BODY {
                return None;
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).ok()?;
            request.body = body;
        }
        Some(request)
    }

    /// A header's value, by name regardless of case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// The target without its query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }

    /// The query string (empty when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, query)| query).unwrap_or("")
    }
}

/// Writes one response with its length, and `Connection: close`: every test server answers
/// one request per connection, which every client here (helm, git's curl) handles.
pub fn write_response(
    stream: &mut impl Write,
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        if reader.read_line(&mut size_line).ok()? == 0 {
            return None;
        }
        // A chunk size may carry `;extensions`, which nothing here needs.
        let size_text = size_line.trim().split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            loop {
                let mut trailer = String::new();
                if reader.read_line(&mut trailer).ok()? == 0 || trailer.trim().is_empty() {
                    return Some(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return None;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).ok()?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf).ok()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Option<Request> {
        Request::read_from(&mut std::io::Cursor::new(bytes.to_vec()))
    }

    #[test]
    fn a_request_with_a_length_has_its_body_and_headers() {
        let request = parse(
            b"POST /r.git/git-upload-pack?x=1 HTTP/1.1\r\ncontent-length: 5\r\nGit-Protocol: version=2\r\n\r\nhello",
        )
        .expect("parses");
        assert_eq!(request.method, "POST");
        assert_eq!(request.path(), "/r.git/git-upload-pack");
        assert_eq!(request.query(), "x=1");
        assert_eq!(request.header("Content-Length"), Some("5"));
        assert_eq!(request.header("git-protocol"), Some("version=2"));
        assert_eq!(request.body, b"hello");
    }

    #[test]
    fn a_chunked_body_is_joined() {
        let request =
            parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n")
                .expect("parses");
        assert_eq!(request.body, b"hello world");
    }

    #[test]
    fn a_cut_request_is_none() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(parse(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nshort"), None);
    }

    #[test]
    fn a_response_has_its_length_and_closes() {
        let mut out = Vec::new();
        write_response(&mut out, 401, "Unauthorized", &[("WWW-Authenticate", "Basic realm=\"t\"")], b"no")
            .expect("writes");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"t\"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
        );
    }
}
