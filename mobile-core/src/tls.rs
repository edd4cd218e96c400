//! Whose certificates HTTPS and the call's secure WebSocket trust.
//!
//! On iOS, macOS, Windows and Linux the platform's own verifier decides
//! (`rustls-platform-verifier`): the system trust store with the certificates the user or the
//! organisation installed, revocation and policy checks where the platform has them (the
//! Security framework on Apple platforms; on Linux the system bundle, or `SSL_CERT_FILE`).
//!
//! On Android the bundled Mozilla roots (`webpki-roots`) still decide: Android's verifier is
//! reached through JNI and needs the app to hand it a `Context` before the first request, an
//! entry point not written yet. So Network Security Config, user-installed CAs and pinning are
//! not honoured on Android.

/// The roots the HTTP agent trusts.
pub(crate) fn root_certs() -> ureq::tls::RootCerts {
    #[cfg(not(target_os = "android"))]
    {
        ureq::tls::RootCerts::PlatformVerifier
    }
    #[cfg(target_os = "android")]
    {
        ureq::tls::RootCerts::WebPki
    }
}

/// The TLS set-up for the call's `wss://` connection; `None` leaves tungstenite's default
/// (the bundled roots).
pub(crate) fn websocket_connector() -> Option<tungstenite::Connector> {
    #[cfg(not(target_os = "android"))]
    {
        use rustls_platform_verifier::ConfigVerifierExt;
        match rustls::ClientConfig::with_platform_verifier() {
            Ok(config) => Some(tungstenite::Connector::Rustls(std::sync::Arc::new(config))),
            Err(_) => {
                crate::logging::log(crate::logging::LogLevel::Warn, "call", || {
                    "the platform's certificate verifier is unavailable; using bundled roots".into()
                });
                None
            }
        }
    }
    #[cfg(target_os = "android")]
    {
        None
    }
}
