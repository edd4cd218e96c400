//! The API server as its own process for the tests that freeze or kill one (`SIGSTOP`): the
//! same one line as `api/src/main.rs`, built here because cargo hands an integration test the
//! path of its own package's binaries only (`CARGO_BIN_EXE_sanjeevani-server`).

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    sanjeevani_api::startup::run_cli(sanjeevani_api::config::Cli::parse()).await
}
