//! Reading a server-sent event stream in tests: the next event of a name, its data lines
//! joined, or nothing within a time limit.

use std::time::Duration;

/// An open `text/event-stream` response.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// Wraps a response, checking it is an event stream.
    pub fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The data of the next `event` (its `data:` lines joined by newlines), or `None` if none
    /// came within `limit`. Other events are skipped.
    pub async fn next_within(&mut self, event: &str, limit: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + limit;
        let wanted = format!("event: {event}");
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if block.lines().any(|l| l == wanted) {
                    return Some(
                        block
                            .lines()
                            .filter_map(|l| l.strip_prefix("data: ").or(l.strip_prefix("data:")))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .expect("the stream reads")
                .expect("the stream goes on");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The data of the next `event`, which must come within 10 s.
    pub async fn next(&mut self, event: &str) -> String {
        self.next_within(event, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("a `{event}` event within 10 s"))
    }

    /// Everything else the stream sends until the server ends it, which must happen within
    /// `limit`.
    pub async fn rest_until_end(mut self, limit: Duration) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        let mut rest = std::mem::take(&mut self.buffer);
        while let Some(chunk) = tokio::time::timeout_at(deadline, self.response.chunk())
            .await
            .unwrap_or_else(|_| panic!("the stream ends within {limit:?}"))
            .expect("the stream reads")
        {
            rest.push_str(&String::from_utf8_lossy(&chunk));
        }
        rest
    }
}
