//! The client's address behind reverse proxies: the TCP peer, unless that peer is a configured
//! trusted proxy, in which case the address the proxies recorded (`Forwarded` or
//! `X-Forwarded-For`), read from the right and past every trusted hop.
//!
//! Only the entries written by our own proxies can be believed: a client can send either header
//! itself with any address it likes, and a proxy appends to what it received. So the list is
//! read from the right (the hop nearest to us), each trusted proxy's entry is skipped, and the
//! first address that is not one of ours is the client. A peer that is not a trusted proxy is
//! the client whatever headers it sent.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;

use crate::auth::throttle::Network;

/// The client's address of a request to the application whose state is `state`.
pub fn of_request(
    peer: Option<std::net::SocketAddr>,
    headers: &HeaderMap,
    state: Option<&actix_web::web::Data<crate::state::AppState>>,
) -> String {
    let trusted = state
        .map(|state| state.settings.cluster.trusted_proxies.as_slice())
        .unwrap_or_default();
    client_address(peer.map(|addr| addr.ip()), headers, trusted)
}

/// The client's address for rate limits and the audit trail.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[Network]) -> String {
    let Some(peer) = peer.map(|ip| ip.to_canonical()) else {
        return "unknown".into();
    };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|network| network.contains(ip));
    if !is_trusted(peer) {
        return peer.to_string();
    }
    let mut nearest_trusted = peer;
    for hop in forwarded_hops(headers).into_iter().rev() {
        match hop {
            // An entry our proxy wrote that names no address ("unknown", an obfuscated node):
            // the proxy that wrote it is the best we know.
            None => return nearest_trusted.to_string(),
            Some(ip) if is_trusted(ip) => nearest_trusted = ip,
            Some(ip) => return ip.to_string(),
        }
    }
    // Every hop was one of ours (or there were no headers): the outermost proxy we know.
    nearest_trusted.to_string()
}

/// The forwarded-for hops, client first: from `Forwarded` (RFC 7239) if present, else from
/// `X-Forwarded-For`; every header line in order. `None` for an entry with no usable address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| node_address(value))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(node_address)
        .collect()
}

/// An address as proxies write it: `203.0.113.7`, `203.0.113.7:4711`, `"[2001:db8::1]:4711"`,
/// `2001:db8::1`. Anything else (`unknown`, `_hidden`) is no address.
fn node_address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(lines: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn networks(list: &[&str]) -> Vec<Network> {
        list.iter().map(|n| Network::parse(n).unwrap()).collect()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let claimed = headers(&[
            ("x-forwarded-for", "10.9.9.9"),
            ("forwarded", "for=10.8.8.8"),
        ]);
        let trusted = networks(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("203.0.113.7"), &claimed, &trusted),
            "203.0.113.7"
        );
        assert_eq!(
            client_address(ip("203.0.113.7"), &claimed, &[]),
            "203.0.113.7"
        );
        assert_eq!(client_address(None, &claimed, &trusted), "unknown");
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_a_forged_entry_to_its_left_is_ignored() {
        let trusted = networks(&["10.0.0.0/8"]);
        // The client forged "1.2.3.4"; our proxy appended the address it really saw.
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.20")]);
        assert_eq!(
            client_address(ip("10.0.0.5"), &forged, &trusted),
            "198.51.100.20"
        );
        // Two of our proxies in a row: both skipped.
        let chain = headers(&[("x-forwarded-for", "198.51.100.20, 10.0.0.7")]);
        assert_eq!(
            client_address(ip("10.0.0.5"), &chain, &trusted),
            "198.51.100.20"
        );
        // Several header lines are one list, in order.
        let lines = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.21"),
        ]);
        assert_eq!(
            client_address(ip("10.0.0.5"), &lines, &trusted),
            "198.51.100.21"
        );
        // No header from a trusted proxy: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.5"), &HeaderMap::new(), &trusted),
            "10.0.0.5"
        );
    }

    #[test]
    fn forwarded_takes_precedence_and_its_forms_are_read() {
        let trusted = networks(&["127.0.0.0/8", "::1/128"]);
        let rfc = headers(&[
            ("x-forwarded-for", "192.0.2.99"),
            (
                "forwarded",
                "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\"",
            ),
        ]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &rfc, &trusted),
            "2001:db8:cafe::17"
        );
        let with_port = headers(&[("x-forwarded-for", "192.0.2.43:47011")]);
        assert_eq!(
            client_address(ip("::1"), &with_port, &trusted),
            "192.0.2.43"
        );
        // An entry with no address stops the walk at the proxy that wrote it.
        let hidden = headers(&[("forwarded", "for=192.0.2.60, for=unknown")]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &hidden, &trusted),
            "127.0.0.1"
        );
        // An IPv4-mapped IPv6 peer is the IPv4 address it carries.
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &with_port, &trusted),
            "192.0.2.43"
        );
    }
}
