//! Unit tests of the router: API selection (virtual host, base path), template precedence,
//! parameters, wildcards, trailing slashes, 405 handling and build-time rejections.

use super::*;

fn spec(
    vhost: Option<&str>,
    base: &str,
    template: &str,
    methods: &[&str],
    route: u32,
) -> RouteSpec {
    RouteSpec {
        vhost: vhost.map(str::to_owned),
        base_path: base.to_owned(),
        template: template.to_owned(),
        methods: methods.iter().map(|m| (*m).to_owned()).collect(),
        route: RouteIndex(route),
    }
}

fn petstore() -> Router {
    Router::build(vec![
        spec(None, "/petstore/v1", "/pets", &["GET", "POST"], 0),
        spec(None, "/petstore/v1", "/pets/{petId}", &["GET", "DELETE"], 1),
        spec(None, "/petstore/v1", "/pets/mine", &["GET"], 2),
        spec(None, "/petstore/v1", "/pets/{petId}/toys/{toyId}", &["GET"], 3),
        spec(None, "/petstore/v1", "/store/*", &["GET"], 4),
        spec(None, "/petstore/v1", "/", &["GET"], 5),
        spec(None, "/petstore/v10", "/pets", &["GET"], 6),
    ])
    .unwrap()
}

/// Looks up with no host and returns the outcome and captured parameter strings.
fn find<'r>(router: &'r Router, method: &str, path: &str) -> (Lookup<'r>, Vec<String>) {
    find_host(router, None, method, path)
}

fn find_host<'r>(
    router: &'r Router,
    host: Option<&str>,
    method: &str,
    path: &str,
) -> (Lookup<'r>, Vec<String>) {
    let mut params = vec![(99, 99)];
    let found =
        router.lookup(host.map(str::as_bytes), method.as_bytes(), path.as_bytes(), &mut params);
    let captured = params
        .iter()
        .map(|(s, e)| path.get(*s as usize..*e as usize).unwrap().to_owned())
        .collect();
    (found, captured)
}

fn matched(route: u32) -> Lookup<'static> {
    Lookup::Matched(RouteIndex(route))
}

#[test]
fn matches_literal_templates_and_base_path_boundaries() {
    let r = petstore();
    assert_eq!(find(&r, "GET", "/petstore/v1/pets").0, matched(0));
    assert_eq!(find(&r, "POST", "/petstore/v1/pets").0, matched(0));
    assert_eq!(find(&r, "GET", "/petstore/v1/pets/").0, matched(0));
    assert_eq!(find(&r, "GET", "/petstore/v10/pets").0, matched(6));
    assert_eq!(find(&r, "GET", "/petstore/v100/pets").0, Lookup::NotFound);
    assert_eq!(find(&r, "GET", "/petstore").0, Lookup::NotFound);
    assert_eq!(find(&r, "GET", "/other").0, Lookup::NotFound);
    assert_eq!(find(&r, "GET", "").0, Lookup::NotFound);
    assert_eq!(find(&r, "GET", "*").0, Lookup::NotFound);
}

#[test]
fn empty_remainder_is_the_root_resource() {
    let r = petstore();
    assert_eq!(find(&r, "GET", "/petstore/v1").0, matched(5));
    assert_eq!(find(&r, "GET", "/petstore/v1/").0, matched(5));
    assert_eq!(find(&r, "POST", "/petstore/v1").0, Lookup::MethodNotAllowed { allow: "GET" });
    // /petstore/v10 has no root resource.
    assert_eq!(find(&r, "GET", "/petstore/v10").0, Lookup::NotFound);
}

#[test]
fn captures_params_in_template_order() {
    let r = petstore();
    let (found, params) = find(&r, "GET", "/petstore/v1/pets/42");
    assert_eq!(found, matched(1));
    assert_eq!(params, vec!["42"]);
    let (found, params) = find(&r, "GET", "/petstore/v1/pets/7/toys/ball/");
    assert_eq!(found, matched(3));
    assert_eq!(params, vec!["7", "ball"]);
    // Offsets are into the full path, not the remainder.
    let mut raw = Vec::new();
    r.lookup(None, b"GET", b"/petstore/v1/pets/42", &mut raw);
    assert_eq!(raw, vec![(18, 20)]);
}

#[test]
fn literal_beats_param_and_param_needs_a_non_empty_segment() {
    let r = petstore();
    let (found, params) = find(&r, "GET", "/petstore/v1/pets/mine");
    assert_eq!(found, matched(2));
    assert!(params.is_empty());
    assert_eq!(find(&r, "GET", "/petstore/v1/pets//toys/x").0, Lookup::NotFound);
    assert_eq!(find(&r, "GET", "/petstore/v1/pets/1/2").0, Lookup::NotFound);
}

#[test]
fn less_specific_template_serves_a_method_the_specific_one_lacks() {
    let r = petstore();
    // /pets/mine has only GET; /pets/{petId} has DELETE.
    let (found, params) = find(&r, "DELETE", "/petstore/v1/pets/mine");
    assert_eq!(found, matched(1));
    assert_eq!(params, vec!["mine"]);
    // Neither has PUT: the Allow of the most specific matching template is reported.
    let (found, params) = find(&r, "PUT", "/petstore/v1/pets/mine");
    assert_eq!(found, Lookup::MethodNotAllowed { allow: "GET" });
    assert!(params.is_empty());
}

#[test]
fn method_not_allowed_lists_the_union_of_methods() {
    let r = Router::build(vec![
        spec(None, "/a", "/x", &["GET", "HEAD"], 0),
        spec(None, "/a", "/x", &["POST"], 1),
    ])
    .unwrap();
    assert_eq!(find(&r, "POST", "/a/x").0, matched(1));
    assert_eq!(find(&r, "HEAD", "/a/x").0, matched(0));
    assert_eq!(find(&r, "PUT", "/a/x").0, Lookup::MethodNotAllowed { allow: "GET, HEAD, POST" });
    // Method comparison is exact bytes.
    assert_eq!(find(&r, "get", "/a/x").0, Lookup::MethodNotAllowed { allow: "GET, HEAD, POST" });
}

#[test]
fn wildcard_matches_zero_or_more_segments_and_is_least_specific() {
    let r = Router::build(vec![
        spec(None, "/w", "/store/*", &["GET"], 0),
        spec(None, "/w", "/store/inventory", &["GET"], 1),
        spec(None, "/w", "/store/{id}", &["GET"], 2),
        spec(None, "/w", "/store/{id}/*", &["POST"], 3),
    ])
    .unwrap();
    assert_eq!(find(&r, "GET", "/w/store").0, matched(0));
    assert_eq!(find(&r, "GET", "/w/store/").0, matched(0));
    assert_eq!(find(&r, "GET", "/w/store/inventory").0, matched(1));
    assert_eq!(find(&r, "GET", "/w/store/9").0, matched(2));
    assert_eq!(find(&r, "GET", "/w/store/9/a/b/c").0, matched(0));
    let (found, params) = find(&r, "POST", "/w/store/9/a/b");
    assert_eq!(found, matched(3));
    assert_eq!(params, vec!["9"]);
    assert_eq!(find(&r, "GET", "/w/store//x").0, matched(0));
    assert_eq!(find(&r, "GET", "/w/other").0, Lookup::NotFound);
}

#[test]
fn root_wildcard_catches_everything_in_the_api() {
    let r = Router::build(vec![spec(None, "/echo/v1", "/*", &["GET", "POST"], 0)]).unwrap();
    assert_eq!(find(&r, "GET", "/echo/v1").0, matched(0));
    assert_eq!(find(&r, "GET", "/echo/v1/").0, matched(0));
    assert_eq!(find(&r, "POST", "/echo/v1/a/b?c").0, matched(0));
    assert_eq!(find(&r, "PUT", "/echo/v1/a").0, Lookup::MethodNotAllowed { allow: "GET, POST" });
    assert_eq!(r.base_path_len(RouteIndex(0)), "/echo/v1".len());
}

#[test]
fn root_base_path_matches_everything_and_strips_nothing() {
    let r = Router::build(vec![
        spec(None, "/", "/health", &["GET"], 0),
        spec(None, "/api", "/health", &["GET"], 1),
    ])
    .unwrap();
    assert_eq!(find(&r, "GET", "/health").0, matched(0));
    assert_eq!(find(&r, "GET", "/api/health").0, matched(1));
    assert_eq!(find(&r, "GET", "/apix/health").0, Lookup::NotFound);
    assert_eq!(r.base_path_len(RouteIndex(0)), 0);
    assert_eq!(r.base_path_len(RouteIndex(1)), 4);
    assert_eq!(r.base_path_len(RouteIndex(77)), 0);
}

#[test]
fn longest_base_path_wins() {
    let r = Router::build(vec![
        spec(None, "/a", "/*", &["GET"], 0),
        spec(None, "/a/b", "/*", &["GET"], 1),
        spec(None, "/a/b/c", "/x", &["GET"], 2),
    ])
    .unwrap();
    assert_eq!(find(&r, "GET", "/a/b/c/x").0, matched(2));
    // The API is chosen first; its templates do not fall back to a shorter base path.
    assert_eq!(find(&r, "GET", "/a/b/c/y").0, Lookup::NotFound);
    assert_eq!(find(&r, "GET", "/a/b/z").0, matched(1));
    assert_eq!(find(&r, "GET", "/a/bz").0, matched(0));
}

#[test]
fn vhost_routes_are_preferred_over_hostless_ones() {
    let r = Router::build(vec![
        spec(Some("api.example.com"), "/shop", "/items", &["GET"], 0),
        spec(None, "/shop", "/items", &["GET"], 1),
        spec(None, "/other", "/items", &["GET"], 2),
        spec(Some("Internal.Example.com"), "/shop", "/items", &["GET"], 3),
    ])
    .unwrap();
    assert_eq!(find_host(&r, Some("api.example.com"), "GET", "/shop/items").0, matched(0));
    assert_eq!(find_host(&r, Some("API.Example.COM:9090"), "GET", "/shop/items").0, matched(0));
    assert_eq!(find_host(&r, Some("internal.example.com"), "GET", "/shop/items").0, matched(3));
    assert_eq!(find_host(&r, Some("other.example.com"), "GET", "/shop/items").0, matched(1));
    assert_eq!(find_host(&r, None, "GET", "/shop/items").0, matched(1));
    // Host has no API for this base path: host-less APIs are tried.
    assert_eq!(find_host(&r, Some("api.example.com"), "GET", "/other/items").0, matched(2));
}

#[test]
fn vhost_only_apis_do_not_match_other_hosts() {
    let r = Router::build(vec![spec(Some("a.test"), "/x", "/y", &["GET"], 0)]).unwrap();
    assert_eq!(find_host(&r, Some("a.test"), "GET", "/x/y").0, matched(0));
    assert_eq!(find_host(&r, Some("b.test"), "GET", "/x/y").0, Lookup::NotFound);
    assert_eq!(find_host(&r, None, "GET", "/x/y").0, Lookup::NotFound);
}

#[test]
fn empty_router_finds_nothing() {
    let r = Router::empty();
    assert!(r.is_empty());
    assert_eq!(find(&r, "GET", "/").0, Lookup::NotFound);
    assert_eq!(r.base_path_len(RouteIndex(0)), 0);
    assert!(Router::build(Vec::new()).unwrap().is_empty());
}

#[test]
fn params_are_cleared_on_miss() {
    let r = petstore();
    let mut params = vec![(1, 2), (3, 4)];
    assert_eq!(r.lookup(None, b"GET", b"/nope", &mut params), Lookup::NotFound);
    assert!(params.is_empty());
    params.push((5, 6));
    assert_eq!(
        r.lookup(None, b"PATCH", b"/petstore/v1/pets/1/toys/2", &mut params),
        Lookup::MethodNotAllowed { allow: "GET" }
    );
    assert!(params.is_empty());
}

#[test]
fn rejects_duplicate_methods() {
    let err = Router::build(vec![
        spec(None, "/a", "/x", &["GET"], 0),
        spec(None, "/a", "/x", &["POST", "GET"], 1),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        RouterError::DuplicateRoute {
            base_path: "/a".into(),
            template: "/x".into(),
            method: "GET".into()
        }
    );
    // Same template under different hosts or base paths is fine.
    Router::build(vec![
        spec(None, "/a", "/x", &["GET"], 0),
        spec(Some("h"), "/a", "/x", &["GET"], 1),
        spec(None, "/b", "/x", &["GET"], 2),
    ])
    .unwrap();
}

#[test]
fn rejects_ambiguous_templates() {
    let err = Router::build(vec![
        spec(None, "/a", "/pets/{id}", &["GET"], 0),
        spec(None, "/a", "/pets/{petId}", &["POST"], 1),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        RouterError::AmbiguousTemplates {
            base_path: "/a".into(),
            first: "/pets/{id}".into(),
            second: "/pets/{petId}".into()
        }
    );
    let err = Router::build(vec![
        spec(None, "/a", "/pets", &["GET"], 0),
        spec(None, "/a", "/pets/", &["POST"], 1),
    ])
    .unwrap_err();
    assert!(matches!(err, RouterError::AmbiguousTemplates { .. }));
    // `/pets` and `/pets/*` are different resources.
    Router::build(vec![
        spec(None, "/a", "/pets", &["GET"], 0),
        spec(None, "/a", "/pets/*", &["GET"], 1),
    ])
    .unwrap();
}

#[test]
fn rejects_invalid_templates_and_base_paths() {
    let err = Router::build(vec![spec(None, "/a", "pets", &["GET"], 0)]).unwrap_err();
    assert!(matches!(err, RouterError::InvalidTemplate { .. }));
    let err = Router::build(vec![spec(None, "/a/", "/pets", &["GET"], 0)]).unwrap_err();
    assert!(matches!(err, RouterError::InvalidBasePath { .. }));
    assert!(err.to_string().contains("/a/"));
}

#[test]
fn many_apis_route_independently() {
    let mut specs = Vec::new();
    for api in 0..100u32 {
        for res in 0..20u32 {
            specs.push(spec(
                None,
                &format!("/api{api}/v1"),
                &format!("/res{res}/{{id}}/sub"),
                &["GET"],
                api * 20 + res,
            ));
        }
    }
    let r = Router::build(specs).unwrap();
    let (found, params) = find(&r, "GET", "/api57/v1/res13/abc/sub");
    assert_eq!(found, matched(57 * 20 + 13));
    assert_eq!(params, vec!["abc"]);
    assert_eq!(find(&r, "GET", "/api5/v1/res13/abc/sub").0, matched(5 * 20 + 13));
    assert_eq!(find(&r, "GET", "/api100/v1/res1/a/sub").0, Lookup::NotFound);
}

#[test]
fn long_paths_stay_bounded() {
    let r = petstore();
    let long = format!("/petstore/v1/pets/{}", "a/".repeat(4000));
    assert_eq!(find(&r, "GET", &long).0, Lookup::NotFound);
    let long = "/".repeat(8000);
    assert_eq!(find(&r, "GET", &long).0, Lookup::NotFound);
}
