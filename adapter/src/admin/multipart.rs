//! `multipart/form-data` (RFC 7578) bodies, as `apictl mg deploy` sends a project: the archive in
//! the part named `file`.
//!
//! Where it sits: the `POST /apis` handler calls [`file_part`] on the whole (already size-limited)
//! body when the content type is multipart, and hands the part's bytes to the deploy manager
//! unchanged.
//!
//! What it does not do: no streaming, no `Content-Transfer-Encoding` (RFC 7578 §4.7 deprecates
//! it), no nested multiparts, no charset handling of field values.

/// Why a multipart body was refused (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartError {
    NoBoundary,
    Malformed(&'static str),
    NoFilePart,
}

impl std::fmt::Display for MultipartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoBoundary => f.write_str("multipart/form-data without a boundary parameter"),
            Self::Malformed(why) => write!(f, "malformed multipart body: {why}"),
            Self::NoFilePart => f.write_str("multipart body has no part named \"file\""),
        }
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type (quoted or not).
pub fn boundary(content_type: &str) -> Result<&str, MultipartError> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|b| !b.is_empty() && b.len() <= 70) // RFC 2046 §5.1.1
        .ok_or(MultipartError::NoBoundary)
}

/// The contents of the part named `file`.
pub fn file_part<'a>(body: &'a [u8], boundary: &str) -> Result<&'a [u8], MultipartError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The first delimiter may follow a preamble; it starts the body or a line.
    let mut pos = if body.starts_with(delimiter) {
        delimiter.len()
    } else {
        let inner = [b"\r\n".as_slice(), delimiter].concat();
        find(body, &inner, 0).ok_or(MultipartError::Malformed("no opening boundary"))? + inner.len()
    };
    let next_delimiter = [b"\r\n".as_slice(), delimiter].concat();
    loop {
        let rest = body.get(pos..).unwrap_or(&[]);
        if rest.starts_with(b"--") {
            return Err(MultipartError::NoFilePart);
        }
        // Transport padding (RFC 2046 §5.1.1), then CRLF.
        let padding = rest.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
        if !rest.get(padding..).unwrap_or(&[]).starts_with(b"\r\n") {
            return Err(MultipartError::Malformed("boundary line not followed by CRLF"));
        }
        let headers_start = pos + padding + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start)
            .ok_or(MultipartError::Malformed("part headers not terminated"))?;
        let content_start = headers_end + 4;
        let content_end = find(body, &next_delimiter, headers_end + 2)
            .ok_or(MultipartError::Malformed("part not terminated by a boundary"))?;
        let headers = body.get(headers_start..headers_end).unwrap_or(&[]);
        if part_name(headers).as_deref() == Some("file") {
            return Ok(body.get(content_start..content_end.max(content_start)).unwrap_or(&[]));
        }
        pos = content_end + next_delimiter.len();
    }
}

/// The `name` parameter of a part's `Content-Disposition: form-data` header.
fn part_name(headers: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let value = text.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-disposition").then(|| value.trim().to_owned())
    })?;
    let mut params = value.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("name"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
}

/// First index of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while let Some(window) = hay.get(at..) {
        let offset = window.iter().position(|b| *b == first)?;
        let candidate = at + offset;
        if hay.get(candidate..candidate + needle.len())? == needle {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, &[u8])], boundary: &str) -> Vec<u8> {
        let mut out = b"preamble\r\n".to_vec();
        for (name, content) in parts {
            out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"x.zip\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    #[test]
    fn finds_the_file_part() {
        let zip: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let b = body(&[("other", b"x\r\n--notit"), ("file", &zip)], "XyZ");
        assert_eq!(file_part(&b, "XyZ").unwrap(), &zip[..]);
        let b = body(&[("file", b"")], "q");
        assert_eq!(file_part(&b, "q").unwrap(), b"");
    }

    #[test]
    fn errors() {
        let b = body(&[("other", b"1")], "b");
        assert_eq!(file_part(&b, "b"), Err(MultipartError::NoFilePart));
        assert!(matches!(file_part(b"junk", "b"), Err(MultipartError::Malformed(_))));
        assert!(matches!(
            file_part(b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc", "b"),
            Err(MultipartError::Malformed(_))
        ));
    }

    #[test]
    fn boundaries() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").unwrap(), "abc");
        assert_eq!(boundary("multipart/form-data; charset=x; BOUNDARY=\"a b\"").unwrap(), "a b");
        assert_eq!(boundary("multipart/form-data"), Err(MultipartError::NoBoundary));
    }
}
