//! Man pages and shell completions generated from a binary's own clap definition
//! (`X man`, `X completions SHELL`), so the packages install exactly what the binary
//! accepts (`packaging/gen-docs.sh` writes them; a test keeps them current).

use clap::{Command, ValueEnum};
pub use clap_complete::Shell;

/// Completions for `shell`.
pub fn completions(mut cmd: Command, shell: Shell) -> String {
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The man page (roff), section 1.
pub fn man(cmd: Command) -> String {
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(cmd).render(&mut out) {
        return format!(".\\\" rendering failed: {e}\n");
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// For a command line whose global options are required (`tendctl --server …`): when
/// the first word is `completions SHELL` or `man`, the text to print, before parsing.
pub fn early(args: &[String], cmd: impl Fn() -> Command) -> Option<Result<String, String>> {
    match args.get(1).map(String::as_str) {
        Some("man") => Some(Ok(man(cmd()))),
        Some("completions") => Some(match args.get(2) {
            Some(s) => Shell::from_str(s, true)
                .map(|sh| completions(cmd(), sh))
                .map_err(|_| format!("unknown shell {s:?}: bash, zsh, fish, elvish, powershell")),
            None => Err("usage: completions SHELL (bash, zsh, fish, elvish, powershell)".into()),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_and_man_come_from_the_definition() {
        let cmd = || {
            Command::new("demo")
                .about("A demo")
                .subcommand(Command::new("tickets").about("List tickets"))
        };
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let bash = early(&args(&["demo", "completions", "bash"]), cmd)
            .unwrap()
            .unwrap();
        assert!(bash.contains("tickets"), "{bash}");
        let page = early(&args(&["demo", "man"]), cmd).unwrap().unwrap();
        assert!(page.contains(".TH demo"), "{page}");
        assert!(early(&args(&["demo", "completions", "tcsh"]), cmd)
            .unwrap()
            .is_err());
        assert!(early(&args(&["demo", "tickets"]), cmd).is_none());
    }
}
