//! `tend`: the employee's command. Asks IT for help with this device's evidence
//! attached, shows this device's health, your requests with IT's replies, and what IT
//! ran here; rates a resolved request. It talks to the local agent over its socket;
//! the agent knows who you are from the connection, so no password is needed.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use tend_shared::local::{KbChoice, LocalRequest, LocalResponse, LocalStatus};

#[derive(Parser)]
#[command(
    name = "tend",
    version,
    about = "Ask IT for help, see your requests and what IT ran on this device",
    disable_help_subcommand = true
)]
struct Cli {
    /// The agent's socket.
    #[arg(long, env = "TEND_AGENT_SOCKET", default_value = tend_agent::local::DEFAULT_SOCKET, global = true)]
    socket: PathBuf,
    /// Print the agent's answer as JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Print replies and articles byte for byte, terminal control characters included
    /// (otherwise they are shown as visible escapes such as `\x1b`).
    #[arg(long, global = true)]
    raw: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Ask IT for help: files a request with this device's evidence attached.
    Help {
        /// What is wrong, in your words.
        #[arg(required = true)]
        text: Vec<String>,
        /// network, disk, performance, software, hardware, account or other.
        #[arg(long, default_value = "other")]
        category: String,
        /// Send it without looking at IT's articles first.
        #[arg(long)]
        yes: bool,
    },
    /// This device's health, your requests and IT's replies, what IT ran here.
    Status,
    /// Rate how IT handled a resolved request, 1 (bad) to 5 (great).
    Rate {
        ticket: String,
        score: u8,
        /// Anything you want to add.
        comment: Vec<String>,
    },
}

fn ask(socket: &PathBuf, req: &LocalRequest) -> anyhow::Result<LocalResponse> {
    let mut s = UnixStream::connect(socket).with_context(|| {
        format!(
            "cannot reach the Tend agent at {} (is it running?)",
            socket.display()
        )
    })?;
    // help runs a few diagnostics before it answers
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut line = serde_json::to_vec(req)?;
    line.push(b'\n');
    s.write_all(&line)?;
    let mut answer = String::new();
    BufReader::new(s)
        .read_line(&mut answer)
        .context("reading the agent's answer")?;
    serde_json::from_str(&answer).context("the agent's answer")
}

/// `2026-11-24 10:39` (UTC) for a time in ms since the epoch.
fn when(ms: u64) -> String {
    let (y, m, d, rem) = tend_shared::utc_parts(ms);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn status_text(s: &LocalStatus) -> String {
    let mut out = match s.problems.len() {
        0 => format!("{}: {} — nothing needs attention.\n", s.hostname, s.health),
        n => format!(
            "{}: {} — {n} thing(s) need attention:\n",
            s.hostname, s.health
        ),
    };
    for p in &s.problems {
        out += &format!("  - {} ({}): {}\n", p.check, p.status, p.message);
    }
    out += "\nYour requests:\n";
    if s.tickets.is_empty() {
        out += "  none (ask with: tend help \"what is wrong\")\n";
    }
    for t in &s.tickets {
        let id = t.ticket.as_deref().unwrap_or("(not sent yet)");
        let status = t
            .status
            .map_or("waiting".to_string(), |s| s.as_str().replace('_', " "));
        out += &format!(
            "  {id}  {status}  \"{}\"  asked {}\n",
            t.summary,
            when(t.filed_at_ms)
        );
        if let Some(v) = &t.view {
            for r in &v.replies {
                out += &format!("      {} replied {}: {}\n", r.by, when(r.at_ms), r.text);
            }
            match (&v.csat, v.status.as_str()) {
                (Some(c), _) => out += &format!("      you rated it {}/5\n", c.score),
                (None, "resolved" | "closed") => {
                    out += &format!("      how did we do? tend rate {id} 1..5\n")
                }
                _ => {}
            }
        }
    }
    if !s.online {
        out += "  (IT could not be reached just now; replies may be missing)\n";
    }
    out += "\nWhat IT ran on this device:\n";
    if s.ran_here.is_empty() {
        out += "  nothing yet\n";
    }
    for r in &s.ran_here {
        let mut who = format!("queued by {}", r.queued_by);
        if r.kind == "script" {
            who += &format!(
                ", written by {}, approved by {}",
                r.submitted_by, r.approved_by
            );
        }
        let exit = r.exit_code.map_or(String::new(), |c| format!(", exit {c}"));
        out += &format!(
            "  {}  {} {}  ({who}) — {}{exit}\n",
            when(r.at_ms),
            r.kind,
            r.what,
            r.state.replace('_', " ")
        );
    }
    out
}

fn main() -> anyhow::Result<()> {
    // for packaging: `tend man`, `tend completions SHELL` (not shown in --help)
    let raw: Vec<String> = std::env::args().collect();
    if let Some(r) = tend_client::docs::early(&raw, <Cli as clap::CommandFactory>::command) {
        match r {
            Ok(text) => tend_client::cli::print(&text),
            Err(e) => bail!("{e}"),
        }
        return Ok(());
    }
    let cli = Cli::parse();
    tend_client::cli::set_raw(cli.raw);
    let req = match cli.cmd {
        Cmd::Help {
            text,
            category,
            yes,
        } => {
            let text = text.join(" ");
            let first = LocalRequest::Help {
                text: text.clone(),
                category: category.clone(),
                kb: if yes { KbChoice::File } else { KbChoice::Ask },
            };
            match ask(&cli.socket, &first)? {
                LocalResponse::Suggest { articles } => {
                    let kb = try_first(&articles)?;
                    LocalRequest::Help { text, category, kb }
                }
                other => return show(other, cli.json),
            }
        }
        Cmd::Status => LocalRequest::Status,
        Cmd::Rate {
            ticket,
            score,
            comment,
        } => LocalRequest::Rate {
            ticket,
            score,
            comment: comment.join(" "),
        },
    };
    show(ask(&cli.socket, &req)?, cli.json)
}

/// "Try this first": the articles, then the choice (a number withdraws the request,
/// Enter or end of input sends it).
fn try_first(articles: &[tend_shared::kb::Article]) -> anyhow::Result<KbChoice> {
    let mut text = String::from("Before this goes to IT, try this first:\n");
    for (i, a) in articles.iter().enumerate() {
        text += &format!("\n[{}] {}\n{}\n", i + 1, a.title, a.body.trim());
    }
    text += "\nDid one of these solve it? Type its number to withdraw your request, or press Enter to send it to IT: ";
    tend_client::cli::print(&text);
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(match answer.trim().parse::<usize>() {
        Ok(n) if (1..=articles.len()).contains(&n) => KbChoice::Withdraw {
            article: articles[n - 1].id.clone(),
        },
        _ => KbChoice::File,
    })
}

fn show(r: LocalResponse, json: bool) -> anyhow::Result<()> {
    if json {
        tend_client::cli::println(&serde_json::to_string_pretty(&r)?);
    } else {
        match &r {
            LocalResponse::Filed { message, .. } => tend_client::cli::println(message),
            LocalResponse::Status(s) => tend_client::cli::print(&status_text(s)),
            LocalResponse::Rated { ticket } => tend_client::cli::println(&format!(
                "Thank you: your rating of {ticket} reached IT."
            )),
            LocalResponse::Withdrawn { message } => tend_client::cli::println(message),
            LocalResponse::Suggest { .. } | LocalResponse::Error { .. } => {}
        }
    }
    if let LocalResponse::Error { message } = r {
        bail!("{message}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
        assert_eq!(when(1_795_000_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(when(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
