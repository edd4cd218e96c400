//! A participant's signalling socket of a consultation call, as a browser or the app holds
//! it: open, sign in, send and receive the JSON messages.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A participant's signalling socket, as a browser or the app holds it.
pub struct Ws {
    pub socket: Socket,
}

impl Ws {
    /// Opens the room's socket on the server at `address` (`http://host:port`).
    pub async fn open(address: &str, token_id: &str) -> Self {
        let url = format!(
            "{}/api/v1/calls/{token_id}/ws",
            address.replacen("http://", "ws://", 1)
        );
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the socket opens");
        Self { socket }
    }

    /// Opens, signs in with the bearer token, and returns the socket with its first answer.
    pub async fn enter(address: &str, token_id: &str, bearer: &str) -> (Self, Value) {
        let mut ws = Self::open(address, token_id).await;
        ws.send(json!({"type": "auth", "token": bearer})).await;
        let first = ws.recv().await;
        (ws, first)
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("sent");
    }

    /// The next JSON message (pings answered on the way).
    pub async fn recv(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a message within 10 s")
                .expect("the socket is open")
                .expect("a frame");
            match next {
                Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    pub async fn expect(&mut self, kind: &str) -> Value {
        let message = self.recv().await;
        assert_eq!(message["type"], kind, "{message}");
        message
    }

    /// The close code the server ends with.
    pub async fn closed_with(&mut self) -> u16 {
        loop {
            let next = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("closed within 10 s");
            match next {
                Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return 1005,
                Some(Ok(_)) => continue,
            }
        }
    }
}
