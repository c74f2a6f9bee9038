//! `tendctl`: argument parsing and the exit status; the commands are in the library.
//!
//! Exit status: 0 done; 1 a job waited for (`--wait`) did not succeed; 2 the command
//! itself failed (network, refused, bad input).

use clap::Parser;
use tend_client::cli;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // `tendctl completions SHELL` and `tendctl man` need no server, token or CA
    let raw: Vec<String> = std::env::args().collect();
    if let Some(out) =
        tend_client::docs::early(&raw, <tendctl::args::Cli as clap::CommandFactory>::command)
    {
        match out {
            Ok(text) => cli::print(&text),
            Err(e) => {
                eprintln!("tendctl: {e}");
                std::process::exit(2);
            }
        }
        return;
    }
    let args = tendctl::args::Cli::parse();
    cli::set_raw(args.raw);
    match tendctl::run(args).await {
        Ok(out) => {
            cli::println(&out.text);
            if !out.success {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!(
                "tendctl: {}",
                tend_shared::text::terminal_safe(&tendctl::explain(&e))
            );
            std::process::exit(2);
        }
    }
}
