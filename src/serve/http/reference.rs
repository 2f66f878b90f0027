//! A naive second reading of the request-head rules, against which the
//! `http_request` fuzz target checks [`super::parse_head`].
//!
//! It shares no code with the parser and is written the slow, obvious way:
//! cut the input into whole lines first, then walk them, with the grammar
//! spelled out as `match` ranges and string operations. It only judges lines
//! that have ended; what the parser does with an unfinished line (refuse it
//! early when no continuation could make it valid) is checked by the fuzz
//! target through completion instead. The order in which the rules are
//! checked decides which status wins when a head breaks several; it is the
//! order the module documentation of `http.rs` gives, restated here:
//!
//! 1. Leading empty lines are skipped.
//! 2. Each line, as it is reached: a CR not right before the LF is 400. The
//!    request line: longer than the limit is 414, then its syntax (400, or
//!    505 for a well-formed other version, judged after the method and
//!    before the target).
//! 3. Each later line: starting beyond the head limit is 431. The empty line
//!    ends the head: ending beyond the head limit is 431, then a 1.1 request
//!    without `Host` is 400. Any other line: one more than the field limit
//!    is 431, then its syntax and meaning (400).

use super::Limits;

/// What the reference makes of a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every line that has ended is acceptable, but the empty line that ends
    /// the head has not arrived.
    Unfinished,
    /// A whole head, and what the parser must report about it.
    Accepted(Facts),
    /// The status the head must be refused with.
    Refused(u16),
}

/// Everything the parser reports about an accepted head, in owned form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "mirrors the flags of `Head`, compared field by field"
)]
pub(crate) struct Facts {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) http11: bool,
    pub(crate) close: bool,
    pub(crate) keep_alive: bool,
    pub(crate) accept: Option<String>,
    pub(crate) accept_encoding: Option<String>,
    pub(crate) authorization: Option<Vec<u8>>,
    pub(crate) has_body: bool,
    /// Bytes of the buffer the head takes, line end of the empty line
    /// included.
    pub(crate) used: usize,
}

/// Judges `buf` with `limits`.
pub(crate) fn judge(buf: &[u8], limits: &Limits) -> Verdict {
    match walk(buf, limits) {
        Ok(Some(facts)) => Verdict::Accepted(facts),
        Ok(None) => Verdict::Unfinished,
        Err(status) => Verdict::Refused(status),
    }
}

/// The lines that have ended: where each starts, its bytes without the LF
/// (a CR before the LF is still there), and where the next one starts.
fn ended_lines(buf: &[u8]) -> Vec<(usize, &[u8], usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (at, byte) in buf.iter().enumerate() {
        if *byte == b'\n' {
            lines.push((start, &buf[start..at], at + 1));
            start = at + 1;
        }
    }
    lines
}

/// A line without its final CR, or 400 if another CR is in it.
fn content(line: &[u8]) -> Result<&[u8], u16> {
    let line = match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    };
    if line.contains(&b'\r') { Err(400) } else { Ok(line) }
}

fn walk(buf: &[u8], limits: &Limits) -> Result<Option<Facts>, u16> {
    let lines = ended_lines(buf);
    let mut lines = lines
        .into_iter()
        .skip_while(|(_, line, _)| line.is_empty() || *line == b"\r");
    let Some((_, request_line, _)) = lines.next() else {
        return Ok(None);
    };
    let request_line = content(request_line)?;
    if request_line.len() > limits.request_line {
        return Err(414);
    }
    let mut facts = request(request_line)?;
    let mut hosts = 0;
    let mut fields = 0;
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    for (start, line, next) in lines {
        if start > limits.head {
            return Err(431);
        }
        let line = content(line)?;
        if line.is_empty() {
            if next > limits.head {
                return Err(431);
            }
            if facts.http11 && hosts == 0 {
                return Err(400);
            }
            facts.has_body = chunked || content_length.unwrap_or(0) > 0;
            facts.used = next;
            return Ok(Some(facts));
        }
        fields += 1;
        if fields > limits.headers {
            return Err(431);
        }
        let (name, value) = field(line)?;
        match name.to_ascii_lowercase().as_str() {
            "connection" => {
                for token in value.split(|b| *b == b',') {
                    let token = String::from_utf8_lossy(token)
                        .trim_matches([' ', '\t'])
                        .to_ascii_lowercase();
                    facts.close |= token == "close";
                    facts.keep_alive |= token == "keep-alive";
                }
            }
            name @ ("accept" | "accept-encoding") => {
                let value = std::str::from_utf8(value).map_err(|_| 400_u16)?;
                let joined = if name == "accept" {
                    &mut facts.accept
                } else {
                    &mut facts.accept_encoding
                };
                *joined = Some(match joined.take() {
                    Some(before) => before + ", " + value,
                    None => value.to_owned(),
                });
            }
            "authorization" if facts.authorization.is_some() => return Err(400),
            "authorization" => facts.authorization = Some(value.to_vec()),
            "host" if hosts > 0 => return Err(400),
            "host" => hosts += 1,
            "content-length" => {
                let digits = std::str::from_utf8(value).unwrap_or("x");
                if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(400);
                }
                let length: u64 = digits.parse().map_err(|_| 400_u16)?;
                if content_length.is_some_and(|before| before != length) {
                    return Err(400);
                }
                content_length = Some(length);
            }
            "transfer-encoding" => chunked = true,
            _ => {}
        }
        if chunked && content_length.is_some() {
            return Err(400);
        }
    }
    Ok(None)
}

fn token_byte(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// `method SP target SP version`: the method, path and version of `facts`.
fn request(line: &[u8]) -> Result<Facts, u16> {
    let parts: Vec<&[u8]> = line.split(|b| *b == b' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(400);
    };
    if method.is_empty() || !method.iter().all(|b| token_byte(*b)) {
        return Err(400);
    }
    let http11 = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        _ => {
            let digit = |at: usize| version.get(at).is_some_and(u8::is_ascii_digit);
            let shaped = version.len() == 8 && version.starts_with(b"HTTP/") && version[6] == b'.';
            return Err(if shaped && digit(5) && digit(7) { 505 } else { 400 });
        }
    };
    Ok(Facts {
        method: String::from_utf8(method.to_vec()).map_err(|_| 400_u16)?,
        path: path(target).ok_or(400_u16)?,
        http11,
        ..Facts::default()
    })
}

/// The path of a request target: origin form and `*` as they are, the part
/// after the authority of an absolute form; query and fragment cut off; `/`
/// when nothing is left.
fn path(target: &[u8]) -> Option<String> {
    if target.is_empty() || target.iter().any(|b| *b <= b' ' || *b == 0x7f) {
        return None;
    }
    let target = std::str::from_utf8(target).ok()?;
    let path = if target == "*" || target.starts_with('/') {
        target
    } else {
        let at = target.find("://")?;
        let scheme = &target[..at];
        let letter_first = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let rest_ok = scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.');
        if !letter_first || !rest_ok {
            return None;
        }
        let after = &target[at + 3..];
        let cut = after.find(['/', '?', '#']).unwrap_or(after.len());
        &after[cut..]
    };
    let cut = path.find(['?', '#']).unwrap_or(path.len());
    Some(if cut == 0 {
        "/".to_owned()
    } else {
        path[..cut].to_owned()
    })
}

/// `name ":" OWS value OWS`: the name and the value without surrounding
/// blanks, or 400.
fn field(line: &[u8]) -> Result<(String, &[u8]), u16> {
    if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return Err(400);
    }
    let colon = line.iter().position(|b| *b == b':').ok_or(400_u16)?;
    let name = &line[..colon];
    let mut value = &line[colon + 1..];
    if name.is_empty() || !name.iter().all(|b| token_byte(*b)) {
        return Err(400);
    }
    if value.iter().any(|b| (*b < b' ' && *b != b'\t') || *b == 0x7f) {
        return Err(400);
    }
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    Ok((String::from_utf8_lossy(name).into_owned(), value))
}
