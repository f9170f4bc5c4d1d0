//! Which address the request came from: the TCP peer, unless the peer is a configured trusted
//! proxy, in which case `X-Forwarded-For` is walked from the right, skipping trusted hops, and the
//! first untrusted address is the client. Later IP-based rules (allow/deny lists, rate limits by IP)
//! see the result.
//!
//! Also decides the `X-Forwarded-For` value sent upstream: the received chain plus the peer when
//! the peer is trusted; only the peer otherwise (a client's own header is never believed).

use std::net::IpAddr;

use crate::config::Cidr;

/// Whether `ip` falls in one of the trusted proxy networks.
pub fn is_trusted(ip: IpAddr, trusted: &[Cidr]) -> bool {
    trusted.iter().any(|c| c.contains(ip))
}

/// The client address for a request from `peer` carrying `forwarded_for` (the raw XFF value).
pub fn resolve(peer: IpAddr, forwarded_for: Option<&[u8]>, trusted: &[Cidr]) -> IpAddr {
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let Some(chain) = forwarded_for.and_then(|v| std::str::from_utf8(v).ok()) else {
        return peer;
    };
    let mut client = peer;
    for hop in chain.rsplit(',') {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip, trusted) {
                    return ip;
                }
            }
            None => return client,
        }
    }
    client
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    // "[v6]:port" or "v4:port"
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    hop.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

/// Whether the received `X-Forwarded-For` chain is kept (and the peer appended) rather than replaced.
pub fn keeps_chain(peer: IpAddr, trusted: &[Cidr]) -> bool {
    is_trusted(peer, trusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| Cidr::parse(c).unwrap()).collect()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(resolve(peer, Some(b"1.2.3.4"), &[]), peer);
        assert!(!keeps_chain(peer, &[]));
    }

    #[test]
    fn trusted_peer_walks_from_the_right() {
        let trusted = cidrs(&["10.0.0.0/8", "127.0.0.1"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let got = resolve(peer, Some(b"198.51.100.7, 1.2.3.4, 10.1.2.3"), &trusted);
        assert_eq!(got, "1.2.3.4".parse::<IpAddr>().unwrap());
        assert!(keeps_chain(peer, &trusted));
    }

    #[test]
    fn garbage_hop_stops_the_walk() {
        let trusted = cidrs(&["127.0.0.0/8"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(resolve(peer, Some(b"nonsense"), &trusted), peer);
        assert_eq!(
            resolve(peer, Some(b"[2001:db8::1]:443"), &trusted),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn cidr_matching() {
        let c = Cidr::parse("192.168.0.0/16").unwrap();
        assert!(c.contains("192.168.4.5".parse().unwrap()));
        assert!(!c.contains("192.169.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:192.168.1.1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope/8").is_err());
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
    }
}
