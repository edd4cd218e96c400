//! The web pages in a real browser: headless Debian Chromium through chromedriver, against the
//! real server on SQLite and on PostgreSQL. Screenshots go to `target/browser-artifacts/`.

mod admin;
mod app;
mod assisted;
mod call;
mod doctor;
mod pages;
