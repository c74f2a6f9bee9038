//! The local protocol between `tend` (the employee's command) and the root agent, over
//! the agent's Unix socket: one JSON request line, one JSON response line. The agent
//! knows who asks from the socket's peer credentials, never from the request.

use serde::{Deserialize, Serialize};

use crate::tickets::{RequesterView, TicketStatus};

/// Longest request line the agent reads.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Longest help text.
pub const MAX_HELP_TEXT: usize = 2000;

/// What `tend` asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LocalRequest {
    /// File a ticket for the asking user, with the device's evidence attached —
    /// unless `kb` says to show matching articles first (the default) and one exists.
    Help {
        text: String,
        category: String,
        #[serde(default)]
        kb: KbChoice,
    },
    /// This device's health, the asking user's tickets, what IT ran here.
    Status,
    /// Rate a resolved ticket of the asking user (1..=5).
    Rate {
        ticket: String,
        score: u8,
        #[serde(default)]
        comment: String,
    },
}

/// What a help request does about knowledge-base articles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum KbChoice {
    /// Answer `Suggest` when an article matches; file otherwise.
    #[default]
    Ask,
    /// File the request (the user read the suggestions, or does not want them).
    File,
    /// The article solved it: withdraw the request (counted as self-service).
    Withdraw { article: String },
}

/// The agent's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum LocalResponse {
    /// `Help`: the ticket number once the collector filed it, else queued (offline).
    Filed {
        request_id: String,
        #[serde(default)]
        ticket: Option<String>,
        message: String,
    },
    Status(Box<LocalStatus>),
    Rated {
        ticket: String,
    },
    /// `Help` with `KbChoice::Ask`: try these first (nothing was filed yet).
    Suggest {
        articles: Vec<crate::kb::Article>,
    },
    /// `Help` with `KbChoice::Withdraw`: nothing was filed.
    Withdrawn {
        message: String,
    },
    Error {
        message: String,
    },
}

/// One line of the device's health in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthLine {
    pub check: String,
    pub status: String,
    pub message: String,
}

/// A ticket of the asking user: as filed here, and as the collector last told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserTicket {
    pub request_id: String,
    pub summary: String,
    pub filed_at_ms: u64,
    /// `None` while the request waits in the spool (offline).
    #[serde(default)]
    pub ticket: Option<String>,
    #[serde(default)]
    pub status: Option<TicketStatus>,
    /// The collector's view (public replies, CSAT) when it could be reached.
    #[serde(default)]
    pub view: Option<RequesterView>,
}

/// Something IT ran on this device (from the agent's own records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RanHere {
    pub at_ms: u64,
    /// `diagnostic` or `script`.
    pub kind: String,
    /// `disk-usage /tmp`, `clear-cache v2`.
    pub what: String,
    /// Who queued it.
    pub queued_by: String,
    /// Scripts: who submitted and who approved the version that ran.
    #[serde(default)]
    pub submitted_by: String,
    #[serde(default)]
    pub approved_by: String,
    pub state: String,
    #[serde(default)]
    pub exit_code: Option<i32>,
}

/// `Status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalStatus {
    pub hostname: String,
    /// `healthy`, `warning`, `failing`, `unknown`.
    pub health: String,
    /// Checks that are not passing, in words.
    pub problems: Vec<HealthLine>,
    pub tickets: Vec<UserTicket>,
    /// Newest first.
    pub ran_here: Vec<RanHere>,
    /// False when the collector could not be reached (tickets show what was known).
    pub online: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_by_op() {
        let r: LocalRequest =
            serde_json::from_str(r#"{"op":"help","text":"wifi drops","category":"network"}"#)
                .unwrap();
        assert_eq!(
            r,
            LocalRequest::Help {
                text: "wifi drops".into(),
                category: "network".into(),
                kb: KbChoice::Ask,
            }
        );
        let r: LocalRequest =
            serde_json::from_str(r#"{"op":"rate","ticket":"T-3","score":5}"#).unwrap();
        assert!(matches!(r, LocalRequest::Rate { score: 5, .. }));
        assert!(serde_json::from_str::<LocalRequest>(r#"{"op":"sudo"}"#).is_err());
    }
}
