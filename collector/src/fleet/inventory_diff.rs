//! What changed between two inventories, as device events an asset manager cares
//! about: RAM, disks, serial, OS version, hostname, CPU, and software counts.

use std::collections::BTreeMap;

use tend_shared::inventory::Inventory;

/// One noteworthy change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: &'static str,
    pub message: String,
    pub data: serde_json::Value,
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// Changes from `old` to `new`, in a stable order.
pub fn changes(old: &Inventory, new: &Inventory) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |kind, message: String, data| {
        out.push(Change {
            kind,
            message,
            data,
        })
    };
    if old.memory.total_bytes != new.memory.total_bytes {
        push(
            "inventory.memory_changed",
            format!(
                "memory {} → {}",
                gib(old.memory.total_bytes),
                gib(new.memory.total_bytes)
            ),
            serde_json::json!({"from": old.memory.total_bytes, "to": new.memory.total_bytes}),
        );
    }
    if old.hardware.serial != new.hardware.serial {
        push(
            "inventory.serial_changed",
            format!(
                "serial {:?} → {:?}",
                old.hardware.serial, new.hardware.serial
            ),
            serde_json::json!({"from": old.hardware.serial, "to": new.hardware.serial}),
        );
    }
    if (&old.os.name, &old.os.version, &old.os.build)
        != (&new.os.name, &new.os.version, &new.os.build)
    {
        push(
            "inventory.os_changed",
            format!(
                "OS {} {} → {} {}",
                old.os.name, old.os.version, new.os.name, new.os.version
            ),
            serde_json::json!({"from": old.os, "to": new.os}),
        );
    }
    if old.os.kernel != new.os.kernel && old.os.version == new.os.version {
        push(
            "inventory.kernel_changed",
            format!("kernel {} → {}", old.os.kernel, new.os.kernel),
            serde_json::json!({"from": old.os.kernel, "to": new.os.kernel}),
        );
    }
    if old.hostname != new.hostname {
        push(
            "inventory.hostname_changed",
            format!("hostname {} → {}", old.hostname, new.hostname),
            serde_json::json!({"from": old.hostname, "to": new.hostname}),
        );
    }
    if old.cpu.model != new.cpu.model || old.cpu.logical_cores != new.cpu.logical_cores {
        push(
            "inventory.cpu_changed",
            format!(
                "CPU {} ({} threads) → {} ({} threads)",
                old.cpu.model, old.cpu.logical_cores, new.cpu.model, new.cpu.logical_cores
            ),
            serde_json::json!({"from": old.cpu, "to": new.cpu}),
        );
    }
    let disks = |inv: &Inventory| -> BTreeMap<String, (u64, String)> {
        inv.disks
            .iter()
            .map(|d| (d.mount.clone(), (d.total_bytes, d.device.clone())))
            .collect()
    };
    let (od, nd) = (disks(old), disks(new));
    for (mount, (size, dev)) in &nd {
        match od.get(mount) {
            None => push(
                "inventory.disk_added",
                format!("disk {mount} ({dev}, {}) added", gib(*size)),
                serde_json::json!({"mount": mount, "device": dev, "total_bytes": size}),
            ),
            Some((old_size, _)) if old_size != size => push(
                "inventory.disk_resized",
                format!("disk {mount} {} → {}", gib(*old_size), gib(*size)),
                serde_json::json!({"mount": mount, "from": old_size, "to": size}),
            ),
            Some(_) => {}
        }
    }
    for (mount, (size, dev)) in &od {
        if !nd.contains_key(mount) {
            push(
                "inventory.disk_removed",
                format!("disk {mount} ({dev}, {}) removed", gib(*size)),
                serde_json::json!({"mount": mount, "device": dev, "total_bytes": size}),
            );
        }
    }
    let pkgs = |inv: &Inventory| -> BTreeMap<String, String> {
        inv.software
            .iter()
            .map(|p| (format!("{}:{}", p.source, p.name), p.version.clone()))
            .collect()
    };
    let (op, np) = (pkgs(old), pkgs(new));
    let installed: Vec<&String> = np.keys().filter(|k| !op.contains_key(*k)).collect();
    let removed: Vec<&String> = op.keys().filter(|k| !np.contains_key(*k)).collect();
    let updated: Vec<&String> = np
        .iter()
        .filter(|(k, v)| op.get(*k).is_some_and(|ov| ov != *v))
        .map(|(k, _)| k)
        .collect();
    if !(installed.is_empty() && removed.is_empty() && updated.is_empty()) {
        // name the packages when few, count them when many
        let sample = |v: &[&String]| v.iter().take(20).map(|s| s.to_string()).collect::<Vec<_>>();
        push(
            "inventory.software_changed",
            format!(
                "software: {} installed, {} removed, {} updated",
                installed.len(),
                removed.len(),
                updated.len()
            ),
            serde_json::json!({"installed": sample(&installed), "removed": sample(&removed), "updated": sample(&updated),
                "counts": {"installed": installed.len(), "removed": removed.len(), "updated": updated.len()}}),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use tend_shared::inventory::{Disk, Package};

    use super::*;

    #[test]
    fn reports_hardware_and_software_changes() {
        let mut a = Inventory::default();
        a.memory.total_bytes = 8 << 30;
        a.os.version = "12".into();
        a.disks.push(Disk {
            mount: "/".into(),
            total_bytes: 100 << 30,
            ..Default::default()
        });
        a.software.push(Package {
            name: "curl".into(),
            version: "7".into(),
            source: "dpkg".into(),
        });
        let mut b = a.clone();
        b.memory.total_bytes = 16 << 30;
        b.os.version = "13".into();
        b.disks.push(Disk {
            mount: "/data".into(),
            total_bytes: 1 << 40,
            ..Default::default()
        });
        b.software[0].version = "8".into();
        b.hardware.serial = Some("X".into());
        let kinds: Vec<_> = changes(&a, &b).iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                "inventory.memory_changed",
                "inventory.serial_changed",
                "inventory.os_changed",
                "inventory.disk_added",
                "inventory.software_changed"
            ]
        );
        assert!(changes(&a, &a).is_empty());
        // free space alone is not a change
        let mut c = a.clone();
        c.disks[0].free_bytes = 1;
        assert!(changes(&a, &c).is_empty());
    }
}
