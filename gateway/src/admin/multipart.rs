//! A small `multipart/form-data` reader: enough for `curl -F name=value`, whose parts become
//! the same name/value pairs a urlencoded form gives (files are read as text, as Kong does).

/// The boundary from a `Content-Type: multipart/form-data; boundary=...` header.
pub fn boundary(content_type: &str) -> Option<String> {
    let (_, rest) = content_type.split_once("boundary=")?;
    let value = rest.split(';').next()?.trim();
    let value = value.trim_matches('"').trim_matches('\'');
    (!value.is_empty()).then(|| value.to_string())
}

/// The name/value pairs of a multipart body, or `None` when it is not well formed.
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<(String, String)>> {
    let body = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut sections = body.split(delimiter.as_str());
    // Whatever precedes the first delimiter is a preamble.
    sections.next()?;
    let mut pairs = Vec::new();
    for section in sections {
        if section.starts_with("--") {
            return Some(pairs);
        }
        let section = section.strip_prefix("\r\n").unwrap_or(section);
        let (headers, content) = section.split_once("\r\n\r\n")?;
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        if let Some(name) = part_name(headers) {
            pairs.push((name, content.to_string()));
        }
    }
    // No closing delimiter: the body was cut short.
    None
}

/// `Content-Disposition: form-data; name="paths[]"` → `paths[]`.
fn part_name(headers: &str) -> Option<String> {
    let disposition = headers
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    disposition.split(';').find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        (key.trim() == "name").then(|| value.trim().trim_matches('"').to_string())
    })
}
