//! `Endpoint-certificates/` of an apictl project: the certificates trusted for the project's
//! `https://` backends, in WSO2's layout.
//!
//! ```yaml
//! # Endpoint-certificates/endpoint_certificates.yaml
//! type: endpoint_certificates
//! version: v4.2.0
//! data:
//!   - alias: backend
//!     endpoint: https://backend.internal:8443/api
//!     certificate: backend.crt       # a PEM file beside this one (a CA or the server's own)
//! ```
//!
//! Where it sits: `project::load_tree` calls [`load`]; the result travels on each
//! `ApiDefinition` to `compile`, where `upstream_tls` builds the trust of each endpoint from the
//! entries with its host and port (the path of `endpoint` is not compared: TLS trust is per
//! server). An endpoint without an entry is verified against the system trust store.
//!
//! Errors name the mapping file and the pointer of the entry at fault (a missing or non-PEM
//! certificate file, an endpoint that is not `https://`). Certificates no entry refers to, and
//! `interceptors/` (no interceptors here), are warned about and ignored.

use crate::error::{LoadError, Warning};
use crate::pointer::Pointer;
use crate::upstream_tls::{origin_of_url, parse_certificates, EndpointCert, EndpointCerts};

use super::doc::Doc;
use super::Tree;

const DIR: &str = "Endpoint-certificates";
const MAPPING_FILES: [&str; 3] = [
    "Endpoint-certificates/endpoint_certificates.yaml",
    "Endpoint-certificates/endpoint_certificates.yml",
    "Endpoint-certificates/endpoint_certificates.json",
];

/// Reads the mapping and the certificates it names.
pub(super) fn load(tree: &Tree, warnings: &mut Vec<Warning>) -> Result<EndpointCerts, LoadError> {
    let files = tree.files_under(DIR);
    let mut certs = EndpointCerts::default();
    let mut used: Vec<String> = Vec::new();
    if let Some((name, text)) = tree.first(&MAPPING_FILES)? {
        let file = tree.display(name);
        let root = crate::openapi::read_tree(&file, &text)?;
        let mut doc = Doc { file: file.clone(), warnings };
        let top_ptr = Pointer::root();
        let top = doc.object(&root, &top_ptr)?;
        if let Some(kind) = doc.optional(top, "type", &top_ptr)? {
            if kind != "endpoint_certificates" {
                return Err(doc.invalid(
                    &top_ptr.key("type"),
                    format!("expected `type: endpoint_certificates`, found {kind:?}"),
                ));
            }
        }
        for (i, entry) in doc.list(top, "data", &top_ptr)?.iter().enumerate() {
            let p = top_ptr.key("data").index(i);
            let entry = doc.object(entry, &p)?;
            let endpoint = doc.required(entry, "endpoint", &p, "the endpoint URL")?;
            let Some(origin) = origin_of_url(&endpoint) else {
                doc.warn(
                    &p.key("endpoint"),
                    format!("{endpoint:?} is not an https:// URL; certificate not used"),
                );
                continue;
            };
            let cert_name = doc.required(entry, "certificate", &p, "the certificate file name")?;
            if cert_name.contains(['/', '\\']) || cert_name.starts_with('.') {
                return Err(doc.invalid(
                    &p.key("certificate"),
                    format!("{cert_name:?} must be a file name in {DIR}/"),
                ));
            }
            let rel = format!("{DIR}/{cert_name}");
            let Some(pem) = tree.read(&rel)? else {
                return Err(
                    doc.invalid(&p.key("certificate"), format!("{cert_name:?} is not in {DIR}/"))
                );
            };
            let parsed = parse_certificates(pem.as_bytes()).map_err(|why| {
                doc.invalid(
                    &p.key("certificate"),
                    format!("{}: {why}", tree.display(&rel).display()),
                )
            })?;
            used.push(cert_name);
            certs.entries.push(EndpointCert {
                origin,
                certs: parsed,
                file: file.clone(),
                pointer: p.to_string(),
            });
        }
    } else if !files.is_empty() {
        warnings.push(Warning {
            file: tree.display(DIR),
            pointer: String::new(),
            message: "no endpoint_certificates.yaml maps these certificates to endpoint URLs; \
                      ignored (https:// endpoints use the system trust store)"
                .to_owned(),
        });
        return Ok(certs);
    }
    for name in files {
        let mapping =
            MAPPING_FILES.iter().any(|m| m.strip_prefix("Endpoint-certificates/") == Some(&name));
        if mapping || used.contains(&name) {
            continue;
        }
        let message = if name == "interceptors" || name.starts_with("interceptors/") {
            "interceptor certificates are not used (interceptors are not supported); ignored"
        } else {
            "not referenced by endpoint_certificates.yaml; ignored"
        };
        warnings.push(Warning {
            file: tree.display(&format!("{DIR}/{name}")),
            pointer: String::new(),
            message: message.to_owned(),
        });
    }
    Ok(certs)
}
