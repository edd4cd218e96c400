//! Escaping text for HTML (the docs page, email bodies, and later the web pages).

/// Escapes `& < > "` so text can sit in element content or a quoted attribute.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
