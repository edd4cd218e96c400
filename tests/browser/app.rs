//! The patient's web app in Chromium, on a phone-sized window.
