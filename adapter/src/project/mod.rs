//! apictl API projects (WSO2 APIM 4.x `apictl export api` / `apictl init` layout), as a folder or
//! a zip of one, and bare OpenAPI files: everything the gateway can be given to serve.
//!
//! Where it sits: [`crate::load::load_dir`] calls [`load_path`] for each source in the APIs
//! directory, and the deploy manager calls [`load_archive`] for uploads; both return the
//! validated [`ApiDefinition`]s that [`crate::compile`] turns into a snapshot.
//!
//! A project holds:
//! - `api.yaml` (`type: api`): name, context, version, lifecycle, implementation type, endpoints
//!   and operations with their policies (`api_yaml`, `policies`); it wins over the OpenAPI
//!   document where both speak.
//! - `Definitions/swagger.yaml|swagger.json|openapi.yaml|openapi.json`: the OpenAPI 3.x / Swagger
//!   2.0 document (resources, resource-level `x-wso2-*` endpoints, examples for mocks).
//! - `deployment_environments.yaml` (optional): one API per distinct `deploymentVhost`; none (or
//!   an empty vhost) serves any host.
//! - `Endpoint-certificates/`: certificates trusted for the project's `https://` backends, mapped
//!   to endpoint URLs by `endpoint_certificates.yaml` (`endpoint_certs`).
//! - `Client-certificates/`: the client certificates of an API secured with mutual TLS
//!   (`client_certificates`).
//! - `Policies/`: custom policy definitions (named in warnings; the built-in policies need no
//!   file). Anything else (Docs, Image, meta-information) is ignored.
//!
//! Every error names the file (its path inside the project, prefixed by the folder or archive
//! name) and the JSON pointer; archives are read in memory under the limits of `archive`.
//! A `RETIRED` API is not deployed (WSO2 removes retired APIs from gateways): it loads with a
//! warning and no definitions.

mod api_yaml;
mod archive;
mod client_certificates;
mod doc;
mod endpoint_certs;
mod policies;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use archive::{MAX_ENTRIES, MAX_FILE, MAX_RATIO, MAX_TOTAL};

use crate::error::{LoadError, Warning};
use crate::openapi::{self, ApiDefinition, Overlay};
use crate::pointer::Pointer;
use doc::Doc;

/// The definitions one source (project folder, archive or bare file) yields.
#[derive(Debug, Clone)]
pub struct LoadedProject {
    /// One per deployment virtual host (usually one); empty for a retired API.
    pub definitions: Vec<ApiDefinition>,
    pub warnings: Vec<Warning>,
    /// The folder, archive or file it was loaded from (the archive's name for uploads).
    pub origin: PathBuf,
}

/// Names the main project file may have.
const API_FILES: [&str; 3] = ["api.yaml", "api.yml", "api.json"];
/// Names the OpenAPI document may have under `Definitions/`, in order of preference.
const DEFINITION_FILES: [&str; 6] = [
    "Definitions/swagger.yaml",
    "Definitions/swagger.yml",
    "Definitions/swagger.json",
    "Definitions/openapi.yaml",
    "Definitions/openapi.yml",
    "Definitions/openapi.json",
];
const ENVIRONMENT_FILES: [&str; 3] =
    ["deployment_environments.yaml", "deployment_environments.yml", "deployment_environments.json"];

/// Whether `dir` is an apictl project folder (holds an `api.yaml`).
pub fn is_project_dir(dir: &Path) -> bool {
    API_FILES.iter().any(|f| dir.join(f).is_file())
}

/// Loads a project folder, a project `.zip`, or a bare OpenAPI file (`.yaml`, `.yml`, `.json`).
pub fn load_path(path: &Path) -> Result<LoadedProject, LoadError> {
    if path.is_dir() {
        if !is_project_dir(path) {
            return Err(LoadError::InvalidDefinition {
                file: path.join("api.yaml"),
                pointer: String::new(),
                reason: "missing: a project folder needs an api.yaml".to_owned(),
            });
        }
        return load_tree(&Tree::Dir(path.to_path_buf()), path);
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        let size = std::fs::metadata(path)
            .map_err(|source| LoadError::Read { file: path.to_path_buf(), source })?
            .len();
        if size > MAX_TOTAL {
            return Err(LoadError::Archive(format!(
                "{}: {size} bytes; at most {MAX_TOTAL} are accepted",
                path.display()
            )));
        }
        let bytes = std::fs::read(path)
            .map_err(|source| LoadError::Read { file: path.to_path_buf(), source })?;
        return load_archive_at(path, &bytes).map_err(|err| match err {
            LoadError::Archive(reason) => {
                LoadError::Archive(format!("{}: {reason}", path.display()))
            }
            other => other,
        });
    }
    let parsed = openapi::parse_file(path)?;
    Ok(LoadedProject {
        definitions: vec![parsed.definition],
        warnings: parsed.warnings,
        origin: path.to_path_buf(),
    })
}

/// Loads a project archive held in memory; `name` labels it (and its files) in errors.
pub fn load_archive(name: &str, bytes: &[u8]) -> Result<LoadedProject, LoadError> {
    load_archive_at(Path::new(name), bytes)
}

fn load_archive_at(origin: &Path, bytes: &[u8]) -> Result<LoadedProject, LoadError> {
    let files = archive::unpack(bytes)?;
    // apictl zips hold one top-level folder (`PetstoreAPI-1.0.0/api.yaml`); accept a flat one too.
    let prefix = if API_FILES.iter().any(|f| files.contains_key(*f)) {
        String::new()
    } else {
        let tops: Vec<&str> = files
            .keys()
            .filter_map(|k| k.split_once('/'))
            .filter(|(_, rest)| API_FILES.contains(rest))
            .map(|(top, _)| top)
            .collect();
        match tops.as_slice() {
            [top] => format!("{top}/"),
            [] => {
                return Err(LoadError::Archive(
                    "no api.yaml at the top or in a single top-level folder".to_owned(),
                ))
            }
            _ => {
                return Err(LoadError::Archive(format!(
                    "several projects in one archive ({}); upload one at a time",
                    tops.join(", ")
                )))
            }
        }
    };
    let files: BTreeMap<String, Vec<u8>> = files
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|rest| (rest.to_owned(), v)))
        .collect();
    let label = origin.join(prefix.trim_end_matches('/'));
    load_tree(&Tree::Memory { label, files }, origin)
}

/// The files of a project: a folder on disk or an unpacked archive.
enum Tree {
    Dir(PathBuf),
    Memory { label: PathBuf, files: BTreeMap<String, Vec<u8>> },
}

impl Tree {
    /// The path a project file is named by in errors and warnings.
    fn display(&self, rel: &str) -> PathBuf {
        match self {
            Tree::Dir(dir) => dir.join(rel),
            Tree::Memory { label, .. } => label.join(rel),
        }
    }

    /// A file's text, `None` when absent.
    fn read(&self, rel: &str) -> Result<Option<String>, LoadError> {
        let file = self.display(rel);
        let bytes = match self {
            Tree::Dir(dir) => {
                let path = dir.join(rel);
                if !path.is_file() {
                    return Ok(None);
                }
                let read = |source| LoadError::Read { file: path.clone(), source };
                if std::fs::metadata(&path).map_err(read)?.len() > MAX_FILE {
                    return Err(LoadError::InvalidDefinition {
                        file,
                        pointer: String::new(),
                        reason: format!("larger than {MAX_FILE} bytes"),
                    });
                }
                std::fs::read(&path).map_err(read)?
            }
            Tree::Memory { files, .. } => match files.get(rel) {
                Some(bytes) => bytes.clone(),
                None => return Ok(None),
            },
        };
        String::from_utf8(bytes).map(Some).map_err(|_| LoadError::InvalidDefinition {
            file,
            pointer: String::new(),
            reason: "not UTF-8 text".to_owned(),
        })
    }

    /// The first of `names` that exists, with its text.
    fn first(&self, names: &[&'static str]) -> Result<Option<(&'static str, String)>, LoadError> {
        for name in names {
            if let Some(text) = self.read(name)? {
                return Ok(Some((name, text)));
            }
        }
        Ok(None)
    }

    /// Names of the files directly or indirectly under folder `dir` (relative to it).
    fn files_under(&self, dir: &str) -> Vec<String> {
        match self {
            Tree::Dir(root) => {
                let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| !n.starts_with('.'))
                    .collect();
                names.sort();
                names
            }
            Tree::Memory { files, .. } => files
                .keys()
                .filter_map(|k| k.strip_prefix(dir)?.strip_prefix('/'))
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Loads a project from its files.
fn load_tree(tree: &Tree, origin: &Path) -> Result<LoadedProject, LoadError> {
    let mut warnings = Vec::new();
    let Some((api_name, api_text)) = tree.first(&API_FILES)? else {
        return Err(LoadError::InvalidDefinition {
            file: tree.display("api.yaml"),
            pointer: String::new(),
            reason: "missing: an apictl project needs an api.yaml".to_owned(),
        });
    };
    let api_file = tree.display(api_name);
    let custom = tree.files_under("Policies");
    let api = {
        let root = openapi::read_tree(&api_file, &api_text)?;
        let mut doc = Doc { file: api_file.clone(), warnings: &mut warnings };
        api_yaml::parse(&mut doc, &root, &custom)?
    };

    let Some((def_name, def_text)) = tree.first(&DEFINITION_FILES)? else {
        return Err(LoadError::InvalidDefinition {
            file: tree.display("Definitions"),
            pointer: String::new(),
            reason: "missing: the project needs Definitions/swagger.yaml (or swagger.json, \
                     openapi.yaml, openapi.json)"
                .to_owned(),
        });
    };
    let def_file = tree.display(def_name);
    let overlay = Overlay {
        name: api.name.clone(),
        version: api.version.clone(),
        base_path: api.base_path.clone(),
        production: api.production.clone(),
        sandbox: api.sandbox.clone(),
        mocked: api.mocked,
        policies: api
            .operations
            .iter()
            .filter(|o| !o.policies.is_empty())
            .map(|o| (o.target.clone(), o.method, o.policies.clone()))
            .collect(),
        security: api.security.clone(),
        operation_security: api
            .operations
            .iter()
            .map(|o| (o.target.clone(), o.method, o.auth_none, o.scopes.clone()))
            .collect(),
    };
    let root = openapi::read_tree(&def_file, &def_text)?;
    let parsed = openapi::parse_with_overlay(&def_file, &root, &overlay)?;
    warnings.extend(parsed.warnings);
    let mut definition = parsed.definition;

    // Every operation api.yaml names must be a resource of the OpenAPI document.
    for op in &api.operations {
        let defined = definition.resources.iter().any(|r| {
            r.template == op.target
                && r.routes.iter().any(|route| route.methods.contains(&op.method))
        });
        if !defined {
            return Err(LoadError::InvalidDefinition {
                file: api_file,
                pointer: op.pointer.to_string(),
                reason: format!(
                    "operation {} {} is not defined in {def_name}",
                    op.method, op.target
                ),
            });
        }
    }

    let certificates = client_certificates::load(tree, &mut warnings)?;
    let schemes = api.security.schemes.as_deref().unwrap_or_default();
    let mutual_tls = schemes.iter().any(|s| s.starts_with("mutualssl"));
    if mutual_tls && certificates.is_empty() {
        warnings.push(Warning {
            file: api_file.clone(),
            pointer: "/data/securityScheme".to_owned(),
            message: format!(
                "mutual TLS without certificates in {}/: no client certificate is accepted",
                client_certificates::FOLDER
            ),
        });
    } else if !mutual_tls && !certificates.is_empty() {
        warnings.push(Warning {
            file: tree.display(client_certificates::FOLDER),
            pointer: String::new(),
            message: "securityScheme has no mutualssl: client certificates ignored".to_owned(),
        });
    }
    if mutual_tls {
        definition.client_certificates =
            std::sync::Arc::new(turnpike_policy::auth::ClientCertificates::new(certificates));
    }
    definition.endpoint_certs = endpoint_certs::load(tree, &mut warnings)?;

    definition.file = api_file.clone();
    definition.lifecycle = api.lifecycle.clone();
    definition.default_version = api.default_version;
    definition.default_base_path = api.default_version.then(|| api.default_base_path.clone());
    if api.lifecycle == "RETIRED" {
        warnings.push(Warning {
            file: api_file,
            pointer: "/data/lifeCycleStatus".to_owned(),
            message: "retired APIs are not served (WSO2 removes them from gateways); not deployed"
                .to_owned(),
        });
        return Ok(LoadedProject {
            definitions: Vec::new(),
            warnings,
            origin: origin.to_path_buf(),
        });
    }

    let vhosts = match tree.first(&ENVIRONMENT_FILES)? {
        None => None,
        Some((name, text)) => {
            let file = tree.display(name);
            let root = openapi::read_tree(&file, &text)?;
            let mut doc = Doc { file, warnings: &mut warnings };
            Some(environments(&mut doc, &root)?)
        }
    };
    let definitions = match vhosts {
        // No deployment environment file: the OpenAPI document's x-wso2-vhost, if any.
        None => vec![definition],
        Some(vhosts) if vhosts.is_empty() => {
            definition.vhost = None;
            vec![definition]
        }
        Some(vhosts) => {
            vhosts.into_iter().map(|vhost| ApiDefinition { vhost, ..definition.clone() }).collect()
        }
    };
    Ok(LoadedProject { definitions, warnings, origin: origin.to_path_buf() })
}

/// `deployment_environments.yaml`: the distinct virtual hosts (`None` = any host), in order.
fn environments(doc: &mut Doc<'_>, root: &Value) -> Result<Vec<Option<String>>, LoadError> {
    let top_ptr = Pointer::root();
    let top = doc.object(root, &top_ptr)?;
    if let Some(kind) = doc.optional(top, "type", &top_ptr)? {
        if kind != "deployment_environments" {
            return Err(doc.invalid(
                &top_ptr.key("type"),
                format!("expected `type: deployment_environments`, found {kind:?}"),
            ));
        }
    }
    let mut vhosts: Vec<Option<String>> = Vec::new();
    for (i, entry) in doc.list(top, "data", &top_ptr)?.iter().enumerate() {
        let p = top_ptr.key("data").index(i);
        let entry = doc.object(entry, &p)?;
        let vhost = match doc.optional(entry, "deploymentVhost", &p)? {
            None => None,
            Some(host) if host.is_empty() => None,
            Some(host) => {
                let host = host.to_ascii_lowercase();
                if host.contains(':') && !host.starts_with('[') {
                    return Err(doc
                        .invalid(&p.key("deploymentVhost"), "must be a host name without a port"));
                }
                if host.contains(|c: char| c == '/' || c.is_whitespace() || c.is_control()) {
                    return Err(doc.invalid(
                        &p.key("deploymentVhost"),
                        "must be a host name (no scheme, path or spaces)",
                    ));
                }
                Some(host)
            }
        };
        if !vhosts.contains(&vhost) {
            vhosts.push(vhost);
        }
    }
    Ok(vhosts)
}
