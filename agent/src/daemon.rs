//! `tend-agent run`: the check-in loop.

use std::future::Future;
use std::time::Duration;

use tend_shared::checkin::{CheckinRequest, CheckinResponse};

use crate::state::{StateDir, StateError, Status};
use crate::transport::{Client, TransportError};

/// Daemon failures that stop it (anything else is retried).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// One agent bound to its state dir.
pub struct Agent {
    state: StateDir,
    client: Client,
    sent_inventory_hash: Option<String>,
}

impl Agent {
    pub fn new(state: StateDir) -> Result<Agent, DaemonError> {
        let creds = state.credentials()?;
        let client = Client::new(&creds.server_url, &creds.ca_pem, Some(creds.device_token))?;
        Ok(Agent {
            state,
            client,
            sent_inventory_hash: None,
        })
    }

    /// Collects and sends one report.
    pub async fn checkin_once(&mut self) -> Result<CheckinResponse, DaemonError> {
        let inv = tokio::task::spawn_blocking(crate::inventory::collect)
            .await
            .unwrap_or_default();
        let hash = inv.content_hash();
        let policy = self.state.policy()?;
        let send_inventory = self.sent_inventory_hash.as_deref() != Some(hash.as_str());
        let req = CheckinRequest {
            agent_version: crate::VERSION.into(),
            inventory_hash: hash.clone(),
            inventory: send_inventory.then_some(inv),
            health: Vec::new(),
            events: Vec::new(),
            policy_version: policy.version,
            observed_at_ms: tend_shared::now_ms(),
        };
        let resp: CheckinResponse = self.client.post("/api/v1/checkin", &req).await?;
        self.sent_inventory_hash = (!resp.need_inventory).then_some(hash);
        if let Some(p) = &resp.policy {
            self.state.save_policy(p)?;
        }
        self.state.save_status(&Status {
            last_checkin_ms: tend_shared::now_ms(),
            policy_version: resp.policy_version,
            ..Default::default()
        })?;
        Ok(resp)
    }
}

/// Runs until `shutdown` resolves.
pub async fn run(state: StateDir, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    let mut agent = Agent::new(state.clone())?;
    tokio::pin!(shutdown);
    loop {
        if let Err(e) = agent.checkin_once().await {
            tracing::warn!(error = %e, "check-in failed");
        }
        let interval = state.policy().map(|p| p.checkin_interval_s).unwrap_or(60);
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(interval)) => {}
        }
    }
}
