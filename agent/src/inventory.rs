//! Collects the full inventory: sysinfo for what it covers (CPU, memory, disks,
//! interfaces, uptime), the platform layer for the rest (identity, OS, packages,
//! battery, logged-in users).

use std::collections::BTreeSet;

use sysinfo::{CpuRefreshKind, Disks, MemoryRefreshKind, Networks, RefreshKind, System};
use tend_shared::inventory::{Cpu, Disk, Inventory, Memory, NetInterface};

use crate::platform;

/// Filesystems that are not user storage.
const PSEUDO_FS: [&str; 14] = [
    "tmpfs",
    "devtmpfs",
    "overlay",
    "squashfs",
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devfs",
    "autofs",
    "nsfs",
    "efivarfs",
    "ramfs",
    "fuse.snapfuse",
];

/// True for mounts worth reporting (real filesystems, not pseudo or snap images).
pub fn is_real_mount(fs: &str, mount: &str) -> bool {
    !PSEUDO_FS.contains(&fs)
        && !mount.starts_with("/snap/")
        && !mount.starts_with("/proc")
        && !mount.starts_with("/sys")
        && !mount.starts_with("/run")
        && !mount.starts_with("/dev")
        && !mount.starts_with("/System/Volumes/VM")
        && !mount.starts_with("/System/Volumes/Preboot")
        && !mount.starts_with("/System/Volumes/Update")
        && !mount.starts_with("/System/Volumes/xarts")
        && !mount.starts_with("/System/Volumes/iSCPreboot")
        && !mount.starts_with("/System/Volumes/Hardware")
}

/// Mounted disks as the inventory reports them.
pub fn disks() -> Vec<Disk> {
    let disks = Disks::new_with_refreshed_list();
    let mut out: Vec<Disk> = disks
        .list()
        .iter()
        .map(|d| Disk {
            mount: d.mount_point().to_string_lossy().into_owned(),
            device: d.name().to_string_lossy().into_owned(),
            filesystem: d.file_system().to_string_lossy().into_owned(),
            total_bytes: d.total_space(),
            free_bytes: d.available_space(),
            removable: d.is_removable(),
        })
        .filter(|d| is_real_mount(&d.filesystem, &d.mount))
        .collect();
    out.sort_by(|a, b| a.mount.cmp(&b.mount));
    out.dedup_by(|a, b| a.mount == b.mount);
    out
}

fn network() -> Vec<NetInterface> {
    let nets = Networks::new_with_refreshed_list();
    let mut out: Vec<NetInterface> = nets
        .iter()
        .filter(|(name, _)| name.as_str() != "lo" && name.as_str() != "lo0")
        .map(|(name, data)| {
            let mac = data.mac_address().to_string();
            let mut addresses: Vec<String> = data
                .ip_networks()
                .iter()
                .map(|n| format!("{}/{}", n.addr, n.prefix))
                .collect();
            addresses.sort();
            NetInterface {
                name: name.clone(),
                mac: (mac != "00:00:00:00:00:00").then_some(mac),
                addresses,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Collects everything. Takes a few tens of milliseconds; blocking.
pub fn collect() -> Inventory {
    let sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_memory(MemoryRefreshKind::everything())
            .with_cpu(CpuRefreshKind::nothing()),
    );
    let cpus = sys.cpus();
    let mut users: Vec<String> = platform::logged_in_users()
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    users.retain(|u| !u.is_empty());
    Inventory {
        collected_at_ms: tend_shared::now_ms(),
        hostname: platform::hostname(),
        os: platform::os_info(),
        hardware: platform::hardware(),
        cpu: Cpu {
            model: cpus
                .first()
                .map(|c| c.brand().trim().to_string())
                .unwrap_or_default(),
            physical_cores: System::physical_core_count().map(|n| n as u32),
            logical_cores: cpus.len() as u32,
        },
        memory: Memory {
            total_bytes: sys.total_memory(),
            swap_total_bytes: sys.total_swap(),
        },
        disks: disks(),
        network: network(),
        battery: platform::battery(),
        users,
        uptime_s: System::uptime(),
        software: platform::software(),
        agent_version: crate::VERSION.to_string(),
    }
}
