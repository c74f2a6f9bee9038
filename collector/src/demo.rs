//! `tend-collector demo`: a collector on an embedded store in `./tend-data` with this
//! machine's real agent enrolled in-process, for a first look.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tend_agent::state::StateDir;
use tend_shared::api::Role;

use crate::clock::SystemClock;
use crate::server::{Collector, ServeError};
use crate::state::Limits;

/// What the demo prints once it is up.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    pub url: String,
    pub ca_path: PathBuf,
    pub analyst_token: String,
    pub admin_token: Option<String>,
    pub device_id: String,
}

/// Demo failures.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("enrolling the local agent: {0}")]
    Enroll(#[from] tend_agent::enroll::EnrollError),
    #[error("agent state: {0}")]
    AgentState(#[from] tend_agent::state::StateError),
    #[error("{0}")]
    Other(String),
}

/// Reads the demo's analyst token, creating it on the first run.
fn analyst_token(collector: &Collector, data: &Path) -> Result<String, DemoError> {
    let path = data.join("demo-analyst.token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        if collector
            .state
            .store
            .token(t.trim())
            .ok()
            .flatten()
            .is_some()
        {
            return Ok(t.trim().to_string());
        }
    }
    let t = crate::service::tokens::create(
        &collector.state.store,
        collector.state.now_ms(),
        Role::Analyst,
        "demo-analyst",
        "system",
    )
    .map_err(|e| DemoError::Other(e.to_string()))?;
    crate::pki::write_private(&path, t.as_bytes()).map_err(ServeError::from)?;
    Ok(t)
}

/// Starts everything; returns once both run. `shutdown` stops them.
pub async fn start(
    data: &Path,
    listen: &str,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(DemoInfo, tokio::task::JoinHandle<()>), DemoError> {
    let collector = Collector::open(data, &[], Arc::new(SystemClock), Limits::default())?;
    let listener = std::net::TcpListener::bind(listen).map_err(|source| DemoError::Bind {
        addr: listen.into(),
        source,
    })?;
    let port = listener
        .local_addr()
        .map_err(|source| DemoError::Bind {
            addr: listen.into(),
            source,
        })?
        .port();
    let url = format!("https://127.0.0.1:{port}");
    let analyst = analyst_token(&collector, data)?;
    let admin_token = collector.initial_admin_token.clone();
    collector
        .state
        .store
        .flush()
        .await
        .map_err(ServeError::from)?;
    let bundle = crate::pki::bundle(data, &url).map_err(ServeError::from)?;

    let mut rx = shutdown.clone();
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|v| *v).await;
        };
        if let Err(e) = collector.run(listener, stop).await {
            tracing::error!(error = %e, "collector stopped");
        }
    });

    // enroll (again, if the port or CA changed) and run the real agent in-process
    let agent_state = StateDir::open(&data.join("agent"))?;
    let current = agent_state.credentials().ok();
    let device_id = match current {
        Some(c) if c.server_url == bundle.server_url && c.ca_pem == bundle.ca_pem => c.device_id,
        _ => {
            tend_agent::enroll::enroll(&bundle, &agent_state)
                .await?
                .device_id
        }
    };
    let mut rx = shutdown.clone();
    let agent = tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|v| *v).await;
        };
        if let Err(e) = tend_agent::daemon::run(agent_state, stop).await {
            tracing::error!(error = %e, "local agent stopped");
        }
    });
    let both = tokio::spawn(async move {
        let _ = agent.await;
        let _ = server.await;
    });
    Ok((
        DemoInfo {
            url,
            ca_path: data.join("ca.pem"),
            analyst_token: analyst,
            admin_token,
            device_id,
        },
        both,
    ))
}
