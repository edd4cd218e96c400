//! The `sanjeevani` server binary: read configuration, start the application.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    sanjeevani_api::startup::run_cli(sanjeevani_api::config::Cli::parse()).await
}
