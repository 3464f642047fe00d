//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: a chart repository for `helm repo add`, or
//! just enough of a Kubernetes API for helm to read a release. It records every request as
//! `METHOD target`, so a test can show the cluster was (or was not) touched.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
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
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // Headers are read and ignored; a body (none of helm's reads have one) too.
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).map(|n| n == 0).unwrap_or(true) || header == "\r\n" {
                        break;
                    }
                }
                let mut words = request_line.split_whitespace();
                let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or("/"));
                seen.lock().expect("lock").push(format!("{method} {target}"));
                let path = target.split('?').next().unwrap_or("/");
                let response = match handler(method, path) {
                    Response::Ok { content_type, body } => {
                        let mut head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        head.extend(body);
                        head
                    }
                    Response::NotFound => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
                    }
                    Response::MethodNotAllowed => {
                        b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
                    }
                };
                let _ = stream.write_all(&response);
            }
        });
        HttpServer { port, requests }
    }

    /// Every request so far, as `METHOD target`.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

/// A JSON body.
pub fn json(value: &serde_json::Value) -> Response {
    Response::Ok { content_type: "application/json", body: value.to_string().into_bytes() }
}
