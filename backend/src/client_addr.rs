//! The client's address behind reverse proxies. `X-Forwarded-For` and `Forwarded` are only
//! believed when the direct peer is a proxy the operator trusts (`TRUSTED_PROXIES`); anyone
//! else could write any address there and slip out of per-address limits.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses a comma-separated list of CIDRs or single addresses (`10.0.0.0/8, 192.0.2.7`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                IpNet::from_str(s)
                    .or_else(|_| IpAddr::from_str(s).map(IpNet::from))
                    .map_err(|_| format!("{s:?} is not an address or a CIDR like 10.0.0.0/8"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:192.0.2.7`) is that IPv4 address.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// Parses one hop of a forwarding header: `192.0.2.7`, `192.0.2.7:4711`, `[2001:db8::1]:4711`,
/// `"[2001:db8::1]"` or `2001:db8::1`. Obfuscated and `unknown` hops give `None`.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let hop = raw.trim().trim_matches('"');
    if let Ok(addr) = IpAddr::from_str(hop) {
        return Some(addr);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return IpAddr::from_str(rest.split(']').next()?).ok();
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    IpAddr::from_str(host).ok().filter(IpAddr::is_ipv4)
}

/// The `for=` hops of `Forwarded` headers (RFC 7239), in order; `None` for an unreadable hop.
fn forwarded_for(values: &[&str]) -> Vec<Option<IpAddr>> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value))
            })
        })
        .collect()
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the hops its
/// forwarding header lists are read from the nearest back, and the first that is not itself a
/// trusted proxy is the client (earlier hops were written by whoever sent the request and
/// prove nothing). `Forwarded` is read when present, else `X-Forwarded-For`. A hop that can't
/// be read stops the walk at the last address known.
pub fn client_address(
    peer: IpAddr,
    forwarded: &[&str],
    x_forwarded_for: &[&str],
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = if forwarded.is_empty() {
        x_forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .map(parse_hop)
            .collect()
    } else {
        forwarded_for(forwarded)
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop.map(canonical) {
            Some(addr) => {
                client = addr;
                if !trusted.contains(addr) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse("10.0.0.0/8, 192.0.2.7, fd00::/8").unwrap()
    }

    #[test]
    fn bad_lists_name_the_bad_entry() {
        let err = TrustedProxies::parse("10.0.0.0/8, not-a-net").unwrap_err();
        assert!(err.contains("not-a-net"), "{err}");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert_eq!(TrustedProxies::parse(" ").unwrap(), TrustedProxies::none());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_its_headers_say() {
        let peer = ip("203.0.113.9");
        assert_eq!(
            client_address(peer, &["for=198.51.100.1"], &["198.51.100.1"], &proxies()),
            peer
        );
        assert_eq!(
            client_address(peer, &[], &["198.51.100.1"], &TrustedProxies::none()),
            peer
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        assert_eq!(
            client_address(ip("10.1.2.3"), &[], &["198.51.100.1"], &proxies()),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_address(
                ip("::ffff:10.1.2.3"),
                &[],
                &["198.51.100.1:5000"],
                &proxies()
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn hops_written_by_the_client_are_not_believed() {
        // The client wrote "1.1.1.1"; the proxy appended the address it saw.
        assert_eq!(
            client_address(ip("10.1.2.3"), &[], &["1.1.1.1, 198.51.100.1"], &proxies()),
            ip("198.51.100.1")
        );
        // Two trusted proxies in a row: the hop before them is the client.
        assert_eq!(
            client_address(
                ip("10.1.2.3"),
                &[],
                &["1.1.1.1", "198.51.100.1, 10.9.9.9"],
                &proxies()
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn forwarded_is_read_and_preferred() {
        assert_eq!(
            client_address(
                ip("192.0.2.7"),
                &[r#"for=1.1.1.1, for="[2001:db8::1]:4711";proto=https"#],
                &["198.51.100.1"],
                &proxies()
            ),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_address(
                ip("192.0.2.7"),
                &["for=198.51.100.1:80;by=10.0.0.1"],
                &[],
                &proxies()
            ),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_known_address() {
        assert_eq!(
            client_address(ip("10.1.2.3"), &[], &["198.51.100.1, garbage"], &proxies()),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_address(ip("10.1.2.3"), &["for=unknown"], &[], &proxies()),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_address(ip("10.1.2.3"), &[], &[], &proxies()),
            ip("10.1.2.3")
        );
    }
}
