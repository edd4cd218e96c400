//! What every request handler shares: the database, the clock, settings and the messenger.

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Database;
use crate::notify::Messenger;

#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    pub messenger: Messenger,
}
