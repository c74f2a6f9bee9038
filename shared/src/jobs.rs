//! Jobs the collector queues for a device (diagnostics, approved scripts) and their results.

use serde::{Deserialize, Serialize};

/// Lifecycle of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Delivered,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Rejected,
    Expired,
}

impl JobState {
    /// The state in words: `timed out`.
    pub fn label(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Delivered => "delivered",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::TimedOut => "timed out",
            JobState::Rejected => "rejected",
            JobState::Expired => "expired",
        }
    }

    /// True once nothing more will happen to the job.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Succeeded
                | JobState::Failed
                | JobState::TimedOut
                | JobState::Rejected
                | JobState::Expired
        )
    }
}

/// What a job asks the agent to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobSpec {
    /// A built-in read-only diagnostic with typed arguments.
    Diagnostic {
        name: String,
        #[serde(default)]
        args: Vec<String>,
    },
    /// An approved script, with the signed manifest the agent verifies.
    Script(SignedScript),
}

/// The canonical manifest of an approved script and the collector's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedScript {
    pub script_id: String,
    pub version: u32,
    pub interpreter: String,
    pub body: String,
    /// Hex SHA-256 of `body`.
    pub body_sha256: String,
    pub timeout_s: u64,
    pub run_as: String,
    /// The script's name, who submitted and who approved this version (shown to the
    /// device's user; not part of the signed manifest).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub submitted_by: String,
    #[serde(default)]
    pub approved_by: String,
    /// Base64 ed25519 signature over `crate::signing::script_manifest(...)`.
    pub signature: String,
}

/// A job as delivered to the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    pub spec: JobSpec,
    /// Who queued it (the device's transparency log shows it to its user).
    #[serde(default)]
    pub created_by: String,
}

/// What the agent reports back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub state: JobState,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub duration_ms: u64,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub stderr: String,
    #[serde(default)]
    pub stdout_truncated: bool,
    #[serde(default)]
    pub stderr_truncated: bool,
    /// Structured output of a diagnostic, when it has one.
    #[serde(default)]
    pub output: serde_json::Value,
    /// Why the job was rejected or failed before running.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /api/v1/jobs/next?wait=S&policy_version=V`: answered as soon as a job is
/// waiting or the policy moved past `V`, else after `S` seconds with nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobsNextResponse {
    #[serde(default)]
    pub jobs: Vec<Job>,
    pub policy_version: u64,
}

/// Interpreters a script may name.
pub const INTERPRETERS: [&str; 4] = ["sh", "bash", "zsh", "python3"];

/// Whom a script runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunAs {
    Root,
    ConsoleUser,
}

impl RunAs {
    pub fn as_str(self) -> &'static str {
        match self {
            RunAs::Root => "root",
            RunAs::ConsoleUser => "console_user",
        }
    }
}

/// `POST /api/v1/scripts` (admin). Submitting an existing name makes a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptSubmit {
    pub name: String,
    pub interpreter: String,
    pub body: String,
    #[serde(default)]
    pub platforms: Vec<crate::enroll::Platform>,
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    #[serde(default = "default_run_as")]
    pub run_as: RunAs,
    #[serde(default)]
    pub description: String,
}

fn default_timeout() -> u64 {
    60
}
fn default_run_as() -> RunAs {
    RunAs::Root
}

/// Approval state of one script version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptStatus {
    PendingApproval,
    Approved,
    /// Replaced by a newer approved version.
    Superseded,
    Revoked,
}

impl ScriptStatus {
    /// The status in words: `pending approval`.
    pub fn label(self) -> &'static str {
        match self {
            ScriptStatus::PendingApproval => "pending approval",
            ScriptStatus::Approved => "approved",
            ScriptStatus::Superseded => "superseded",
            ScriptStatus::Revoked => "revoked",
        }
    }
}

/// A script version as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Script {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub interpreter: String,
    pub body: String,
    pub body_sha256: String,
    pub platforms: Vec<crate::enroll::Platform>,
    pub timeout_s: u64,
    pub run_as: RunAs,
    #[serde(default)]
    pub description: String,
    pub status: ScriptStatus,
    /// The submitter's user name (display).
    pub submitted_by: String,
    /// The submitter's user id (what the two-person rule compares).
    #[serde(default)]
    pub submitted_by_id: String,
    pub submitted_at_ms: u64,
    #[serde(default)]
    pub approved_by: Option<String>,
    #[serde(default)]
    pub approved_by_id: Option<String>,
    #[serde(default)]
    pub approved_at_ms: Option<u64>,
    /// Base64 ed25519 signature over the canonical manifest, once approved.
    #[serde(default)]
    pub signature: Option<String>,
}

/// A job as analysts see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub device_id: String,
    pub state: JobState,
    pub spec: JobSpec,
    pub created_by: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    #[serde(default)]
    pub delivered_at_ms: Option<u64>,
    /// Times it was handed to the device (more than one: the answer of an earlier
    /// delivery was lost, so it was delivered again).
    #[serde(default)]
    pub deliveries: u32,
    /// When the device said it started it.
    #[serde(default)]
    pub started_at_ms: Option<u64>,
    #[serde(default)]
    pub finished_at_ms: Option<u64>,
    #[serde(default)]
    pub result: Option<JobResult>,
    #[serde(default)]
    pub bulk_id: Option<String>,
    /// The ticket it was queued from (its result lands on the ticket's timeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
}

/// `POST /api/v1/devices/{id}/diagnostics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticRequest {
    pub name: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// How long it may wait for an offline device (60 s to 14 days; default 1 day).
    #[serde(default)]
    pub ttl_s: Option<u64>,
    /// The ticket it is for: its result is attached to that ticket's timeline.
    #[serde(default)]
    pub ticket_id: Option<String>,
}

/// What a bulk action runs on each device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BulkAction {
    Diagnostic {
        name: String,
        #[serde(default)]
        args: Vec<String>,
    },
    Script {
        script_id: String,
    },
}

/// `POST /api/v1/bulk`: an action for every device matching the filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkRequest {
    #[serde(default)]
    pub platform: Option<crate::enroll::Platform>,
    #[serde(default)]
    pub health: Option<crate::health::HealthStatus>,
    /// Devices with an open ticket for this problem key.
    #[serde(default)]
    pub problem_key: Option<String>,
    pub action: BulkAction,
}

/// `GET /api/v1/bulk/{id}`: progress by job state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkStatus {
    pub id: String,
    pub created_at_ms: u64,
    pub created_by: String,
    pub action: BulkAction,
    pub job_ids: Vec<String>,
    pub counts: std::collections::BTreeMap<String, u64>,
}

impl JobResult {
    /// A result in `state` with nothing captured.
    pub fn new(state: JobState) -> JobResult {
        JobResult {
            state,
            exit_code: None,
            duration_ms: 0,
            stdout: String::new(),
            stderr: String::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            output: serde_json::Value::Null,
            reason: None,
        }
    }

    /// A `rejected` result saying why nothing ran.
    pub fn rejected(reason: impl Into<String>) -> JobResult {
        JobResult {
            reason: Some(reason.into()),
            ..JobResult::new(JobState::Rejected)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunScript {
    pub script_id: String,
    /// How long it may wait for an offline device (60 s to 14 days).
    #[serde(default)]
    pub ttl_s: Option<u64>,
    /// The ticket its result is attached to.
    #[serde(default)]
    pub ticket_id: Option<String>,
}
