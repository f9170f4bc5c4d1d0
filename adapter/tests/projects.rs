//! apictl projects (folders and zips): the shipped examples, api.yaml-over-OpenAPI semantics,
//! default versions, lifecycle (blocked, prototyped), mocks from examples, operation policies,
//! deployment vhosts, archive limits, and one broken project per rejection (file + pointer +
//! reason). Projects are written to a temporary folder (or zipped in memory) by each test.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use turnpike_adapter::openapi::{self, ApiDefinition, Method};
use turnpike_adapter::project::{self, LoadedProject};
use turnpike_adapter::{compile, load_dir, CompileError, LoadError};
use turnpike_core::router::Lookup;
use turnpike_core::{RouteAction, Settings, Snapshot};
use turnpike_policy::{BuiltinPolicy, Direction, HeaderEdit, HeaderMediation, RequestRewrite};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/apis")
}

const API_YAML: &str = r#"type: api
version: v4.2.0
data:
  name: Shop
  context: /shop
  version: 2.0.0
  lifeCycleStatus: PUBLISHED
  type: HTTP
  endpointImplementationType: ENDPOINT
  endpointConfig:
    endpoint_type: http
    production_endpoints:
      url: http://127.0.0.1:9000/api
  operations:
    - target: /items
      verb: GET
    - target: /items/{id}
      verb: GET
"#;

const SWAGGER: &str = r#"openapi: 3.0.1
info:
  title: Shop
  version: 2.0.0
paths:
  /items:
    get:
      responses:
        "200":
          description: ok
  /items/{id}:
    get:
      responses:
        "200":
          description: ok
"#;

/// A project folder with `files` (path → text) in a fresh temporary directory.
struct Project(PathBuf);

impl Project {
    fn new(tag: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir()
            .join(format!("turnpike-projects-{}-{tag}", std::process::id()))
            .join("Shop-2.0.0");
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let file = dir.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        Self(dir)
    }

    /// api.yaml and Definitions/swagger.yaml, edited by `api` / `swagger`, plus `extra` files.
    fn shop(
        tag: &str,
        api: impl Fn(&str) -> String,
        swagger: impl Fn(&str) -> String,
        extra: &[(&str, &str)],
    ) -> Self {
        let api = api(API_YAML);
        let swagger = swagger(SWAGGER);
        let mut files =
            vec![("api.yaml", api.as_str()), ("Definitions/swagger.yaml", swagger.as_str())];
        files.extend_from_slice(extra);
        Self::new(tag, &files)
    }

    fn load(&self) -> Result<LoadedProject, LoadError> {
        project::load_path(&self.0)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

/// Leaves a file as it is.
fn id(text: &str) -> String {
    text.to_owned()
}

fn snapshot(defs: &[ApiDefinition]) -> Snapshot {
    // These suites are about routing and operation policies: APIs that declare no security are
    // open here (the gateway's default is OAuth2, tested in the security suites).
    let mut open = turnpike_adapter::security::SecurityInputs::default();
    open.config.default = turnpike_adapter::security::DefaultSecurity::None;
    turnpike_adapter::compile_secured(defs, Settings::default(), &open).unwrap()
}

fn route<'s>(
    snap: &'s Snapshot,
    host: Option<&[u8]>,
    method: &str,
    path: &str,
) -> &'s turnpike_core::Route {
    let mut params = Vec::new();
    match snap.router.lookup(host, method.as_bytes(), path.as_bytes(), &mut params) {
        Lookup::Matched(index) => snap.route(index).unwrap(),
        other => panic!("{method} {path}: {other:?}"),
    }
}

fn header(direction: Direction, name: &str, value: &str) -> BuiltinPolicy {
    let edit = HeaderEdit::Set { name: name.into(), value: value.into() };
    BuiltinPolicy::Headers(HeaderMediation::new(direction, vec![edit]).unwrap())
}

fn invalid(err: LoadError) -> (PathBuf, String, String) {
    match err {
        LoadError::InvalidDefinition { file, pointer, reason } => (file, pointer, reason),
        other => panic!("expected an invalid definition, got {other}"),
    }
}

#[test]
fn example_projects_load_and_compile() {
    let petstore = project::load_path(&examples().join("petstore-project")).unwrap();
    assert!(petstore.warnings.is_empty(), "{:?}", petstore.warnings);
    let def = &petstore.definitions[0];
    assert_eq!(
        (def.name.as_str(), def.base_path.as_str()),
        ("PetstoreProject", "/petstore-project/1.0.0")
    );
    assert!(def.default_version);
    assert_eq!(def.default_base_path.as_deref(), Some("/petstore-project"));
    assert!(def.file.ends_with("petstore-project/api.yaml"));

    let pizza = project::load_path(&examples().join("pizza-mock")).unwrap();
    assert!(pizza.warnings.is_empty(), "{:?}", pizza.warnings);
    assert_eq!(pizza.definitions[0].base_path, "/pizzashack-mock/1.0.0");

    let all = load_dir(&examples()).unwrap();
    let snap = snapshot(&all.definitions);
    let pets = route(&snap, None, "GET", "/petstore-project/1.0.0/pets");
    assert_eq!(
        pets.policies,
        [
            header(Direction::Request, "X-Petstore-Client", "turnpike-example"),
            header(Direction::Response, "X-Served-By", "turnpike"),
        ]
    );
    assert_eq!(pets.action, RouteAction::Proxy);
    assert_eq!(snap.cluster(pets.production).unwrap().endpoints[0].base_path, "/v3");
    // Default version: the same route without the version.
    let unversioned = route(&snap, None, "GET", "/petstore-project/pets");
    assert_eq!(unversioned.policies, pets.policies);
    assert_eq!(unversioned.production, pets.production);
    let inventory = route(&snap, None, "GET", "/petstore-project/1.0.0/inventory");
    assert_eq!(
        inventory.policies,
        [BuiltinPolicy::Rewrite(RequestRewrite::ResourcePath {
            path: "/store/inventory".into(),
            keep_query: true
        })]
    );
    assert!(route(&snap, None, "POST", "/petstore-project/1.0.0/pets").policies.is_empty());

    let RouteAction::Mock(menu) = &route(&snap, None, "GET", "/pizzashack-mock/1.0.0/menu").action
    else {
        panic!("menu is not mocked")
    };
    assert_eq!(menu.responses.len(), 1);
    assert_eq!(menu.responses[0].status, 200);
    assert_eq!(menu.responses[0].content_type, "application/json");
    assert_eq!(
        String::from_utf8_lossy(&menu.responses[0].body),
        r#"[{"name":"Margherita","price":9.5},{"name":"Diavola","price":11}]"#
    );
    let RouteAction::Mock(order) =
        &route(&snap, None, "POST", "/pizzashack-mock/1.0.0/order").action
    else {
        panic!("order is not mocked")
    };
    let statuses: Vec<u16> = order.responses.iter().map(|m| m.status).collect();
    assert_eq!(statuses, [201, 400]);
    assert_eq!(
        String::from_utf8_lossy(&order.responses[0].body),
        r#"{"orderId":"42","status":"PLACED"}"#
    );
    assert_eq!(
        order.responses[0].headers,
        [("location".to_owned(), "/pizzashack-mock/1.0.0/order/42".to_owned())]
    );
    assert_eq!(order.responses[1].content_type, "text/plain");
    assert_eq!(order.responses[1].body, b"unknown pizza");
    let RouteAction::Mock(one) =
        &route(&snap, None, "GET", "/pizzashack-mock/1.0.0/order/7").action
    else {
        panic!("order/{{id}} is not mocked")
    };
    // Schema example (through $ref), then the 404 example.
    assert_eq!(
        String::from_utf8_lossy(&one.responses[0].body),
        r#"{"orderId":"42","status":"DELIVERED"}"#
    );
    assert_eq!(one.responses[1].status, 404);
}

#[test]
fn api_yaml_wins_and_resources_override() {
    let project = Project::shop(
        "wins",
        |api| api.replace("name: Shop", "name: ShopFromYaml"),
        |doc| {
            doc.replace(
                "paths:\n",
                "x-wso2-basePath: /elsewhere\nx-wso2-production-endpoints:\n  urls: [http://127.0.0.1:9001]\npaths:\n",
            )
            .replace(
                "  /items/{id}:\n",
                "  /items/{id}:\n    x-wso2-production-endpoints:\n      urls: [http://127.0.0.1:9002/one]\n",
            )
        },
        &[],
    );
    let loaded = project.load().unwrap();
    let def = &loaded.definitions[0];
    assert_eq!(def.name, "ShopFromYaml");
    assert_eq!(def.version, "2.0.0");
    assert_eq!(def.base_path, "/shop/2.0.0");
    assert!(!def.default_version);
    assert_eq!(def.lifecycle, "PUBLISHED");
    let items = &def.resources[0].routes[0].production.endpoints[0];
    assert_eq!((items.addr.port(), items.base_path.as_str()), (9000, "/api"));
    let one = &def.resources[1].routes[0].production.endpoints[0];
    assert_eq!((one.addr.port(), one.base_path.as_str()), (9002, "/one"));
    let pointers: Vec<&str> = loaded.warnings.iter().map(|w| w.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/x-wso2-basePath", "/x-wso2-production-endpoints"],
        "{:?}",
        loaded.warnings
    );
    assert!(loaded.warnings.iter().all(|w| w.message.contains("api.yaml")));
    // No vhost without deployment_environments.yaml.
    assert_eq!(def.vhost, None);
}

#[test]
fn contexts_compose_as_wso2_does() {
    for (context, version, base, default) in [
        ("/shop", "2.0.0", "/shop/2.0.0", "/shop"),
        ("/shop/{version}", "2.0.0", "/shop/2.0.0", "/shop"),
        ("/{version}/shop", "v2", "/v2/shop", "/shop"),
        ("/shop/2.0.0", "2.0.0", "/shop/2.0.0", "/shop"),
        ("shop/", "1", "/shop/1", "/shop"),
    ] {
        let project = Project::shop(
            "context",
            |api| {
                api.replace("context: /shop", &format!("context: \"{context}\""))
                    .replace("version: 2.0.0", &format!("version: {version}"))
                    .replace("  type: HTTP", "  type: HTTP\n  isDefaultVersion: true")
            },
            id,
            &[],
        );
        let def = project.load().unwrap().definitions.remove(0);
        assert_eq!(def.base_path, base, "{context}");
        assert_eq!(def.default_base_path.as_deref(), Some(default), "{context}");
    }
}

#[test]
fn default_version_routes_twice() {
    let project = Project::shop(
        "default",
        |api| api.replace("  type: HTTP", "  type: HTTP\n  isDefaultVersion: true"),
        id,
        &[],
    );
    let defs = project.load().unwrap().definitions;
    let snap = snapshot(&defs);
    assert_eq!(snap.routes.len(), 4);
    assert_eq!(snap.apis.len(), 1);
    let versioned = route(&snap, None, "GET", "/shop/2.0.0/items/1");
    let plain = route(&snap, None, "GET", "/shop/items/1");
    assert_eq!(versioned.production, plain.production);
    assert_eq!(versioned.api, plain.api);
    // The unversioned path conflicts with another API on /shop.
    let mut other = defs[0].clone();
    other.name = "Other".into();
    other.base_path = "/shop".into();
    other.default_version = false;
    other.file = PathBuf::from("other/api.yaml");
    match compile(&[defs[0].clone(), other], Settings::default()).unwrap_err() {
        CompileError::Conflict { base_path, first, second, .. } => {
            assert_eq!(base_path, "/shop");
            assert!(first.ends_with("Shop-2.0.0/api.yaml"), "{first:?}");
            assert_eq!(second, PathBuf::from("other/api.yaml"));
        }
        err => panic!("{err}"),
    }
}

#[test]
fn same_name_and_version_twice_conflicts() {
    let project = Project::shop("twice", id, id, &[]);
    let def = project.load().unwrap().definitions.remove(0);
    let mut copy = def.clone();
    copy.base_path = "/shop-copy/2.0.0".into();
    copy.file = PathBuf::from("copy/api.yaml");
    match compile(&[def, copy], Settings::default()).unwrap_err() {
        CompileError::Conflict { base_path, second, .. } => {
            assert!(base_path.contains("deployed twice"), "{base_path}");
            assert_eq!(second, PathBuf::from("copy/api.yaml"));
        }
        err => panic!("{err}"),
    }
}

#[test]
fn blocked_apis_answer_blocked() {
    let project = Project::shop(
        "blocked",
        |api| api.replace("lifeCycleStatus: PUBLISHED", "lifeCycleStatus: BLOCKED"),
        id,
        &[],
    );
    let defs = project.load().unwrap().definitions;
    assert_eq!(defs[0].lifecycle, "BLOCKED");
    let snap = snapshot(&defs);
    assert!(snap.routes.iter().all(|r| r.action == RouteAction::Blocked));
}

#[test]
fn retired_apis_are_not_deployed() {
    let project = Project::shop(
        "retired",
        |api| api.replace("lifeCycleStatus: PUBLISHED", "lifeCycleStatus: RETIRED"),
        id,
        &[],
    );
    let loaded = project.load().unwrap();
    assert!(loaded.definitions.is_empty());
    assert_eq!(loaded.warnings[0].pointer, "/data/lifeCycleStatus");
}

const SWAGGER2_MOCK: &str = r#"swagger: "2.0"
info:
  title: Shop
  version: 2.0.0
produces: [application/json]
paths:
  /items:
    get:
      responses:
        "404":
          description: none
          examples:
            application/json: {"error": "none"}
        "200":
          description: ok
          examples:
            application/json: [{"id": 1}]
            text/plain: "one item"
  /items/{id}:
    get:
      responses:
        "204":
          description: nothing
        default:
          description: whatever
    delete:
      responses:
        "200":
          description: no example
          schema:
            type: object
"#;

#[test]
fn mocked_swagger2_answers_from_examples() {
    let project = Project::shop(
        "mock2",
        |api| {
            api.replace(
                "endpointImplementationType: ENDPOINT",
                "endpointImplementationType: INLINE",
            )
            .replace("http://127.0.0.1:9000/api", "http://no-such-host.invalid")
        },
        |_| SWAGGER2_MOCK.to_owned(),
        &[],
    );
    let loaded = project.load().unwrap();
    let snap = snapshot(&loaded.definitions);
    let RouteAction::Mock(items) = &route(&snap, None, "GET", "/shop/2.0.0/items").action else {
        panic!("not mocked")
    };
    let got: Vec<(u16, &str, String)> = items
        .responses
        .iter()
        .map(|m| (m.status, m.content_type.as_str(), String::from_utf8_lossy(&m.body).into_owned()))
        .collect();
    assert_eq!(
        got,
        [
            (200, "application/json", r#"[{"id":1}]"#.to_owned()),
            (200, "text/plain", "one item".to_owned()),
            (404, "application/json", r#"{"error":"none"}"#.to_owned()),
        ]
    );
    let RouteAction::Mock(one) = &route(&snap, None, "GET", "/shop/2.0.0/items/1").action else {
        panic!("not mocked")
    };
    assert_eq!(one.responses.len(), 1);
    assert_eq!((one.responses[0].status, one.responses[0].body.len()), (204, 0));
    // An operation without examples is warned about (core answers 501).
    let RouteAction::Mock(none) = &route(&snap, None, "DELETE", "/shop/2.0.0/items/1").action
    else {
        panic!("not mocked")
    };
    assert!(none.responses.is_empty());
    assert!(
        loaded.warnings.iter().any(|w| w.pointer == "/paths/~1items~1{id}/delete/responses"),
        "{:?}",
        loaded.warnings
    );
    // No backend needed: the mocked routes' cluster is empty.
    assert!(snap.clusters.iter().all(|c| c.endpoints.is_empty()));
}

const POLICIES: &str = r#"      operationPolicies:
        request:
          - policyName: SET_HEADER
            policyVersion: v1
            parameters:
              headerName: X-One
              headerValue: 1
          - policyName: removeHeader
            parameters:
              headerName: X-Drop
          - policyName: addQueryParam
            parameters:
              queryParamName: src
              queryParamValue: gw
          - policyName: REWRITE_RESOURCE_PATH
            parameters:
              newResourcePath: /v2/items
              includeQueryParams: "false"
          - policyName: rewriteResourceMethod
            parameters:
              currentMethod: GET
              updatedMethod: post
          - policyName: myCustomPolicy
            policyVersion: v1
        response:
          - policyName: REMOVE_HEADER
            parameters:
              headerName: Server
        fault:
          - policyName: addHeader
            parameters:
              headerName: X-Fault
              headerValue: yes
"#;

#[test]
fn operation_policies_map_to_builtins() {
    let project = Project::shop(
        "policies",
        |api| api.replacen("      verb: GET\n", &format!("      verb: GET\n{POLICIES}"), 1),
        id,
        &[("Policies/myCustomPolicy_v1.yaml", "type: operation_policy_specification\n")],
    );
    let loaded = project.load().unwrap();
    let def = &loaded.definitions[0];
    let items = &def.resources[0].routes[0];
    assert_eq!(items.methods, [Method::Get]);
    let remove = |direction, name: &str| {
        BuiltinPolicy::Headers(
            HeaderMediation::new(direction, vec![HeaderEdit::Remove { name: name.into() }])
                .unwrap(),
        )
    };
    assert_eq!(
        items.policies,
        [
            header(Direction::Request, "X-One", "1"),
            remove(Direction::Request, "X-Drop"),
            BuiltinPolicy::Rewrite(RequestRewrite::AddQuery {
                name: "src".into(),
                value: "gw".into()
            }),
            BuiltinPolicy::Rewrite(RequestRewrite::ResourcePath {
                path: "/v2/items".into(),
                keep_query: false
            }),
            BuiltinPolicy::Rewrite(RequestRewrite::Method { method: "POST".into() }),
            remove(Direction::Response, "Server"),
        ]
    );
    assert!(def.resources[1].routes[0].policies.is_empty());
    let messages: Vec<(&str, &str)> =
        loaded.warnings.iter().map(|w| (w.pointer.as_str(), w.message.as_str())).collect();
    assert!(
        messages
            .iter()
            .any(|(p, m)| *p == "/data/operations/0/operationPolicies/request/5/policyName"
                && m.contains("myCustomPolicy")
                && m.contains("Policies/")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(p, m)| *p == "/data/operations/0/operationPolicies/fault/0"
                && m.contains("fault")),
        "{messages:?}"
    );
    let snap = snapshot(&loaded.definitions);
    assert_eq!(route(&snap, None, "GET", "/shop/2.0.0/items").policies, items.policies);
}

#[test]
fn unenforced_settings_are_warned() {
    let project = Project::shop(
        "warnings",
        |api| {
            api.replace("  type: HTTP", "  type: HTTP\n  securityScheme: [oauth2]\n  apiThrottlingPolicy: 10KPerMin")
                .replacen(
                    "      verb: GET\n",
                    "      verb: GET\n      authType: None\n      scopes: [read]\n      throttlingPolicy: 50KPerMin\n",
                    1,
                )
        },
        id,
        &[("Endpoint-certificates/backend.crt", "cert")],
    );
    let loaded = project.load().unwrap();
    let mut pointers: Vec<String> = loaded
        .warnings
        .iter()
        .map(|w| {
            let file = w.file.file_name().unwrap().to_string_lossy();
            format!("{file}#{}", w.pointer)
        })
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            "Endpoint-certificates#",
            "api.yaml#/data/apiThrottlingPolicy",
            "api.yaml#/data/operations/0/throttlingPolicy",
        ]
    );
    // securityScheme, authType and scopes are enforced: GET is open, the rest needs OAuth2.
    let def = &loaded.definitions[0];
    let securities: Vec<_> =
        def.resources.iter().flat_map(|r| &r.routes).map(|r| r.security.clone()).collect();
    assert!(securities.contains(&openapi::DeclaredSecurity::Open), "{securities:?}");
    assert!(
        securities.iter().any(|s| matches!(s, openapi::DeclaredSecurity::Required(r) if r.oauth2)),
        "{securities:?}"
    );
    // TLS to backends and mutual TLS are enforced now: no "not enforced" warning for either.
    assert!(!loaded
        .warnings
        .iter()
        .any(|w| w.message.contains("TLS") && w.message.contains("not enforced")));
}

#[test]
fn deployment_environments_give_vhosts() {
    let envs = "type: deployment_environments\nversion: v4.2.0\ndata:\n  - deploymentEnvironment: Default\n    deploymentVhost: Shop.Example.com\n  - deploymentEnvironment: Internal\n    deploymentVhost: internal.example.com\n  - deploymentEnvironment: Again\n    deploymentVhost: shop.example.com\n";
    let project = Project::shop("vhosts", id, id, &[("deployment_environments.yaml", envs)]);
    let defs = project.load().unwrap().definitions;
    let vhosts: Vec<Option<&str>> = defs.iter().map(|d| d.vhost.as_deref()).collect();
    assert_eq!(vhosts, [Some("shop.example.com"), Some("internal.example.com")]);
    let snap = snapshot(&defs);
    assert_eq!(snap.apis.len(), 2);
    route(&snap, Some(b"internal.example.com"), "GET", "/shop/2.0.0/items");
    route(&snap, Some(b"shop.example.com"), "GET", "/shop/2.0.0/items");
    let mut params = Vec::new();
    assert_eq!(
        snap.router.lookup(Some(b"other.example.com"), b"GET", b"/shop/2.0.0/items", &mut params),
        Lookup::NotFound
    );
}

/// A zip of `files` (path → bytes), deflated.
fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in files {
        out.start_file(*name, options).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn archive_reason(bytes: &[u8]) -> String {
    match project::load_archive("upload.zip", bytes).unwrap_err() {
        LoadError::Archive(reason) => reason,
        other => panic!("expected an archive error, got {other}"),
    }
}

#[test]
fn zipped_projects_load() {
    let dir = examples().join("petstore-project");
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let (api, swagger, envs) =
        (read("api.yaml"), read("Definitions/swagger.yaml"), read("deployment_environments.yaml"));
    let nested = zip(&[
        ("PetstoreProject-1.0.0/api.yaml", &api),
        ("PetstoreProject-1.0.0/Definitions/swagger.yaml", &swagger),
        ("PetstoreProject-1.0.0/deployment_environments.yaml", &envs),
        ("PetstoreProject-1.0.0/Docs/readme.md", b"docs"),
    ]);
    let loaded = project::load_archive("petstore.zip", &nested).unwrap();
    assert_eq!(loaded.origin, PathBuf::from("petstore.zip"));
    let from_folder = project::load_path(&dir).unwrap();
    assert_eq!(loaded.definitions[0].resources, from_folder.definitions[0].resources);
    assert_eq!(
        loaded.definitions[0].file,
        PathBuf::from("petstore.zip/PetstoreProject-1.0.0/api.yaml")
    );
    // A flat archive works too, and so does a .zip in the APIs directory.
    let flat = zip(&[("api.yaml", &api), ("Definitions/swagger.yaml", &swagger)]);
    assert_eq!(project::load_archive("flat.zip", &flat).unwrap().definitions.len(), 1);
    let tmp = std::env::temp_dir().join(format!("turnpike-zips-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("petstore.zip"), &nested).unwrap();
    std::fs::write(tmp.join("upload.zip.part"), b"half").unwrap();
    let all = load_dir(&tmp).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(all.definitions.len(), 1);
    // Errors inside an archive name the file inside it.
    let broken = zip(&[("P/api.yaml", b"type: api\ndata: {name: X, version: 1}\n")]);
    let (file, pointer, reason) =
        invalid(project::load_archive("broken.zip", &broken).unwrap_err());
    assert_eq!((file, pointer.as_str()), (PathBuf::from("broken.zip/P/api.yaml"), "/data/context"));
    assert!(reason.contains("missing"), "{reason}");
}

#[test]
fn hostile_archives_are_rejected() {
    assert_eq!(archive_reason(b"PK but not really a zip"), "not a zip archive");
    let traversal = archive_reason(&zip(&[("../x", b"x")]));
    assert!(traversal.contains("..") && traversal.contains("not allowed"), "{traversal}");
    let absolute = archive_reason(&zip(&[("/x", b"x")]));
    assert!(absolute.contains("absolute"), "{absolute}");
    let backslash = archive_reason(&zip(&[("a\\b", b"x")]));
    assert!(backslash.contains("backslash"), "{backslash}");
    // A zip bomb: 50 MiB of zeros compresses to ~50 KiB.
    let zeros = vec![0u8; 50 << 20];
    let bomb = archive_reason(&zip(&[("P/api.yaml", &zeros)]));
    assert!(bomb.contains("bytes") || bomb.contains("zip bomb"), "{bomb}");
    // Within the size limits but compressed far past 100:1.
    let dense = vec![b' '; 4 << 20];
    let ratio = archive_reason(&zip(&[("P/api.yaml", &dense)]));
    assert!(ratio.contains("zip bomb"), "{ratio}");
    // Over 32 MiB in all, each file under 8 MiB and not very compressible.
    let noise: Vec<u8> =
        (0..(7u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let names: Vec<String> = (0..5).map(|i| format!("P/Docs/{i}.bin")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), noise.as_slice())).collect();
    let total = archive_reason(&zip(&files));
    assert!(total.contains("uncompressed"), "{total}");
    let names: Vec<String> = (0..1001).map(|i| format!("P/Docs/{i}.md")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"x".as_slice())).collect();
    let many = archive_reason(&zip(&files));
    assert!(many.contains("1001 entries"), "{many}");
    let none = archive_reason(&zip(&[("README.md", b"x")]));
    assert!(none.contains("no api.yaml"), "{none}");
}

/// (tag, api.yaml edit, swagger edit, extra files, file name, pointer, words of the reason)
type Case = (
    &'static str,
    fn(&str) -> String,
    fn(&str) -> String,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
    &'static str,
);

const BAD: &[Case] = &[
    (
        "unknown-op",
        |a| a.replace("target: /items/{id}", "target: /missing"),
        id,
        &[],
        "api.yaml",
        "/data/operations/1",
        "GET /missing is not defined in Definitions/swagger.yaml",
    ),
    (
        "bad-header",
        |a| a.replacen("      verb: GET\n", "      verb: GET\n      operationPolicies:\n        request:\n          - policyName: addHeader\n            parameters: {headerName: \"bad name\", headerValue: x}\n", 1),
        id,
        &[],
        "api.yaml",
        "/data/operations/0/operationPolicies/request/0/parameters/headerName",
        "not a valid HTTP token",
    ),
    (
        "no-header-value",
        |a| a.replacen("      verb: GET\n", "      verb: GET\n      operationPolicies:\n        request:\n          - policyName: SET_HEADER\n            parameters: {headerName: X-A}\n", 1),
        id,
        &[],
        "api.yaml",
        "/data/operations/0/operationPolicies/request/0/parameters/headerValue",
        "missing",
    ),
    (
        "method-mismatch",
        |a| a.replacen("      verb: GET\n", "      verb: GET\n      operationPolicies:\n        request:\n          - policyName: rewriteResourceMethod\n            parameters: {currentMethod: PUT, updatedMethod: POST}\n", 1),
        id,
        &[],
        "api.yaml",
        "/data/operations/0/operationPolicies/request/0/parameters/currentMethod",
        "not this operation's method (GET)",
    ),
    (
        "bad-path",
        |a| a.replacen("      verb: GET\n", "      verb: GET\n      operationPolicies:\n        request:\n          - policyName: rewriteResourcePath\n            parameters: {newResourcePath: no-slash}\n", 1),
        id,
        &[],
        "api.yaml",
        "/data/operations/0/operationPolicies/request/0/parameters/newResourcePath",
        "must start with '/'",
    ),
    (
        "query-in-response",
        |a| a.replacen("      verb: GET\n", "      verb: GET\n      operationPolicies:\n        response:\n          - policyName: ADD_QUERY\n            parameters: {queryParamName: a, queryParamValue: b}\n", 1),
        id,
        &[],
        "api.yaml",
        "/data/operations/0/operationPolicies/response/0",
        "cannot be in the response flow",
    ),
    (
        "lifecycle",
        |a| a.replace("lifeCycleStatus: PUBLISHED", "lifeCycleStatus: LIVE"),
        id,
        &[],
        "api.yaml",
        "/data/lifeCycleStatus",
        "unknown lifecycle state \"LIVE\"",
    ),
    (
        "impl-type",
        |a| a.replace("endpointImplementationType: ENDPOINT", "endpointImplementationType: LAMBDA"),
        id,
        &[],
        "api.yaml",
        "/data/endpointImplementationType",
        "unknown implementation type",
    ),
    (
        "scheme",
        |a| a.replace("http://127.0.0.1:9000/api", "ftp://127.0.0.1:9000/api"),
        id,
        &[],
        "api.yaml",
        "/data/endpointConfig/production_endpoints/url",
        "unsupported scheme \"ftp\"",
    ),
    (
        "lb-url",
        |a| a.replace("endpoint_type: http", "endpoint_type: load_balance").replace(
            "    production_endpoints:\n      url: http://127.0.0.1:9000/api",
            "    production_endpoints:\n      - url: http://127.0.0.1:9000/api\n      - url: http://127.0.0.1:0",
        ),
        id,
        &[],
        "api.yaml",
        "/data/endpointConfig/production_endpoints/1/url",
        "invalid port",
    ),
    (
        "endpoint-type",
        |a| a.replace("endpoint_type: http", "endpoint_type: awslambda"),
        id,
        &[],
        "api.yaml",
        "/data/endpointConfig/endpoint_type",
        "not supported",
    ),
    (
        "api-type",
        |a| a.replace("  type: HTTP", "  type: WS"),
        id,
        &[],
        "api.yaml",
        "/data/type",
        "only HTTP (REST) APIs",
    ),
    (
        "no-context",
        |a| a.replace("  context: /shop\n", ""),
        id,
        &[],
        "api.yaml",
        "/data/context",
        "missing",
    ),
    (
        "not-api",
        |a| a.replace("type: api", "type: api_product"),
        id,
        &[],
        "api.yaml",
        "/type",
        "expected `type: api`",
    ),
    (
        "bad-verb",
        |a| a.replacen("verb: GET", "verb: FETCH", 1),
        id,
        &[],
        "api.yaml",
        "/data/operations/0/verb",
        "unknown method",
    ),
    (
        "no-endpoint",
        |a| a.replace("  endpointConfig:\n    endpoint_type: http\n    production_endpoints:\n      url: http://127.0.0.1:9000/api\n", ""),
        id,
        &[],
        "swagger.yaml",
        "/paths/~1items/get",
        "no production endpoint",
    ),
    (
        "vhost-port",
        id,
        id,
        &[("deployment_environments.yaml", "type: deployment_environments\ndata:\n  - deploymentEnvironment: Default\n    deploymentVhost: shop.example.com:8443\n")],
        "deployment_environments.yaml",
        "/data/0/deploymentVhost",
        "without a port",
    ),
    (
        "bad-template",
        id,
        |s| s.replace("/items/{id}:", "\"/items/{id\":"),
        &[],
        "swagger.yaml",
        "/paths/~1items~1{id",
        "whole segment",
    ),
];

#[test]
fn broken_projects_name_file_pointer_and_reason() {
    for (tag, api, swagger, extra, file, pointer, words) in BAD {
        let project = Project::shop(tag, api, swagger, extra);
        let (got_file, got_pointer, reason) = match project.load() {
            Ok(p) => panic!("{tag}: loaded: {:?}", p.warnings),
            Err(err) => invalid(err),
        };
        assert!(got_file.ends_with(file), "{tag}: {got_file:?}");
        assert!(got_file.starts_with(&project.0), "{tag}: {got_file:?}");
        assert_eq!(got_pointer, *pointer, "{tag}: {reason}");
        assert!(reason.contains(words), "{tag}: {reason}");
    }
    // No Definitions folder at all.
    let project = Project::new("no-defs", &[("api.yaml", API_YAML)]);
    let (file, pointer, reason) = invalid(project.load().unwrap_err());
    assert_eq!((file, pointer.as_str()), (project.0.join("Definitions"), ""));
    assert!(reason.contains("Definitions/swagger.yaml"), "{reason}");
    // A folder that is not a project.
    let project = Project::new("no-api", &[("Definitions/swagger.yaml", SWAGGER)]);
    let (file, _, reason) = invalid(project.load().unwrap_err());
    assert_eq!(file, project.0.join("api.yaml"));
    assert!(reason.contains("api.yaml"), "{reason}");
}

#[test]
fn bare_openapi_files_load_as_projects() {
    let loaded = project::load_path(&examples().join("petstore.yaml")).unwrap();
    assert_eq!(loaded.definitions.len(), 1);
    assert_eq!(loaded.definitions[0].lifecycle, "PUBLISHED");
    assert!(!loaded.definitions[0].default_version);
    assert!(loaded.definitions[0]
        .resources
        .iter()
        .all(|r| r.routes.iter().all(|x| x.mock.is_none())));
}
