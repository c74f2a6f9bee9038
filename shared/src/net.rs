//! What kind of network an address is on, for the code that connects to addresses
//! someone else chose: the collector's webhooks (an admin's URL, resolved again at
//! every connection) and the agent's `http` diagnostic (an analyst's URL). Both refuse
//! link-local (cloud metadata at 169.254.169.254) and, unless told otherwise,
//! loopback and private networks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpClass {
    /// Routable on the internet.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 169.254.0.0/16, fe80::/10: cloud metadata services live here.
    LinkLocal,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7 (ULA).
    Private,
    /// 0.0.0.0, ::, multicast, broadcast, 240/4 and other addresses nobody serves
    /// webhooks on.
    Unusable,
}

impl IpClass {
    pub fn as_str(self) -> &'static str {
        match self {
            IpClass::Public => "public",
            IpClass::Loopback => "loopback",
            IpClass::LinkLocal => "link-local",
            IpClass::Private => "private",
            IpClass::Unusable => "unspecified, multicast or reserved",
        }
    }
}

fn v4(ip: Ipv4Addr) -> IpClass {
    let o = ip.octets();
    if ip.is_loopback() {
        IpClass::Loopback
    } else if ip.is_link_local() {
        IpClass::LinkLocal
    } else if ip.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
        IpClass::Private
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || o[0] >= 240
        || o[0] == 0
    {
        IpClass::Unusable
    } else {
        IpClass::Public
    }
}

fn v6(ip: Ipv6Addr) -> IpClass {
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms are their IPv4 address
    if let Some(m) = ip.to_ipv4_mapped() {
        return v4(m);
    }
    let s = ip.segments();
    if ip.is_loopback() {
        IpClass::Loopback
    } else if s[0] & 0xffc0 == 0xfe80 {
        IpClass::LinkLocal
    } else if s[0] & 0xfe00 == 0xfc00 {
        IpClass::Private
    } else if ip.is_unspecified() || ip.is_multicast() || (s[0..6] == [0; 6] && s[6] != 0) {
        // the last: deprecated IPv4-compatible ::a.b.c.d
        IpClass::Unusable
    } else {
        IpClass::Public
    }
}

/// The class of `ip`.
pub fn classify(ip: IpAddr) -> IpClass {
    match ip {
        IpAddr::V4(a) => v4(a),
        IpAddr::V6(a) => v6(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> IpClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn every_dangerous_range_is_named() {
        for (ip, want) in [
            ("127.0.0.1", IpClass::Loopback),
            ("127.9.9.9", IpClass::Loopback),
            ("::1", IpClass::Loopback),
            ("::ffff:127.0.0.1", IpClass::Loopback),
            ("169.254.169.254", IpClass::LinkLocal),
            ("fe80::1", IpClass::LinkLocal),
            ("::ffff:169.254.169.254", IpClass::LinkLocal),
            ("10.0.0.1", IpClass::Private),
            ("172.16.5.5", IpClass::Private),
            ("172.31.255.255", IpClass::Private),
            ("192.168.1.1", IpClass::Private),
            ("100.64.0.1", IpClass::Private),
            ("fd00::1", IpClass::Private),
            ("fc12::1", IpClass::Private),
            ("0.0.0.0", IpClass::Unusable),
            ("::", IpClass::Unusable),
            ("224.0.0.1", IpClass::Unusable),
            ("255.255.255.255", IpClass::Unusable),
            ("::7f00:1", IpClass::Unusable),
            ("93.184.215.14", IpClass::Public),
            ("172.32.0.1", IpClass::Public),
            ("100.128.0.1", IpClass::Public),
            ("2606:4700::1111", IpClass::Public),
        ] {
            assert_eq!(c(ip), want, "{ip}");
        }
    }
}
