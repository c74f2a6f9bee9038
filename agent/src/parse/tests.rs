//! Every parser against every real fixture under `agent/fixtures/`, plus empty and
//! malformed inputs (an error, never a panic).

use super::linux as l;
use super::macos as m;
use super::ParseError;

fn fixture(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn macos_fixtures(prefix: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/macos");
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .map(|n| (n.clone(), fixture(&format!("macos/{n}"))))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures for {prefix}");
    v
}

const GARBAGE: [&str; 4] = ["", "   \n", "\u{0}\u{1}binary", "{\"unexpected\": true}"];

// ---------- Linux ----------

#[test]
fn os_release_debian() {
    let r = l::parse_os_release(&fixture("linux/os-release.debian12.txt")).unwrap();
    assert_eq!(r["NAME"], "Debian GNU/Linux");
    assert_eq!(r["VERSION_ID"], "12");
    assert_eq!(r["VERSION_CODENAME"], "bookworm");
    assert!(l::parse_os_release("").is_err());
}

#[test]
fn dpkg_status() {
    let p = l::parse_dpkg_status(&fixture("linux/dpkg-status.debian12-vm.head.txt")).unwrap();
    assert!(!p.is_empty());
    assert!(p
        .iter()
        .all(|p| p.source == "dpkg" && !p.name.is_empty() && !p.version.is_empty()));
    // deinstalled packages are skipped
    let text = "Package: a\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: b\nStatus: install ok installed\nVersion: 2\nArchitecture: i386\n";
    let p = l::parse_dpkg_status(text).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].name, "b:i386");
    for g in GARBAGE {
        assert!(l::parse_dpkg_status(g).is_err(), "{g:?}");
    }
}

#[test]
fn lsblk_and_luks() {
    let d = l::parse_lsblk(&fixture("linux/lsblk-J.debian12-vm.json")).unwrap();
    assert_eq!(l::mount_is_encrypted(&d, "/"), Some(false));
    assert_eq!(l::mount_is_encrypted(&d, "/home"), None);
    // a LUKS layout as lsblk prints it (crypt child of the partition)
    let luks = r#"{"blockdevices":[{"name":"nvme0n1","type":"disk","fstype":null,"mountpoint":null,"rm":"0","children":[
        {"name":"nvme0n1p2","type":"part","fstype":"crypto_LUKS","mountpoint":null,"rm":"0","children":[
            {"name":"luks-1","type":"crypt","fstype":"ext4","mountpoint":"/","rm":"0"}]}]}]}"#;
    let d = l::parse_lsblk(luks).unwrap();
    assert_eq!(l::mount_is_encrypted(&d, "/"), Some(true));
    for g in GARBAGE {
        assert!(l::parse_lsblk(g).is_err(), "{g:?}");
    }
}

#[test]
fn apt_simulate() {
    let p = l::parse_apt_simulate(&fixture("linux/apt-get-s-upgrade.debian12-vm.txt"));
    assert_eq!(p.len(), 80);
    assert!(p.contains(&"base-files".to_string()));
    assert!(l::parse_apt_simulate("").is_empty());
}

#[test]
fn loadavg() {
    let (a, b, c) = l::parse_loadavg(&fixture("linux/proc-loadavg.txt")).unwrap();
    assert!(a >= 0.0 && b >= 0.0 && c >= 0.0);
    assert!(matches!(
        l::parse_loadavg(""),
        Err(ParseError::Empty { .. })
    ));
    assert!(l::parse_loadavg("x y z").is_err());
}

#[test]
fn timedatectl_without_systemd_is_an_error() {
    assert!(
        l::parse_timedatectl_show(&fixture("linux/timedatectl-show.no-systemd.stderr.txt"))
            .is_err()
    );
    assert_eq!(
        l::parse_timedatectl_show("Timezone=UTC\nNTPSynchronized=yes\n"),
        Ok(true)
    );
    assert_eq!(l::parse_timedatectl_show("NTPSynchronized=no"), Ok(false));
}

#[test]
fn firewall_outputs() {
    assert_eq!(
        l::parse_ufw_status("Status: active\n\nTo Action From\n"),
        Ok(true)
    );
    assert_eq!(l::parse_ufw_status("Status: inactive\n"), Ok(false));
    assert!(l::parse_ufw_status("ERROR: You need to be root to run this script").is_err());
    assert_eq!(l::parse_firewalld_state("running\n"), Ok(true));
    assert_eq!(l::parse_firewalld_state("not running\n"), Ok(false));
    assert!(l::parse_firewalld_state("").is_err());
    assert!(!l::parse_nft_ruleset(""));
    assert!(l::parse_nft_ruleset("table inet filter {\n chain input {\n type filter hook input priority 0; policy drop;\n }\n}"));
}

#[test]
fn power_supply_uevent() {
    let kv = l::parse_power_supply_uevent(
        "POWER_SUPPLY_NAME=BAT0\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_STATUS=Discharging\nPOWER_SUPPLY_CYCLE_COUNT=312\n\
         POWER_SUPPLY_ENERGY_FULL_DESIGN=57000000\nPOWER_SUPPLY_ENERGY_FULL=45600000\nPOWER_SUPPLY_CAPACITY=77\n",
    );
    let b = crate::platform::battery_from_uevent(&kv);
    assert_eq!(b.state, "discharging");
    assert_eq!(b.cycle_count, Some(312));
    assert!((b.health_percent.unwrap() - 80.0).abs() < 0.01);
    assert_eq!(b.percent, Some(77.0));
}

#[test]
fn who_lines() {
    assert_eq!(
        super::parse_who("alice    console  Nov 23 09:00\nbob ttys001 Nov 23 09:01\n"),
        ["alice", "bob"]
    );
    assert!(super::parse_who("").is_empty());
}

// ---------- macOS ----------

#[test]
fn sw_vers_tabs_and_spaces() {
    for (name, text) in macos_fixtures("sw_vers.") {
        let v = m::parse_sw_vers(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            v["ProductVersion"].chars().next().unwrap().is_ascii_digit(),
            "{name}"
        );
        assert!(v.contains_key("BuildVersion"), "{name}");
    }
    let v = m::parse_sw_vers(&fixture("macos/sw_vers.13.3.1-rsr-a-tabs.txt")).unwrap();
    assert_eq!(v["ProductName"], "macOS");
    assert_eq!(v["ProductVersion"], "13.3.1");
    assert_eq!(v["ProductVersionExtra"], "(a)");
    let v = m::parse_sw_vers(&fixture(
        "macos/sw_vers.x86_64-10.12-beta-tabs-nonewline.txt",
    ))
    .unwrap();
    assert_eq!(v["ProductName"], "Mac OS X");
    assert_eq!(v["BuildVersion"], "16A239j");
    for g in GARBAGE {
        assert!(m::parse_sw_vers(g).is_err(), "{g:?}");
    }
}

#[test]
fn system_profiler_hardware_json() {
    let h = m::parse_sp_hardware_json(&fixture(
        "macos/system_profiler-SPHardwareDataType-json.m2-macbookair-mac14_2.json",
    ))
    .unwrap();
    assert_eq!(h.model_identifier.as_deref(), Some("Mac14,2"));
    assert_eq!(h.model_name.as_deref(), Some("MacBook Air"));
    assert_eq!(h.chip.as_deref(), Some("Apple M2"));
    assert_eq!(h.serial.as_deref(), Some("1234567890"));
    assert_eq!(
        h.platform_uuid.as_deref(),
        Some("12345678-1234-1234-1234-1234567890AB")
    );
    let vm = m::parse_sp_hardware_json(&fixture("macos/system_profiler-SPHardwareDataType-json.arm64-vm-virtualmac2_1-rosetta-chip-unknown.json")).unwrap();
    assert_eq!(vm.chip, None, "\"Unknown\" is no chip");
    assert_eq!(vm.serial.as_deref(), Some("ZNNF3941VQ"));
    for g in GARBAGE {
        assert!(m::parse_sp_hardware_json(g).is_err(), "{g:?}");
    }
}

#[test]
fn pmset_every_capture() {
    for (name, text) in macos_fixtures("pmset-g-batt.") {
        let b = m::parse_pmset_batt(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.contains("desktop-no-battery") {
            assert!(!b.present, "{name}");
            continue;
        }
        assert!(b.present, "{name}");
        assert!(
            b.percent.is_some_and(|p| (0.0..=100.0).contains(&p)),
            "{name}: {b:?}"
        );
        assert!(b.state.is_some(), "{name}");
    }
    let b = m::parse_pmset_batt(&fixture("macos/pmset-g-batt.battery-discharging.txt")).unwrap();
    assert_eq!(
        (b.source.as_str(), b.percent, b.state.as_deref()),
        ("Battery Power", Some(95.0), Some("discharging"))
    );
    let b = m::parse_pmset_batt(&fixture(
        "macos/pmset-g-batt.arm64-m1-bigsur.ac-attached-not-charging.txt",
    ))
    .unwrap();
    assert_eq!(
        (b.percent, b.state.as_deref()),
        (Some(80.0), Some("not_charging"))
    );
    let b = m::parse_pmset_batt(&fixture(
        "macos/pmset-g-batt.legacy-2015.ac-attached-not-charging.txt",
    ))
    .unwrap();
    assert_eq!(
        (b.percent, b.state.as_deref()),
        (Some(2.0), Some("not_charging"))
    );
    let b = m::parse_pmset_batt(&fixture(
        "macos/pmset-g-batt.intel-10.13.6.ac-charged-100.txt",
    ))
    .unwrap();
    assert_eq!(
        (b.percent, b.state.as_deref()),
        (Some(100.0), Some("charged"))
    );
    for g in GARBAGE {
        assert!(m::parse_pmset_batt(g).is_err(), "{g:?}");
    }
}

#[test]
fn system_profiler_power_text() {
    let p = m::parse_sp_power_text(&fixture(
        "macos/system_profiler-SPPowerDataType.intel-charging.txt",
    ))
    .unwrap();
    assert_eq!(p.cycle_count, Some(125));
    assert_eq!(p.condition.as_deref(), Some("Normal"));
    assert_eq!(p.full_charge_capacity_mah, Some(4069.0));
    let p = m::parse_sp_power_text(&fixture(
        "macos/system_profiler-SPPowerDataType.intel-10.11-on-battery.txt",
    ))
    .unwrap();
    assert_eq!(p.cycle_count, Some(552));
    let p = m::parse_sp_power_text(&fixture("macos/system_profiler-SPHardware-SPMemory-SPPower-SPSoftware-etc.m1-macbookair10_1-11.2.3.txt")).unwrap();
    assert_eq!(p.cycle_count, Some(1));
    assert_eq!(p.maximum_capacity_percent, Some(100.0));
    for g in GARBAGE {
        assert!(m::parse_sp_power_text(g).is_err(), "{g:?}");
    }
}

#[test]
fn fdesetup() {
    assert_eq!(
        m::parse_fdesetup_status(&fixture(
            "macos/fdesetup-status.on-master-keychain.10.15.6.txt"
        )),
        Ok(true)
    );
    assert_eq!(
        m::parse_fdesetup_status(&fixture(
            "macos/fdesetup-status.off-deferred-restart-pending.10.12-beta.txt"
        )),
        Ok(false)
    );
    for g in GARBAGE {
        assert!(m::parse_fdesetup_status(g).is_err(), "{g:?}");
    }
}

#[test]
fn softwareupdate_every_capture() {
    for (name, text) in macos_fixtures("softwareupdate-l") {
        let r = m::parse_softwareupdate(&text);
        if name.contains("scan-error") {
            assert!(r.is_err(), "{name}");
        } else if name.contains("no-updates") {
            assert_eq!(r.unwrap(), vec![], "{name}");
        } else {
            assert!(
                !r.unwrap_or_else(|e| panic!("{name}: {e}")).is_empty(),
                "{name}"
            );
        }
    }
    let u = m::parse_softwareupdate(&fixture(
        "macos/softwareupdate-l.one-update-ventura-13.3.1.txt",
    ))
    .unwrap();
    assert_eq!(u[0].label, "macOS Ventura 13.3.1-22E261");
    assert_eq!(u[0].title.as_deref(), Some("macOS Ventura 13.3.1"));
    assert_eq!(u[0].version.as_deref(), Some("13.3.1"));
    assert!(u[0].restart && u[0].recommended);
    let u = m::parse_softwareupdate(&fixture(
        "macos/softwareupdate-l-no-scan.multiple-updates-clt-and-beta.txt",
    ))
    .unwrap();
    assert_eq!(u.len(), 2);
    assert!(!u[0].restart && u[1].restart);
    for g in GARBAGE {
        assert!(m::parse_softwareupdate(g).is_err(), "{g:?}");
    }
}

#[test]
fn socketfilterfw() {
    for (name, text) in macos_fixtures("socketfilterfw-getglobalstate") {
        assert_eq!(m::parse_socketfilterfw_state(&text), Ok(true), "{name}");
    }
    for g in GARBAGE {
        assert!(m::parse_socketfilterfw_state(g).is_err(), "{g:?}");
    }
}

#[test]
fn network_time() {
    assert_eq!(
        m::parse_systemsetup_network_time(&fixture(
            "macos/systemsetup-getusingnetworktime.on.documented-stig.txt"
        )),
        Ok(true)
    );
    let off =
        m::parse_sntp_offset(&fixture("macos/sntp-sS-pool.ntp.org.10.14-mojave.txt")).unwrap();
    assert!((off - 1087.742403).abs() < 1e-6);
    for g in GARBAGE {
        assert!(m::parse_systemsetup_network_time(g).is_err(), "{g:?}");
        assert!(m::parse_sntp_offset(g).is_err(), "{g:?}");
    }
}

#[test]
fn applications_xml() {
    let apps = m::parse_sp_applications_xml(
        fixture(
            "macos/system_profiler-SPApplicationsDataType-xml.arm64-sonoma-fr.trimmed-6-apps.xml",
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(apps.len(), 6);
    assert!(
        apps.iter()
            .any(|a| a.name == "Finder" && a.version == "14.4"),
        "{apps:?}"
    );
    assert!(apps.iter().all(|a| a.source == "app"));
    for g in GARBAGE {
        assert!(m::parse_sp_applications_xml(g.as_bytes()).is_err(), "{g:?}");
    }
}

#[test]
fn crash_report_names() {
    use crate::parse::crash::crash_process_name;
    // the fixture files are named as their sources named them; real reports carry the
    // process name first, as in the .ips header's app_name
    let ips = fixture("macos/crash-report.intel-macmini7_1-12.4.CrashingTest.ips");
    let header: serde_json::Value = serde_json::from_str(ips.lines().next().unwrap()).unwrap();
    let app = header["app_name"].as_str().unwrap();
    assert_eq!(
        crash_process_name(&format!("{app}-2022-06-10-101112.ips")).as_deref(),
        Some(app)
    );
}

#[test]
fn proc_net_route_and_tcp() {
    let r = l::parse_proc_net_route(&fixture("linux/proc-net-route.txt")).unwrap();
    let default = r
        .iter()
        .find(|x| x.destination == "0.0.0.0")
        .expect("a default route");
    assert_eq!(default.gateway, "192.0.2.1");
    assert_eq!(default.iface, "eth0");
    assert!(l::parse_proc_net_route("").is_err());
    assert!(l::parse_proc_net_route("garbage\n").is_err());
    let t = l::parse_proc_net_tcp_listen(&fixture("linux/proc-net-tcp.txt")).unwrap();
    assert!(t.contains(&("0.0.0.0".to_string(), 2024, 0, 1059)), "{t:?}");
    assert!(
        l::parse_proc_net_tcp_listen(&fixture("linux/proc-net-tcp6.txt"))
            .unwrap()
            .is_empty()
    );
    assert!(l::parse_proc_net_tcp_listen("").is_err());
}
