//! A minimal HTTP/1.1 keep-alive client: one TCP connection, one request at a time.
//!
//! Why not reqwest: on a 2-core machine the load generator shares the CPU with the server, and a
//! general client's pooling and header machinery costs several times what the server spends on
//! a cheap request; the figures would measure the client. This speaks just enough HTTP for our
//! own server (Content-Length or chunked bodies, `Connection: close`).

use std::io;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A response: the status and the raw body.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json<T: DeserializeOwned>(&self) -> io::Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{e}: {}", String::from_utf8_lossy(&self.body)),
            )
        })
    }
}

pub struct Connection {
    address: String,
    stream: Option<BufReader<TcpStream>>,
    request: Vec<u8>,
    line: Vec<u8>,
}

impl Connection {
    /// `address` is `host:port`; the connection opens on the first request.
    pub fn new(address: &str) -> Self {
        Self {
            address: address.to_owned(),
            stream: None,
            request: Vec::with_capacity(1024),
            line: Vec::with_capacity(256),
        }
    }

    pub async fn get(&mut self, path: &str, bearer: Option<&str>) -> io::Result<Response> {
        self.send("GET", path, bearer, &[], None).await
    }

    pub async fn post<B: Serialize>(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        body: &B,
    ) -> io::Result<Response> {
        self.post_with(path, bearer, &[], body).await
    }

    pub async fn post_with<B: Serialize>(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
        body: &B,
    ) -> io::Result<Response> {
        let body = serde_json::to_vec(body)?;
        self.send("POST", path, bearer, headers, Some(&body)).await
    }

    /// Sends one request; a connection the server closed in between is reopened once (only
    /// before anything was read, so a request is never sent twice after the server saw it).
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> io::Result<Response> {
        self.request.clear();
        let r = &mut self.request;
        r.extend_from_slice(method.as_bytes());
        r.push(b' ');
        r.extend_from_slice(path.as_bytes());
        r.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        r.extend_from_slice(self.address.as_bytes());
        r.extend_from_slice(b"\r\n");
        if let Some(token) = bearer {
            r.extend_from_slice(b"authorization: Bearer ");
            r.extend_from_slice(token.as_bytes());
            r.extend_from_slice(b"\r\n");
        }
        for (name, value) in headers {
            r.extend_from_slice(name.as_bytes());
            r.extend_from_slice(b": ");
            r.extend_from_slice(value.as_bytes());
            r.extend_from_slice(b"\r\n");
        }
        if let Some(body) = body {
            r.extend_from_slice(b"content-type: application/json\r\ncontent-length: ");
            r.extend_from_slice(body.len().to_string().as_bytes());
            r.extend_from_slice(b"\r\n\r\n");
            r.extend_from_slice(body);
        } else {
            r.extend_from_slice(b"\r\n");
        }
        let reused = self.stream.is_some();
        match self.exchange().await {
            Err(e) if reused && e.kind() == io::ErrorKind::UnexpectedEof => {
                self.stream = None;
                self.exchange().await
            }
            other => other,
        }
    }

    async fn exchange(&mut self) -> io::Result<Response> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.address).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::with_capacity(16 * 1024, stream));
        }
        let stream = self.stream.as_mut().expect("connected above");
        let outcome = async {
            stream.get_mut().write_all(&self.request).await?;
            read_response(stream, &mut self.line).await
        }
        .await;
        match outcome {
            Ok((response, keep_alive)) => {
                if !keep_alive {
                    self.stream = None;
                }
                Ok(response)
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// Reads one response; returns it and whether the connection stays open.
async fn read_response(
    stream: &mut BufReader<TcpStream>,
    line: &mut Vec<u8>,
) -> io::Result<(Response, bool)> {
    line.clear();
    if stream.read_until(b'\n', line).await? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let status = line
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut keep_alive = true;
    loop {
        line.clear();
        if stream.read_until(b'\n', line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let header = std::str::from_utf8(line).map_err(|_| bad("header not UTF-8"))?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| bad("bad content-length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            keep_alive = !value.eq_ignore_ascii_case("close");
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            stream.read_until(b'\n', line).await?;
            let size = std::str::from_utf8(line)
                .ok()
                .and_then(|s| usize::from_str_radix(s.trim().split(';').next()?, 16).ok())
                .ok_or_else(|| bad("bad chunk size"))?;
            let start = body.len();
            body.resize(start + size, 0);
            stream.read_exact(&mut body[start..]).await?;
            line.clear();
            stream.read_until(b'\n', line).await?;
            if size == 0 {
                break;
            }
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
    } else if status != 204 && status != 304 {
        // No length: the body runs to the end of the connection.
        stream.read_to_end(&mut body).await?;
        keep_alive = false;
    }
    Ok((Response { status, body }, keep_alive))
}
