use clap::Parser;

/// mimalloc instead of glibc's malloc: under load a sixth of the server's time went to
/// glibc's allocator (docs/benchmarks.md, session 5).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = urad::Cli::parse();
    match urad::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
