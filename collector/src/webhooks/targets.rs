//! Where webhooks may go. A webhook URL is an admin's choice but the request comes
//! from inside the collector's network, so it is an SSRF unless guarded:
//!
//! - the host is resolved at registration and **again at every connection** (DNS can
//!   change after registration): every address it resolves to must be allowed;
//! - link-local (cloud metadata at 169.254.169.254), unspecified, multicast and
//!   reserved addresses are always refused;
//! - loopback only when the operator's `allow_http_loopback_webhooks` allows it (tests,
//!   a local relay), private networks (RFC 1918, CGNAT, IPv6 ULA) only when an admin
//!   sets `allow_private_targets` (an on-premises ITSM);
//! - redirects are never followed (a 3xx is a failed delivery naming its `Location`).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tend_shared::net::{classify, IpClass};

/// What the collector currently allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_private: bool,
    pub allow_loopback: bool,
}

impl TargetPolicy {
    /// Whether a connection to `ip` is allowed; why not otherwise.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        let class = classify(ip);
        let ok = match class {
            IpClass::Public => true,
            IpClass::Loopback => self.allow_loopback,
            IpClass::Private => self.allow_private,
            IpClass::LinkLocal | IpClass::Unusable => false,
        };
        if ok {
            return Ok(());
        }
        Err(match class {
            IpClass::Private => format!(
                "{ip} is a private address: an admin allows private targets in the security settings (allow_private_targets) for an on-premises receiver"
            ),
            IpClass::Loopback => format!("{ip} is a loopback address: webhooks do not go to the collector's own host"),
            other => format!("{ip} is a {} address: webhooks never go there", other.as_str()),
        })
    }
}

/// The policy as the collector's settings say now.
pub async fn current(state: &crate::state::AppState) -> TargetPolicy {
    let allow_private = crate::settings::security(state)
        .await
        .map(|s| s.allow_private_targets)
        .unwrap_or(false);
    TargetPolicy {
        allow_private,
        allow_loopback: state.limits.allow_http_loopback_webhooks,
    }
}

/// Resolves `url`'s host (or takes its literal address) and checks every address.
pub async fn check_url(url: &reqwest::Url, policy: TargetPolicy) -> Result<(), String> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(d)) => resolve(d, port)
            .await?
            .into_iter()
            .map(|a| a.ip())
            .collect(),
        None => return Err("the url has no host".into()),
    };
    addrs.into_iter().try_for_each(|ip| policy.check(ip))
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let found = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((host, port)),
    )
    .await
    .map_err(|_| format!("resolving {host} timed out"))?
    .map_err(|e| format!("{host} does not resolve: {e}"))?;
    let v: Vec<SocketAddr> = found.collect();
    if v.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    Ok(v)
}

/// A DNS resolver for the webhook client that refuses what the policy refuses, at
/// connection time.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    pub policy: Arc<RwLock<TargetPolicy>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = *self.policy.read().unwrap_or_else(|p| p.into_inner());
        Box::pin(async move {
            let addrs = resolve(name.as_str(), 0).await?;
            if let Some(why) = addrs.iter().find_map(|a| policy.check(a.ip()).err()) {
                return Err(format!("{}: {why}", name.as_str()).into());
            }
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literal_and_resolved_hosts_are_checked() {
        let strict = TargetPolicy::default();
        for url in [
            "https://127.0.0.1:8443/x",
            "https://localhost/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://0.0.0.0/x",
        ] {
            let u = reqwest::Url::parse(url).unwrap();
            assert!(check_url(&u, strict).await.is_err(), "{url}");
        }
        let public = reqwest::Url::parse("https://93.184.215.14/hook").unwrap();
        assert!(check_url(&public, strict).await.is_ok());
        // an on-premises ITSM: private allowed, metadata and loopback still not
        let onprem = TargetPolicy {
            allow_private: true,
            allow_loopback: false,
        };
        let u = reqwest::Url::parse("https://10.0.0.1/x").unwrap();
        assert!(check_url(&u, onprem).await.is_ok());
        for url in ["https://169.254.169.254/", "https://localhost/"] {
            let u = reqwest::Url::parse(url).unwrap();
            assert!(check_url(&u, onprem).await.is_err(), "{url}");
        }
    }
}
