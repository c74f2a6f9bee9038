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
