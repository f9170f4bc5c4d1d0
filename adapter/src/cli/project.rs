//! Projects on the client side: `turnpike init` (an apictl project skeleton) and packing a project
//! folder into the zip that `deploy` and `diff` upload (built in memory with the zip writer).
//!
//! The archive has the project folder as its single top-level directory, as `apictl` builds
//! it. Dotfiles and dot-directories (`.git`, editor swap files) are left out.

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

/// The archive bytes to upload for `path`: a folder is zipped, a `.zip` is sent as is, a bare
/// definition file is wrapped as `<stem>/Definitions/swagger.<ext>`.
pub fn archive(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    if path.is_dir() {
        return zip_folder(path);
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        return Ok(bytes);
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("api");
    let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("yaml");
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    zip.start_file(format!("{stem}/Definitions/swagger.{ext}"), options)
        .map_err(|e| format!("{shown}: {e}"))?;
    zip.write_all(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    Ok(zip.finish().map_err(|e| format!("{shown}: {e}"))?.into_inner())
}

fn zip_folder(dir: &Path) -> Result<Vec<u8>, String> {
    let root = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".to_owned());
    let mut files = Vec::new();
    collect(dir, Path::new(""), &mut files)?;
    files.sort();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for rel in files {
        let name = format!("{root}/{}", rel.to_string_lossy().replace('\\', "/"));
        let bytes = std::fs::read(dir.join(&rel)).map_err(|e| format!("{}: {e}", rel.display()))?;
        zip.start_file(name, options).map_err(|e| e.to_string())?;
        zip.write_all(&bytes).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

fn collect(base: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let dir = base.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = rel.join(&name);
        let kind = entry.file_type().map_err(|e| format!("{}: {e}", path.display()))?;
        if kind.is_dir() {
            collect(base, &path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Creates an apictl project skeleton in `dir` (which must not exist or be empty).
pub fn init(dir: &Path, oas: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    if dir.exists()
        && std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?.next().is_some()
    {
        return Err(format!("{}: exists and is not empty", dir.display()));
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "MyAPI".to_owned());
    let context = format!(
        "/{}",
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect::<String>()
    );
    let (definition, api) = match oas {
        Some(file) => {
            let text =
                std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let doc: serde_json::Value = serde_yaml_ng::from_str(&text)
                .map_err(|e| format!("{}: not YAML or JSON: {e}", file.display()))?;
            let api = ApiFields::from_oas(&doc, &name, &context);
            (text, api)
        }
        None => (
            minimal_definition(&name),
            ApiFields { name: name.clone(), version: "1.0.0".to_owned(), context, endpoint: true },
        ),
    };
    let ext = oas
        .and_then(|f| f.extension())
        .and_then(|e| e.to_str())
        .filter(|e| e.eq_ignore_ascii_case("json"))
        .map_or("yaml", |_| "json");
    let files = [
        (PathBuf::from("api.yaml"), api_yaml(&api)),
        (PathBuf::from(format!("Definitions/swagger.{ext}")), definition),
        (PathBuf::from("deployment_environments.yaml"), DEPLOYMENT_ENVIRONMENTS.to_owned()),
    ];
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// What `api.yaml` says: from the OpenAPI file given to `init --oas`, or defaults.
struct ApiFields {
    name: String,
    version: String,
    context: String,
    /// Whether to write a default `endpointConfig` (not when the OpenAPI file has endpoints).
    endpoint: bool,
}

impl ApiFields {
    fn from_oas(doc: &serde_json::Value, name: &str, context: &str) -> ApiFields {
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
        ApiFields {
            name: text(doc.pointer("/info/title")).unwrap_or_else(|| name.to_owned()),
            version: text(doc.pointer("/info/version")).unwrap_or_else(|| "1.0.0".to_owned()),
            context: text(doc.get("x-wso2-basePath"))
                .or_else(|| text(doc.get("basePath")))
                .unwrap_or_else(|| context.to_owned()),
            endpoint: doc.get("x-wso2-production-endpoints").is_none(),
        }
    }
}

fn api_yaml(api: &ApiFields) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let mut out = format!(
        "type: api\n\
         version: v4.2.0\n\
         data:\n\
         \x20 name: {}\n\
         \x20 context: {}\n\
         \x20 version: {}\n\
         \x20 lifeCycleStatus: PUBLISHED\n\
         \x20 type: HTTP\n\
         \x20 transport: [http, https]\n",
        quote(&api.name),
        quote(&api.context),
        quote(&api.version)
    );
    if api.endpoint {
        out.push_str(
            "\x20 endpointConfig:\n\
             \x20   endpoint_type: http\n\
             \x20   production_endpoints:\n\
             \x20     url: http://127.0.0.1:8080\n",
        );
    }
    out
}

/// The OpenAPI file of a new project: resources only; context, version and endpoints live in
/// `api.yaml`, as in projects apictl exports.
fn minimal_definition(name: &str) -> String {
    format!(
        "openapi: 3.0.3\n\
         info:\n\
         \x20 title: {name}\n\
         \x20 version: 1.0.0\n\
         paths:\n\
         \x20 /*:\n\
         \x20   get:\n\
         \x20     responses:\n\
         \x20       \"200\": {{description: OK}}\n"
    )
}

const DEPLOYMENT_ENVIRONMENTS: &str = "type: deployment_environments\n\
version: v4.2.0\n\
data:\n\
\x20 - displayOnDevportal: true\n\
\x20   deploymentEnvironment: Default\n";
