//! Parsing and validation of the two strings a route is keyed by: the API base path and the
//! resource path template.
//!
//! Where it sits: called only by [`super::Router::build`], on the control thread, once per
//! [`super::RouteSpec`]. The result is a list of [`Segment`]s that the builder inserts into the
//! per-API segment trie; nothing here runs per request.
//!
//! Grammar accepted for templates (a subset of OpenAPI path templating, as WSO2 API Microgateway
//! uses it):
//!
//! ```text
//! template = "/" | 1*( "/" segment ) [ "/*" ] [ "/" ]      ; "/*" alone is also valid
//! segment  = literal | "{" name "}"
//! ```
//!
//! A `{param}` must span a whole segment (`/files/{name}.{ext}` is rejected), `*` may only be the
//! whole last segment, empty segments (`//`) are rejected, and one trailing slash is ignored
//! (`/pets/` is the same resource as `/pets`). Literal segments are kept as raw bytes: the router
//! compares them with the raw request path and does not percent-decode either side.
//!
//! This module does not decide precedence between templates or detect conflicts between them;
//! that is the builder's job once every template is known.

use super::RouterError;

/// One segment of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// Matches exactly these bytes.
    Literal(Box<[u8]>),
    /// `{name}`: matches exactly one non-empty segment, which is captured.
    Param,
}

/// A template split into segments, with its optional trailing wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ParsedTemplate {
    pub(super) segments: Vec<Segment>,
    /// The template ends in `/*`: zero or more further segments match.
    pub(super) wildcard: bool,
}

/// Parses a resource path template such as `/pets/{petId}` or `/pets/*`.
pub(super) fn parse_template(template: &str) -> Result<ParsedTemplate, RouterError> {
    let invalid = |reason: &str| RouterError::InvalidTemplate {
        template: template.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(body) = template.strip_prefix('/') else {
        return Err(invalid("must start with '/'"));
    };
    if let Some(bad) = template.chars().find(|c| matches!(c, '?' | '#') || c.is_ascii_control()) {
        return Err(invalid(&format!("must not contain {bad:?}")));
    }
    if template.contains(' ') {
        return Err(invalid("must not contain spaces"));
    }
    // One trailing slash is tolerated and ignored; "/" itself is the root resource.
    let body = body.strip_suffix('/').unwrap_or(body);
    let mut parsed = ParsedTemplate { segments: Vec::new(), wildcard: false };
    if body.is_empty() {
        return Ok(parsed);
    }
    let mut names: Vec<&str> = Vec::new();
    let mut parts = body.split('/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if part.is_empty() {
            return Err(invalid("empty path segment ('//')"));
        }
        if part == "*" {
            if !last {
                return Err(invalid("'*' is only allowed as the last segment"));
            }
            parsed.wildcard = true;
            continue;
        }
        if part.contains('*') {
            return Err(invalid("'*' must be a whole segment"));
        }
        let param = part
            .strip_prefix('{')
            .and_then(|p| p.strip_suffix('}'))
            .filter(|name| !name.contains(['{', '}']));
        if let Some(name) = param {
            if name.is_empty() {
                return Err(invalid("empty parameter name '{}'"));
            }
            if names.contains(&name) {
                return Err(invalid(&format!("parameter {{{name}}} appears twice")));
            }
            names.push(name);
            parsed.segments.push(Segment::Param);
            continue;
        }
        if part.contains(['{', '}']) {
            return Err(invalid("a parameter must span a whole segment, like /{name}"));
        }
        parsed.segments.push(Segment::Literal(part.as_bytes().into()));
    }
    Ok(parsed)
}

/// Checks an API base path: starts with `/`, no trailing slash (except `/` itself), no empty
/// segments, no templating, query or fragment characters.
pub(super) fn check_base_path(base_path: &str) -> Result<(), RouterError> {
    let invalid = |reason: &str| RouterError::InvalidBasePath {
        base_path: base_path.to_owned(),
        reason: reason.to_owned(),
    };
    if !base_path.starts_with('/') {
        return Err(invalid("must start with '/'"));
    }
    if base_path == "/" {
        return Ok(());
    }
    if base_path.ends_with('/') {
        return Err(invalid("must not end with '/'"));
    }
    if base_path.contains("//") {
        return Err(invalid("empty path segment ('//')"));
    }
    if let Some(bad) = base_path
        .chars()
        .find(|c| matches!(c, '{' | '}' | '*' | '?' | '#' | ' ') || c.is_ascii_control())
    {
        return Err(invalid(&format!("must not contain {bad:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Segment {
        Segment::Literal(s.as_bytes().into())
    }

    #[test]
    fn parses_literals_params_and_wildcards() {
        let t = parse_template("/pets/{petId}/toys").unwrap();
        assert_eq!(t.segments, vec![lit("pets"), Segment::Param, lit("toys")]);
        assert!(!t.wildcard);
        let t = parse_template("/pets/*").unwrap();
        assert_eq!(t.segments, vec![lit("pets")]);
        assert!(t.wildcard);
        let t = parse_template("/*").unwrap();
        assert!(t.segments.is_empty() && t.wildcard);
        let t = parse_template("/").unwrap();
        assert!(t.segments.is_empty() && !t.wildcard);
        assert_eq!(parse_template("/pets/").unwrap(), parse_template("/pets").unwrap());
    }

    #[test]
    fn rejects_bad_templates() {
        for bad in [
            "",
            "pets",
            "/pets//x",
            "/a/*/b",
            "/a*",
            "/{}",
            "/{a}/{a}",
            "/f/{n}.{e}",
            "/a?b=1",
            "/a b",
            "/{{a}}",
        ] {
            let err = parse_template(bad).unwrap_err();
            assert!(matches!(err, RouterError::InvalidTemplate { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn checks_base_paths() {
        for good in ["/", "/petstore/v1", "/a"] {
            check_base_path(good).unwrap();
        }
        for bad in ["", "petstore", "/petstore/", "/a//b", "/a/{v}", "/a?x", "/a/*"] {
            let err = check_base_path(bad).unwrap_err();
            assert!(matches!(err, RouterError::InvalidBasePath { .. }), "{bad}: {err:?}");
        }
    }
}
