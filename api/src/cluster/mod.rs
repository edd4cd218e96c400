//! Running as several API processes behind a load balancer on one PostgreSQL: the client's
//! real address behind trusted proxies ([`client_address`]) and queue wake-ups that cross
//! processes ([`wakeups`]). The balancer's configuration is `api/deploy/haproxy.cfg`.

pub mod client_address;
pub mod wakeups;

use serde::{Deserialize, Serialize};

use crate::auth::throttle::Network;

/// `[cluster]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// The reverse proxies and load balancers in front of the API, in CIDR notation (for
    /// example `["10.0.0.0/24"]`). Only a request whose TCP peer is in one of these networks
    /// has its `Forwarded` / `X-Forwarded-For` header believed; from anywhere else the header
    /// is ignored (a client can write it itself). Empty (the default): the TCP peer is the
    /// client.
    pub trusted_proxies: Vec<Network>,
    /// On PostgreSQL, wake other API processes' live streams through `LISTEN/NOTIFY` when a
    /// queue changes (one extra connection per process). Off: streams re-read their session
    /// every `queue.stream_poll_ms`.
    pub wakeups: bool,
    /// Where the wake-up relay connects, when `database_url` goes through a pooler in
    /// transaction mode (PgBouncer): `LISTEN` needs a session of its own, so point this at
    /// PostgreSQL itself. Unset: `database_url`.
    pub listen_url: Option<String>,
    /// While wake-ups arrive, how often a stream re-reads its session anyway, in case a
    /// notification was lost.
    pub safety_reread_ms: u64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            wakeups: true,
            listen_url: None,
            safety_reread_ms: 15_000,
        }
    }
}
