//! Man pages and shell completions (issue 17): the files the packages install are
//! what the binaries generate from their clap definitions today (regenerate with
//! `packaging/gen-docs.sh`), every man page renders with `man -l`, and bash
//! completes `tendctl tick<TAB>` to the ticket commands.

use std::path::{Path, PathBuf};
use std::process::Command;

use tend_e2e::bin;

const BINARIES: [&str; 4] = ["tend-agent", "tend", "tend-collector", "tendctl"];

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("packaging")
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn installed_docs_are_what_the_binaries_generate() {
    for b in BINARIES {
        let files = [
            (vec!["man"], format!("man/{b}.1")),
            (vec!["completions", "bash"], format!("completions/bash/{b}")),
            (vec!["completions", "zsh"], format!("completions/zsh/_{b}")),
            (
                vec!["completions", "fish"],
                format!("completions/fish/{b}.fish"),
            ),
        ];
        for (args, file) in files {
            let fresh = output(Command::new(bin(b)).args(&args));
            let kept = std::fs::read_to_string(packaging().join(&file))
                .unwrap_or_else(|e| panic!("packaging/{file}: {e}"));
            assert!(
                fresh == kept,
                "packaging/{file} is out of date: run `cargo build --bins && packaging/gen-docs.sh`"
            );
        }
    }
}

#[test]
fn every_man_page_renders() {
    for b in BINARIES {
        let page = packaging().join(format!("man/{b}.1"));
        let text = output(
            Command::new("man")
                .arg("-l")
                .arg(&page)
                .env("MANWIDTH", "80")
                .env("MANPAGER", "cat")
                .env("PAGER", "cat"),
        );
        assert!(text.contains("NAME") && text.contains(b), "{b}: {text}");
        assert!(text.contains("SYNOPSIS"), "{b}: {text}");
    }
}

#[test]
fn bash_completes_tendctl_subcommands() {
    let script = packaging().join("completions/bash/tendctl");
    let out = output(Command::new("bash").arg("-c").arg(format!(
        "source {}; COMP_WORDS=(tendctl tick); COMP_CWORD=1; COMP_LINE='tendctl tick'; \
         COMP_POINT=12; _tendctl tendctl tick tendctl; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    )));
    let words: Vec<&str> = out.lines().collect();
    assert!(words.contains(&"tickets"), "{words:?}");
    assert!(words.iter().all(|w| w.starts_with("tick")), "{words:?}");
    // and the command prints the same script without a server, token or CA
    let printed = output(
        Command::new(bin("tendctl"))
            .args(["completions", "bash"])
            .env_remove("TEND_SERVER")
            .env_remove("TEND_TOKEN")
            .env_remove("TEND_CA"),
    );
    assert_eq!(printed, std::fs::read_to_string(script).unwrap());
}
