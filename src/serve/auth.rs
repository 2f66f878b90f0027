//! Checking the `Authorization` header against the configured credentials.

use std::hint::black_box;

/// The configured credentials; empty means no authentication.
#[derive(Clone, Default)]
pub(super) struct Auth {
    bearer: Option<Vec<u8>>,
    /// `user:password`, the form RFC 7617 encodes in base64.
    basic: Option<Vec<u8>>,
}

impl Auth {
    pub(super) fn new(bearer: Option<&str>, basic: Option<(&str, &str)>) -> Self {
        Auth {
            bearer: bearer.map(|token| token.as_bytes().to_vec()),
            basic: basic.map(|(user, password)| format!("{user}:{password}").into_bytes()),
        }
    }

    /// Whether a request with this `Authorization` value may proceed.
    ///
    /// The scheme name is case-insensitive (RFC 9110 section 11.1). Empty
    /// credentials never match, so an empty configured token cannot be
    /// satisfied by sending `Bearer` alone.
    pub(super) fn allows(&self, header: Option<&[u8]>) -> bool {
        if self.bearer.is_none() && self.basic.is_none() {
            return true;
        }
        let Some(header) = header else { return false };
        let split = header.iter().position(|&b| b == b' ').unwrap_or(header.len());
        let (scheme, credentials) = header.split_at(split);
        let credentials = credentials.trim_ascii();
        if credentials.is_empty() {
            return false;
        }
        if let Some(token) = &self.bearer
            && scheme.eq_ignore_ascii_case(b"bearer")
        {
            return constant_time_eq(credentials, token);
        }
        if let Some(expected) = &self.basic
            && scheme.eq_ignore_ascii_case(b"basic")
        {
            return decode_base64(credentials).is_some_and(|pair| constant_time_eq(&pair, expected));
        }
        false
    }

    /// The `WWW-Authenticate` values to send with a 401.
    pub(super) fn challenges(&self) -> impl Iterator<Item = &'static str> {
        let bearer = self.bearer.as_ref().map(|_| "Bearer");
        let basic = self.basic.as_ref().map(|_| "Basic realm=\"metrics\"");
        bearer.into_iter().chain(basic)
    }
}

/// Compares a received value with a secret without stopping at the first
/// difference, so the response time does not tell an attacker how many
/// leading bytes were right. The loop runs over the received value, so only
/// its own length (which the attacker knows) shapes the timing; the
/// `black_box` keeps the optimizer from turning the fold into an early exit.
fn constant_time_eq(received: &[u8], secret: &[u8]) -> bool {
    let mut diff = u8::from(received.len() != secret.len());
    let wrap = secret.len().max(1);
    for (i, &byte) in received.iter().enumerate() {
        diff |= byte ^ secret.get(i % wrap).copied().unwrap_or(0);
        diff = black_box(diff);
    }
    diff == 0
}

/// Decodes standard base64 (RFC 4648 section 4); padding may be present
/// (and must then be right) or left out.
fn decode_base64(input: &[u8]) -> Option<Vec<u8>> {
    let data = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    if (data.len() != input.len() && !input.len().is_multiple_of(4)) || data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in data {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits).to_le_bytes()[0]);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        assert_eq!(decode_base64(b"dXNlcjpwYXNz").as_deref(), Some(&b"user:pass"[..]));
        assert_eq!(decode_base64(b"YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64(b"YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64(b"YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(decode_base64(b"").as_deref(), Some(&b""[..]));
        for bad in [&b"Y"[..], b"YQ=", b"Y===", b"YQ==YQ==", b"a b=", b"\xff"] {
            assert_eq!(decode_base64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abcabc", b"abc"));
        assert!(!constant_time_eq(b"x", b""));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn schemes() {
        let none = Auth::default();
        assert!(none.allows(None) && none.challenges().next().is_none());
        let both = Auth::new(Some("tok"), Some(("u", "p")));
        assert!(both.allows(Some(b"Bearer tok")));
        assert!(both.allows(Some(b"bearer   tok")));
        assert!(both.allows(Some(b"Basic dTpw")));
        assert!(!both.allows(Some(b"Basic dTpx")));
        assert!(!both.allows(Some(b"Bearer tok2")));
        assert!(!both.allows(Some(b"Bearer")));
        assert!(!both.allows(Some(b"Digest tok")));
        assert!(!both.allows(None));
        assert_eq!(
            both.challenges().collect::<Vec<_>>(),
            ["Bearer", "Basic realm=\"metrics\""]
        );
        assert!(!Auth::new(Some(""), None).allows(Some(b"Bearer ")));
    }
}
