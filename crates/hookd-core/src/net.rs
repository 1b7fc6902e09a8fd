//! Which network addresses hookd may call: public ones, plus whatever the operator allow-lists.
//!
//! Endpoint URLs come from users, so without this check hookd would fetch cloud metadata
//! (169.254.169.254), loopback admin ports and the operator's private network on their behalf.
//! The delivery worker vets every resolved address, and every IP-literal host, before it connects.
//! The ranges are those of webhooks.md §5; IPv6 forms that carry an IPv4 address are judged by it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

const FORBIDDEN_V4: [Ipv4Net; 15] = [
    v4(0, 0, 0, 0, 8),       // "this network"
    v4(10, 0, 0, 0, 8),      // private
    v4(100, 64, 0, 0, 10),   // carrier-grade NAT
    v4(127, 0, 0, 0, 8),     // loopback
    v4(169, 254, 0, 0, 16),  // link-local, cloud metadata
    v4(172, 16, 0, 0, 12),   // private
    v4(192, 0, 0, 0, 24),    // IETF protocol assignments
    v4(192, 0, 2, 0, 24),    // documentation
    v4(192, 88, 99, 0, 24),  // 6to4 relay anycast
    v4(192, 168, 0, 0, 16),  // private
    v4(198, 18, 0, 0, 15),   // benchmarking
    v4(198, 51, 100, 0, 24), // documentation
    v4(203, 0, 113, 0, 24),  // documentation
    v4(224, 0, 0, 0, 4),     // multicast
    v4(240, 0, 0, 0, 4),     // reserved, broadcast
];

/// IPv6 ranges blocked whole. `::`, `::1` and the forms embedding IPv4 are handled before these.
const FORBIDDEN_V6: [Ipv6Net; 8] = [
    v6([0x0100, 0, 0, 0, 0, 0, 0, 0], 64),      // discard
    v6([0x0064, 0xff9b, 1, 0, 0, 0, 0, 0], 48), // local-use NAT64, may translate to anything
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32),      // Teredo
    v6([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32), // documentation
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),       // unique local, incl. AWS fd00:ec2::254
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),      // link-local
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),      // site-local (deprecated)
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),       // multicast
];

/// Whether `ip` is private, loopback, link-local or otherwise reserved, so hookd must not call it
/// unless the operator allow-lists it.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => FORBIDDEN_V4.iter().any(|net| net.contains(&ip)),
        IpAddr::V6(ip) => is_forbidden_v6(ip),
    }
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    if let Some(embedded) = embedded_v4(ip) {
        return is_forbidden(IpAddr::V4(embedded));
    }
    FORBIDDEN_V6.iter().any(|net| net.contains(&ip))
}

/// The IPv4 address an IPv6 address reaches: IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated
/// `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4
/// `2002:aabb:ccdd::/48`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let [_, _, a6, b6, c6, d6, .., a, b, c, d] = ip.octets();
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _]
        | [0, 0, 0, 0, 0xffff, 0, _, _]
        | [0, 0, 0, 0, 0, 0, _, _]
        | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(Ipv4Addr::new(a, b, c, d)),
        [0x2002, ..] => Some(Ipv4Addr::new(a6, b6, c6, d6)),
        _ => None,
    }
}

/// The operator's list of networks hookd may call even though they are not public, for
/// self-hosters whose receivers live on a private network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    pub fn new(nets: Vec<IpNet>) -> Self {
        AllowList(nets)
    }

    /// Reads CIDRs such as `10.0.0.0/8` or `fd00::/8`; a bare address stands for itself alone.
    pub fn parse(items: &[String]) -> Result<Self, ipnet::AddrParseError> {
        let nets = items
            .iter()
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|err| item.parse::<IpAddr>().map(IpNet::from).map_err(|_| err))
            })
            .collect::<Result<_, _>>()?;
        Ok(AllowList(nets))
    }

    /// The networks listed.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether a listed network holds `ip`, or the IPv4 address that an IPv4-mapped `ip` stands for.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let unmapped = ip.to_canonical();
        self.0
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&unmapped))
    }
}

/// An address hookd refused to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "address {0} is not allowed (private, loopback or reserved range; the operator allows a \
     network with the option allowed_networks or serve's --allow-network)"
)]
pub struct ForbiddenAddress(pub IpAddr);

/// `Ok` if hookd may call `ip`: it is public, or the operator allow-listed it.
pub fn vet(ip: IpAddr, allow: &AllowList) -> Result<(), ForbiddenAddress> {
    if is_forbidden(ip) && !allow.contains(ip) {
        Err(ForbiddenAddress(ip))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn assert_forbidden(addresses: &[&str]) {
        for a in addresses {
            assert!(is_forbidden(ip(a)), "{a} should be forbidden");
        }
    }

    fn assert_allowed(addresses: &[&str]) {
        for a in addresses {
            assert!(!is_forbidden(ip(a)), "{a} should be allowed");
        }
    }

    #[test]
    fn every_blocked_ipv4_range_holds_its_edges_and_its_neighbours_are_public() {
        assert_forbidden(&[
            "0.0.0.0",
            "0.255.255.255",
            "10.0.0.0",
            "10.255.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.0.1",
            "169.254.169.254",
            "172.16.0.0",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.0.1",
            "192.168.255.255",
            "198.18.0.0",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
        ]);
        assert_allowed(&[
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.0.3.0",
            "192.88.98.255",
            "192.88.100.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "198.51.101.0",
            "203.0.112.255",
            "203.0.114.0",
            "223.255.255.255",
            "8.8.8.8",
        ]);
    }

    #[test]
    fn every_blocked_ipv6_range_holds_its_edges_and_its_neighbours_are_public() {
        assert_forbidden(&[
            "::",
            "::1",
            "100::1",
            "100::ffff:ffff:ffff:ffff",
            "64:ff9b:1::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "2001:db8:ffff::1",
            "fc00::1",
            "fdff:ffff::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf:ffff::1",
            "fec0::1",
            "feff::1",
            "ff02::1",
            "ffff::1",
        ]);
        assert_allowed(&[
            "100:0:0:1::",
            "64:ff9b:2::1",
            "2001:1::1",
            "2001:db9::1",
            "2001:db7:ffff::1",
            "fbff:ffff::1",
            "fe00::1",
            "fe7f:ffff::1",
            "2606:4700::1111",
            "2a00:1450:4001:81b::200e",
        ]);
    }

    #[test]
    fn ipv6_forms_of_a_blocked_ipv4_address_are_blocked() {
        assert_forbidden(&[
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0:127.0.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::127.0.0.1",
            "2002:7f00:1::",
            "2002:a00:1:1234::1",
            "2002:a9fe:a9fe::",
        ]);
    }

    #[test]
    fn ipv6_forms_of_a_public_ipv4_address_are_judged_by_it() {
        assert_allowed(&[
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ]);
    }

    #[test]
    fn public_addresses_pass_vetting() {
        let allow = AllowList::default();
        assert_eq!(vet(ip("8.8.8.8"), &allow), Ok(()));
        assert_eq!(vet(ip("2606:4700::1111"), &allow), Ok(()));
    }

    #[test]
    fn blocked_addresses_fail_vetting_with_a_message_naming_them() {
        let err = vet(ip("169.254.169.254"), &AllowList::default()).unwrap_err();
        assert_eq!(err, ForbiddenAddress(ip("169.254.169.254")));
        let text = err.to_string();
        assert!(
            text.starts_with(
                "address 169.254.169.254 is not allowed (private, loopback or reserved range"
            ),
            "{text}"
        );
        assert!(
            text.contains("allowed_networks") && text.contains("--allow-network"),
            "the message says how an operator allows it: {text}"
        );
    }

    #[test]
    fn an_allow_list_lets_its_networks_through_in_either_ip_version() {
        let allow = AllowList::parse(&["127.0.0.0/8".to_owned()]).unwrap();
        assert_eq!(vet(ip("127.0.0.1"), &allow), Ok(()));
        assert_eq!(vet(ip("::ffff:127.0.0.1"), &allow), Ok(()));
        assert_eq!(
            vet(ip("10.0.0.1"), &allow),
            Err(ForbiddenAddress(ip("10.0.0.1")))
        );
        assert_eq!(vet(ip("::1"), &allow), Err(ForbiddenAddress(ip("::1"))));
    }

    #[test]
    fn an_allow_list_parses_cidrs_and_bare_addresses_and_refuses_junk() {
        let items = ["fd00::/8".to_owned(), "192.168.1.10".to_owned()];
        let allow = AllowList::parse(&items).unwrap();
        assert!(allow.contains(ip("fd12::1")));
        assert!(allow.contains(ip("192.168.1.10")));
        assert!(!allow.contains(ip("192.168.1.11")));
        assert!(AllowList::parse(&["10.0.0.0/33".to_owned()]).is_err());
        assert!(AllowList::parse(&["localhost".to_owned()]).is_err());
    }
}
