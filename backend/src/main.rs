#[actix_web::main]
async fn main() -> std::process::ExitCode {
    return_large_buffers_to_the_os();
    match warm_transfer::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Argon2 allocates ~19 MiB per password hash. glibc's adaptive mmap threshold would soon serve
/// such buffers from its heaps and keep them after use, so a few sign-ins grew the process by
/// hundreds of MB; a fixed threshold keeps them mmap'd and returned to the OS when freed.
fn return_large_buffers_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called once at start, before other threads run.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
