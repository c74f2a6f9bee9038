//! Gathers `Measurements` from the machine. Cheap probes (memory, load, disks,
//! processes) run on every evaluation; slow ones (pending updates, encryption,
//! firewall, battery) are cached for a while in `ProbeCache`.

use crate::parse::crash::crash_process_name;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use sysinfo::{
    Disks, MemoryRefreshKind, ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System,
};
use tend_shared::policy::Policy;

use super::{Measurements, MountSpace, Probe};
use crate::platform;

const UPDATES_TTL: Duration = Duration::from_secs(6 * 3600);
const SLOW_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
struct Cached<T> {
    at: Instant,
    value: T,
}

/// Results of slow probes, reused until they expire.
#[derive(Debug, Default)]
pub struct ProbeCache {
    updates: Option<Cached<Probe<Vec<String>>>>,
    encryption: Option<Cached<Probe<bool>>>,
    firewall: Option<Cached<Probe<(bool, String)>>>,
    clock: Option<Cached<Probe<bool>>>,
    battery: Option<Cached<Option<f64>>>,
    /// Crash folders from the agent config; `None` = the platform's.
    pub crash_dirs: Option<Vec<std::path::PathBuf>>,
}

fn cached<T: Clone>(slot: &mut Option<Cached<T>>, ttl: Duration, f: impl FnOnce() -> T) -> T {
    match slot {
        Some(c) if c.at.elapsed() < ttl => c.value.clone(),
        _ => {
            let value = f();
            *slot = Some(Cached {
                at: Instant::now(),
                value: value.clone(),
            });
            value
        }
    }
}

impl ProbeCache {
    /// A fresh cache scanning `dirs` for crash reports (`None`: the platform's).
    pub fn with_crash_dirs(dirs: Option<Vec<std::path::PathBuf>>) -> ProbeCache {
        ProbeCache {
            crash_dirs: dirs,
            ..ProbeCache::default()
        }
    }

    /// Forgets everything (used by "run health now").
    pub fn clear(&mut self) {
        *self = ProbeCache {
            crash_dirs: self.crash_dirs.take(),
            ..ProbeCache::default()
        };
    }
}

/// Crash reports in `dir` modified after `since`: (process, file name).
pub fn scan_crashes_at(dir: &Path, since: SystemTime) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = entries
        .flatten()
        .filter(|e| {
            e.metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .is_some_and(|t| t >= since)
        })
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            crash_process_name(&name).map(|p| (p, name))
        })
        .collect();
    out.sort();
    out
}

/// Free space of `mount`, from the mounted filesystems.
pub fn mount_space(disks: &Disks, mount: &str) -> Probe<MountSpace> {
    disks
        .list()
        .iter()
        .find(|d| d.mount_point() == Path::new(mount))
        .map(|d| MountSpace {
            mount: mount.to_string(),
            free_bytes: d.available_space(),
            total_bytes: d.total_space(),
        })
        .ok_or_else(|| format!("{mount} is not mounted"))
}

/// Measures everything the policy's enabled checks need. Blocking.
pub fn measure(policy: &Policy, cache: &mut ProbeCache) -> Measurements {
    use tend_shared::policy::checks as k;
    let on = |kind: &str| policy.check(kind).enabled;
    let mut sys = System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::everything()),
    );
    let total = sys.total_memory();
    let memory_available_pct =
        (total > 0).then(|| sys.available_memory() as f64 / total as f64 * 100.0);
    let swap_used_pct =
        (sys.total_swap() > 0).then(|| sys.used_swap() as f64 / sys.total_swap() as f64 * 100.0);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    let load = System::load_average();
    let load15_per_core = (load.fifteen >= 0.0).then(|| load.fifteen / cores);

    let disks = if on(k::DISK_FREE) {
        let list = Disks::new_with_refreshed_list();
        policy
            .disk_mounts
            .iter()
            .map(|m| (m.clone(), mount_space(&list, m)))
            .collect()
    } else {
        Vec::new()
    };
    let processes: BTreeSet<String> =
        if on(k::PROCESS_REQUIRED) && !policy.required_processes.is_empty() {
            sys.refresh_processes_specifics(
                ProcessesToUpdate::All,
                true,
                ProcessRefreshKind::nothing(),
            );
            sys.processes()
                .values()
                .map(|p| p.name().to_string_lossy().into_owned())
                .collect()
        } else {
            BTreeSet::new()
        };
    let recent_crashes = if on(k::CRASH_RECENT) {
        let since = SystemTime::now() - Duration::from_secs(86_400);
        Ok(cache
            .crash_dirs
            .clone()
            .unwrap_or_else(platform::crash_dirs)
            .iter()
            .flat_map(|d| scan_crashes_at(d, since))
            .collect())
    } else {
        Ok(Vec::new())
    };
    fn off<T>() -> Probe<T> {
        Err("check disabled".to_string())
    }
    Measurements {
        disks,
        memory_available_pct,
        load15_per_core,
        swap_used_pct,
        battery_health_pct: if on(k::BATTERY_HEALTH) {
            cached(&mut cache.battery, SLOW_TTL, || {
                platform::battery().and_then(|b| b.health_percent)
            })
        } else {
            None
        },
        uptime_days: System::uptime() as f64 / 86_400.0,
        pending_updates: if on(k::OS_UPDATES) {
            cached(&mut cache.updates, UPDATES_TTL, platform::pending_updates)
        } else {
            off()
        },
        disk_encrypted: if on(k::DISK_ENCRYPTION) {
            cached(&mut cache.encryption, SLOW_TTL, platform::disk_encrypted)
        } else {
            off()
        },
        firewall_enabled: if on(k::FIREWALL) {
            cached(&mut cache.firewall, SLOW_TTL, platform::firewall)
        } else {
            off()
        },
        clock_synchronised: if on(k::CLOCK_SYNC) {
            cached(&mut cache.clock, SLOW_TTL, platform::clock_synchronised)
        } else {
            off()
        },
        processes,
        recent_crashes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_file_names() {
        assert_eq!(
            crash_process_name("_usr_bin_gedit.1000.crash").as_deref(),
            Some("gedit")
        );
        assert_eq!(
            crash_process_name("core.firefox.1000.3f2a.4242.1700000000000000.zst").as_deref(),
            Some("firefox")
        );
        assert_eq!(
            crash_process_name("Finder_2024-03-21-101010_Jamies-MacBook-Pro.ips").as_deref(),
            Some("Finder")
        );
        assert_eq!(
            crash_process_name("CrashingTest-2022-06-10-123456.crash").as_deref(),
            Some("CrashingTest")
        );
        assert_eq!(
            crash_process_name("Google Chrome Helper_2024-01-02-030405_host.ips").as_deref(),
            Some("Google Chrome Helper")
        );
        assert_eq!(crash_process_name("notes.txt"), None);
    }

    #[test]
    fn scans_only_recent_reports() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("_usr_bin_vim.0.crash"), "x").unwrap();
        std::fs::write(dir.path().join("README"), "x").unwrap();
        let found = scan_crashes_at(dir.path(), SystemTime::now() - Duration::from_secs(60));
        assert_eq!(
            found,
            vec![("vim".to_string(), "_usr_bin_vim.0.crash".to_string())]
        );
        assert!(
            scan_crashes_at(dir.path(), SystemTime::now() + Duration::from_secs(60)).is_empty()
        );
        assert!(scan_crashes_at(&dir.path().join("missing"), SystemTime::UNIX_EPOCH).is_empty());
    }

    #[test]
    fn measures_this_machine() {
        let p = Policy::default();
        let m = measure(&p, &mut ProbeCache::default());
        assert!(m
            .memory_available_pct
            .is_some_and(|v| v > 0.0 && v <= 100.0));
        let (mount, root) = &m.disks[0];
        assert_eq!(mount, "/");
        assert!(root.as_ref().is_ok_and(|s| s.total_bytes > 0));
        assert!(m.uptime_days >= 0.0);
        assert_eq!(
            super::super::evaluate(&p, &m).len(),
            11,
            "process.required is skipped with an empty list"
        );
    }
}
