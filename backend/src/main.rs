#[actix_web::main]
async fn main() -> std::process::ExitCode {
    match warm_transfer::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
