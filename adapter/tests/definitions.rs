//! Loading real definition files: the shipped examples, definitions exercising every supported
//! form (endpoint catalogue as list and map, references, overrides, vhost, Swagger 2.0 fallbacks),
//! and one broken file per rejection, each asserting its file, JSON pointer and reason.

use std::path::{Path, PathBuf};

use turnpike_adapter::openapi::{self, Balance, Method};
use turnpike_adapter::{compile, load_dir, CompileError, LoadError};
use turnpike_core::router::Lookup;
use turnpike_core::Settings;

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(path)
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/apis")
}

#[test]
fn examples_load_and_compile() {
    let loaded = load_dir(&examples()).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let names: Vec<&str> = loaded.definitions.iter().map(|d| d.name.as_str()).collect();
    // Bare files and the two apictl project folders (see tests/projects.rs for those).
    assert_eq!(names, ["Echo", "Orders", "PetstoreProject", "Petstore", "PizzaShackMock"]);
    let snapshot = compile(&loaded.definitions, Settings::default()).unwrap();
    assert_eq!(snapshot.version, 0);
    assert_eq!(snapshot.apis.len(), 5);
    // Echo 1 + Orders 3 + PetstoreProject 4 (twice: default version) + Petstore 3 +
    // PizzaShackMock 3.
    assert_eq!(snapshot.routes.len(), 18);
    // /v2, /store-backend and /orders on 8081, the bare 8081 of Echo, /v3 and /sandbox/v3 of the
    // project, and the empty cluster of the mocked API.
    assert_eq!(snapshot.clusters.len(), 7);

    let mut params = Vec::new();
    let route = match snapshot.router.lookup(None, b"DELETE", b"/petstore/v1/pets/7", &mut params) {
        Lookup::Matched(route) => route,
        other => panic!("{other:?}"),
    };
    let r = snapshot.route(route).unwrap();
    assert_eq!(r.template, "/pets/{petId}");
    assert_eq!(r.methods, ["GET", "DELETE"]);
    let cluster = snapshot.cluster(r.production).unwrap();
    assert_eq!(cluster.endpoints[0].base_path, "/v2");
    assert_eq!(cluster.endpoints[0].authority, "127.0.0.1:8081");
    assert_eq!(params, [(18, 19)]);
    assert_eq!(snapshot.router.base_path_len(route), "/petstore/v1".len());

    let inventory =
        snapshot.router.lookup(None, b"GET", b"/petstore/v1/store/inventory", &mut params);
    let Lookup::Matched(route) = inventory else { panic!("{inventory:?}") };
    let cluster = snapshot.cluster(snapshot.route(route).unwrap().production).unwrap();
    assert_eq!(cluster.endpoints[0].base_path, "/store-backend");

    assert_eq!(
        snapshot.router.lookup(None, b"PUT", b"/petstore/v1/pets", &mut params),
        Lookup::MethodNotAllowed { allow: "GET, POST" }
    );
    assert!(matches!(
        snapshot.router.lookup(None, b"PATCH", b"/echo/v1/anything/at/all", &mut params),
        Lookup::Matched(_)
    ));
    assert_eq!(snapshot.router.lookup(None, b"GET", b"/nothing", &mut params), Lookup::NotFound);
}

#[test]
fn compiled_ids_are_stable_across_runs() {
    let a = compile(&load_dir(&examples()).unwrap().definitions, Settings::default()).unwrap();
    let b = compile(&load_dir(&examples()).unwrap().definitions, Settings::default()).unwrap();
    let ids = |s: &turnpike_core::Snapshot| {
        (
            s.apis.iter().map(|a| a.id).collect::<Vec<_>>(),
            s.clusters.iter().map(|c| c.id).collect::<Vec<_>>(),
        )
    };
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn catalogue_references_overrides_and_warnings() {
    let parsed = openapi::parse_file(&data("good/endpoints-catalogue.yaml")).unwrap();
    let def = &parsed.definition;
    assert_eq!(def.vhost.as_deref(), Some("api.example.com"));
    assert_eq!(def.base_path, "/cat/v2");
    let items = &def.resources[0];
    assert_eq!(items.template, "/items");
    assert_eq!(items.routes.len(), 2, "GET on the API endpoint, POST+PUT on their own");
    assert_eq!(items.routes[0].methods, [Method::Get]);
    assert_eq!(items.routes[0].production.balance, Balance::LoadBalance);
    assert_eq!(items.routes[0].production.endpoints.len(), 2);
    assert_eq!(items.routes[0].production.endpoints[0].base_path, "/base");
    assert_eq!(items.routes[1].methods, [Method::Put, Method::Post]);
    assert_eq!(items.routes[1].production.endpoints[0].base_path, "/writes");
    let sandbox = items.routes[1].sandbox.as_ref().unwrap();
    assert_eq!(sandbox.endpoints[0].addr.port(), 9003);

    let pointers: Vec<(&str, &str)> =
        parsed.warnings.iter().map(|w| (w.pointer.as_str(), w.message.as_str())).collect();
    let has = |pointer: &str, needle: &str| {
        pointers.iter().any(|(p, m)| *p == pointer && m.contains(needle))
    };
    assert!(has("/x-wso2-throttling-tier", "not enforced"), "{pointers:#?}");
    assert!(has("/x-wso2-cors", "CORS"), "{pointers:#?}");
    assert!(has("/x-wso2-future-thing", "unknown WSO2 extension"), "{pointers:#?}");
    // Security is enforced now: no warnings about it; the routes carry what was declared.
    assert!(!pointers.iter().any(|(p, _)| p.contains("security")), "{pointers:#?}");
    let oauth2 = |r: &openapi::ResourceRoute| match &r.security {
        openapi::DeclaredSecurity::Required(req) => req.oauth2 && req.mandatory,
        _ => false,
    };
    assert!(items.routes.iter().all(oauth2), "root `security: [default: []]` is OAuth2");
    let delete = &def.resources[1].routes[0];
    assert_eq!(delete.security, openapi::DeclaredSecurity::Open);
    assert_eq!(pointers.len(), 3, "{pointers:#?}");
    for w in &parsed.warnings {
        assert!(w.file.ends_with("endpoints-catalogue.yaml"));
    }

    let snapshot = compile(std::slice::from_ref(def), Settings::default()).unwrap();
    let mut params = Vec::new();
    let found = snapshot.router.lookup(
        Some(b"api.example.com:9090"),
        b"DELETE",
        b"/cat/v2/items/4/x/y",
        &mut params,
    );
    assert!(matches!(found, Lookup::Matched(_)), "{found:?}");
    assert_eq!(
        snapshot.router.lookup(Some(b"other.com"), b"GET", b"/cat/v2/items", &mut params),
        Lookup::NotFound
    );
}

#[test]
fn swagger2_map_catalogue_and_fallback_base_path() {
    let parsed = openapi::parse_file(&data("good/map-catalogue.json")).unwrap();
    let def = &parsed.definition;
    assert_eq!(def.base_path, "/map");
    assert_eq!(def.version, "1.5");
    let set = &def.resources[0].routes[0].production;
    assert_eq!(set.balance, Balance::Failover);
    assert_eq!(set.endpoints[0].authority, "localhost:9005");
    let messages: Vec<String> =
        parsed.warnings.iter().map(|w| format!("{}: {}", w.pointer, w.message)).collect();
    assert!(
        messages
            .iter()
            .any(|m| m
                .starts_with("/x-wso2-basePath: missing; using base path \"/map\" from /basePath")),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("/x-wso2-endpoints/main/type: failover")),
        "{messages:#?}"
    );
}

#[test]
fn two_apis_on_one_base_path_conflict() {
    let def = openapi::parse_file(&examples().join("petstore.yaml")).unwrap().definition;
    let mut other = def.clone();
    other.file = PathBuf::from("copy.yaml");
    match compile(&[def.clone(), other.clone()], Settings::default()).unwrap_err() {
        CompileError::Conflict { base_path, first, second, .. } => {
            assert_eq!(base_path, "/petstore/v1");
            assert!(first.ends_with("petstore.yaml"));
            assert_eq!(second, PathBuf::from("copy.yaml"));
        }
        other => panic!("{other}"),
    }
    // The same base path on a different virtual host is fine.
    other.vhost = Some("internal.example.com".to_owned());
    compile(&[def, other], Settings::default()).unwrap();
}

/// (file, pointer, words the reason must contain)
const BAD: &[(&str, &str, &str)] = &[
    ("no-base-path.yaml", "/x-wso2-basePath", "missing"),
    (
        "ws-endpoint.yaml",
        "/paths/~1pets~1{id}/get/x-wso2-production-endpoints/urls/0",
        "unsupported scheme \"ws\"",
    ),
    (
        "dangling-ref.yaml",
        "/x-wso2-production-endpoints",
        "\"two\" is not defined in x-wso2-endpoints",
    ),
    ("no-production.yaml", "/paths/~1a/get", "no production endpoint"),
    ("ambiguous.yaml", "/paths/~1pets~1{petId}", "match the same paths"),
    ("bad-template.yaml", "/paths/~1files~1{name}.{ext}", "whole segment"),
    ("bad-base-path.yaml", "/x-wso2-basePath", "must not end with '/'"),
    ("bad-port.yaml", "/x-wso2-endpoints/0/main/urls/1", "invalid port"),
    ("bad-type.yaml", "/x-wso2-production-endpoints/type", "unknown endpoint type"),
    ("no-title.yaml", "/info/title", "missing"),
    ("not-openapi.yaml", "/openapi", "not an OpenAPI 3.x"),
    ("openapi2.yaml", "/openapi", "unsupported OpenAPI version"),
    ("path-no-slash.yaml", "/paths/pets", "must start with '/'"),
    ("vhost-port.yaml", "/x-wso2-vhost", "without a port"),
    ("endpoints-not-object.yaml", "/x-wso2-production-endpoints", "found a list"),
    ("empty-urls.yaml", "/paths/~1x~1y/x-wso2-production-endpoints/urls", "at least one URL"),
];

#[test]
fn broken_definitions_name_file_pointer_and_reason() {
    for (name, want_pointer, want_reason) in BAD {
        let path = data(&format!("bad/{name}"));
        match openapi::parse_file(&path) {
            Err(LoadError::InvalidDefinition { file, pointer, reason }) => {
                assert_eq!(file, path, "{name}");
                assert_eq!(&pointer, want_pointer, "{name}: {reason}");
                assert!(reason.contains(want_reason), "{name}: {reason:?} lacks {want_reason:?}");
            }
            other => panic!("{name}: expected InvalidDefinition, got {other:?}"),
        }
    }
}

#[test]
fn syntax_errors_name_line_and_column() {
    for (name, want_line) in [("yaml-syntax.yaml", 4), ("json-syntax.json", 3)] {
        match openapi::parse_file(&data(&format!("bad/{name}"))) {
            Err(LoadError::Syntax { file, line, column, .. }) => {
                assert!(file.ends_with(name));
                assert_eq!(line, want_line, "{name}");
                assert!(column > 0, "{name}");
            }
            other => panic!("{name}: expected Syntax, got {other:?}"),
        }
    }
}

#[test]
fn every_bad_file_is_covered() {
    let files = turnpike_adapter::load::definition_files(&data("bad")).unwrap();
    assert_eq!(files.len(), BAD.len() + 2, "add new bad files to BAD or the syntax test");
    // And loading the directory stops at the first (alphabetical) broken file.
    let err = load_dir(&data("bad")).unwrap_err();
    assert!(err.to_string().contains("ambiguous.yaml"), "{err}");
}
