//! Where a push goes: the gateway's address from its URL, and the group's
//! path (`/metrics/job/<job>{/<label>/<value>}`) with every component encoded
//! the way the Pushgateway reads it.

use crate::error::{Error, ErrorKind};

/// The parts of a gateway URL `http://host[:port][/prefix]` that a request
/// needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Gateway {
    /// The host as written in the URL (brackets kept for IPv6), for
    /// connecting and for the `Host` header.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The path before `/metrics`, without a trailing `/`; empty or
    /// starting with `/`.
    pub(crate) prefix: String,
}

impl Gateway {
    /// Parses `http://host[:port][/prefix]`; a URL without a scheme is read
    /// as `http://`, as `client_golang` does. The port defaults to 80.
    pub(crate) fn parse(url: &str) -> Result<Gateway, Error> {
        let invalid = || Error::new(ErrorKind::InvalidPushUrl, url);
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(invalid()),
            None => url,
        };
        let (authority, prefix) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
        if authority.contains('@') || !prefix.bytes().all(is_path_byte) {
            return Err(invalid());
        }
        let (host, port) = match authority.rfind(':') {
            // An IPv6 literal's colons are inside its brackets.
            Some(at) if !authority[at..].contains(']') => (&authority[..at], Some(&authority[at + 1..])),
            _ => (authority, None),
        };
        let port = match port {
            None => 80,
            Some(port) => port.parse::<u16>().ok().filter(|&p| p != 0).ok_or_else(invalid)?,
        };
        let bracketed = host.len() > 2 && host.starts_with('[') && host.ends_with(']');
        let host_ok = if bracketed {
            host[1..host.len() - 1].parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        };
        if !host_ok {
            return Err(invalid());
        }
        Ok(Gateway {
            host: host.to_owned(),
            port,
            prefix: prefix.trim_end_matches('/').to_owned(),
        })
    }

    /// The host and port to connect to (IPv6 without its brackets).
    pub(super) fn connect_to(&self) -> (&str, u16) {
        (self.host.trim_start_matches('[').trim_end_matches(']'), self.port)
    }

    /// `host:port`, for the `Host` header and the URL in messages.
    pub(crate) fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Bytes a URL path may hold as they are (RFC 3986 `pchar` and `/`), so a
/// user's prefix is passed on untouched but can never split the request
/// line.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

/// Appends `/<name>/<value>` (or `/<name>@base64/<encoded>`) to `path`.
///
/// A value that is empty, holds a `/`, or is `.` or `..` goes as unpadded
/// base64url with the `@base64` suffix, as the Pushgateway specifies (an
/// empty one as `=`, its spelling for the empty value): a `/` would split
/// the path even percent-encoded, since the gateway routes on the decoded
/// path, and dot segments are rewritten by proxies. Any other value is
/// percent-encoded except for RFC 3986's unreserved characters.
pub(crate) fn push_component(path: &mut String, name: &str, value: &str) {
    path.push('/');
    path.push_str(name);
    if value.is_empty() {
        path.push_str("@base64/=");
    } else if value.contains('/') || value == "." || value == ".." {
        path.push_str("@base64/");
        base64(path, value.as_bytes(), URL_SAFE, false);
    } else {
        path.push('/');
        for &b in value.as_bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                path.push(char::from(b));
            } else {
                path.push('%');
                path.push(char::from(HEX[usize::from(b >> 4)]));
                path.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 4648 section 5 (URL and filename safe).
pub(super) const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// RFC 4648 section 4 (basic auth's alphabet).
pub(super) const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the base64 of `bytes` in `alphabet`, padded with `=` or not.
pub(super) fn base64(out: &mut String, bytes: &[u8], alphabet: &[u8; 64], pad: bool) {
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let digits = chunk.len() + 1;
        for i in 0..4 {
            if i < digits {
                out.push(char::from(alphabet[(n >> (18 - 6 * i)) as usize & 63]));
            } else if pad {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(value: &str) -> String {
        let mut path = String::new();
        push_component(&mut path, "l", value);
        path
    }

    #[test]
    fn values_are_encoded_as_the_gateway_reads_them() {
        assert_eq!(component("db-1.eu_x~"), "/l/db-1.eu_x~");
        assert_eq!(component("é %?#"), "/l/%C3%A9%20%25%3F%23");
        assert_eq!(component(""), "/l@base64/=");
        assert_eq!(component("a/b"), "/l@base64/YS9i");
        assert_eq!(component("/"), "/l@base64/Lw");
        assert_eq!(component(".."), "/l@base64/Li4");
        // U+FBFF is EF AF BF, whose base64 is `76+/`: the alphabet must be the URL-safe one.
        assert_eq!(component("\u{fbff}/"), "/l@base64/76-_Lw");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
        ];
        for (plain, encoded) in vectors {
            let mut out = String::new();
            base64(&mut out, plain.as_bytes(), STANDARD, true);
            assert_eq!(out, encoded);
        }
    }

    #[test]
    fn gateway_urls() {
        let gw = |url: &str| Gateway::parse(url).map(|g| (g.host, g.port, g.prefix));
        assert_eq!(
            gw("http://127.0.0.1:9091"),
            Ok(("127.0.0.1".into(), 9091, String::new()))
        );
        assert_eq!(gw("127.0.0.1:9091/"), Ok(("127.0.0.1".into(), 9091, String::new())));
        assert_eq!(
            gw("HTTP://gw.example/a/b/"),
            Ok(("gw.example".into(), 80, "/a/b".into()))
        );
        assert_eq!(gw("http://[::1]:9091/p"), Ok(("[::1]".into(), 9091, "/p".into())));
        assert_eq!(gw("http://[::1]"), Ok(("[::1]".into(), 80, String::new())));
        for bad in [
            "https://gw:443",
            "http://",
            "http://:9091",
            "http://gw:0",
            "http://gw:99999",
            "http://gw:x",
            "http://user:pw@gw",
            "http://gw/a b",
            "http://gw/a?q",
            "http://gw/a\r\nX: y",
            "http://[::g]:1",
            "ftp://gw",
        ] {
            assert_eq!(gw(bad).unwrap_err().kind(), ErrorKind::InvalidPushUrl, "{bad}");
        }
    }
}
