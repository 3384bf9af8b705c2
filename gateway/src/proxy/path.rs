//! Request paths as the router sees them and as the upstream receives them: Kong normalises a
//! path before matching (percent-decoding what is safe, resolving `.` and `..`, merging `//`),
//! and escapes what is unsafe when it forwards the result.

use std::borrow::Cow;

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;

/// RFC 3986 reserved characters (and `%`): decoding them would change what the path means
/// (`%2F` is not a segment separator), so they stay encoded, in upper-case hex.
const RESERVED: &[u8] = b"!*'();:@&=+$,/?%#[]";

/// The normalised form of a raw request path (no query string).
///
/// Triplets of other characters are decoded; when that would not leave valid UTF-8, only ASCII
/// ones are. Then dot segments are removed (RFC 3986 §5.2.4) and repeated slashes merged.
pub fn normalize(raw: &str) -> Cow<'_, str> {
    if raw.is_empty() || raw == "/" {
        return Cow::Borrowed(raw);
    }
    let decoded = if raw.contains('%') {
        Cow::Owned(decode(raw))
    } else {
        Cow::Borrowed(raw)
    };
    if !decoded.contains('.') && !decoded.contains("//") {
        return decoded;
    }
    Cow::Owned(remove_dot_segments(&decoded))
}

/// Percent-decodes every triplet except reserved characters.
fn decode(raw: &str) -> String {
    let all = decode_where(raw, |b| !RESERVED.contains(&b));
    match String::from_utf8(all) {
        Ok(s) => s,
        // Only ASCII decoded, so this is valid UTF-8 as the input was.
        Err(_) => String::from_utf8_lossy(&decode_where(raw, |b| {
            b.is_ascii() && !RESERVED.contains(&b)
        }))
        .into_owned(),
    }
}

fn decode_where(raw: &str, decodable: impl Fn(u8) -> bool) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let triplet = (bytes[i] == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
            .flatten();
        match triplet {
            Some((high, low)) => {
                let byte = high << 4 | low;
                if decodable(byte) {
                    out.push(byte);
                } else {
                    out.push(b'%');
                    out.extend(bytes[i + 1..i + 3].iter().map(u8::to_ascii_uppercase));
                }
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986 §5.2.4 over segments, with empty segments (from `//`) dropped; never climbs above
/// the root. A trailing `/.`, `/..` or `/` keeps its slash.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    let mut trailing_slash = false;
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "" | "." => trailing_slash = i == last && i > 0,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut normalized = String::with_capacity(path.len());
    for segment in &out {
        normalized.push('/');
        normalized.push_str(segment);
    }
    if trailing_slash || out.is_empty() {
        normalized.push('/');
    }
    normalized
}

/// Percent-encodes what may not travel raw in a request target (spaces, controls, non-ASCII,
/// `"`, `<`, ...), leaving reserved characters, unreserved ones and existing triplets alone.
pub fn escape(path: &str) -> Cow<'_, str> {
    if path.bytes().all(allowed) {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 16);
    for b in path.bytes() {
        if allowed(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&'()*+,/:;=?@[]-_.~%".contains(&b)
}
