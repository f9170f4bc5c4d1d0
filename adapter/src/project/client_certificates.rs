//! An apictl project's `Client-certificates/` folder: the client certificates an API secured with
//! mutual TLS (`securityScheme: [mutualssl, ...]`) trusts.
//!
//! Where it sits: [`super::load_tree`] calls [`load`] for every project; the certificates travel
//! on the [`crate::openapi::ApiDefinition`] to `compile`, which gives them to the API's routes'
//! requirements and to the HTTPS listener's client-certificate verifier. No I/O beyond the
//! project's own files.
//!
//! Layout (apictl `export api`, WSO2 APIM 4.x):
//! ```text
//! Client-certificates/
//! ├── Alias1.crt                 # PEM, one or more CERTIFICATE blocks
//! ├── Alias2.crt
//! └── client_certificates.yaml   # optional
//! ```
//! `client_certificates.yaml` (or `.yml` / `.json`): `type: client_certificates`, `data:` a list
//! of `{alias, certificate, tierName, apiIdentifier}`. `certificate` is the file name in the folder
//! (inline PEM is accepted too); when absent, `<alias>.crt`. `tierName` is kept as the caller's
//! tier; `apiIdentifier` is ignored (the project is the API). Without the yaml file every `.crt`,
//! `.pem` or `.cer` file is a certificate whose alias is the file stem and which has no tier.
//!
//! A certificate may be the client's own (matched exactly) or a CA certificate (`cA` basic
//! constraint), whose issued certificates are accepted too. Errors name the file (and the JSON
//! pointer in the yaml); an expired certificate loads with a warning (clients presenting it, or
//! one it issued, are refused at the handshake).

use serde_json::Value;
use turnpike_policy::auth::TrustedCertificate;
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::doc::Doc;
use super::Tree;
use crate::error::{LoadError, Warning};
use crate::pointer::Pointer;

/// The folder, relative to the project.
pub(super) const FOLDER: &str = "Client-certificates";
const META_FILES: [&str; 3] =
    ["client_certificates.yaml", "client_certificates.yml", "client_certificates.json"];
const CERTIFICATE_EXTENSIONS: [&str; 3] = ["crt", "pem", "cer"];

/// The project's client certificates (none when the folder is absent or empty).
pub(super) fn load(
    tree: &Tree,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<TrustedCertificate>, LoadError> {
    let files = tree.files_under(FOLDER);
    let meta = META_FILES.iter().find(|m| files.iter().any(|f| f == *m));
    let mut out = Vec::new();
    match meta {
        Some(meta) => {
            let rel = format!("{FOLDER}/{meta}");
            let Some(text) = tree.read(&rel)? else { return Ok(out) };
            let file = tree.display(&rel);
            let root = crate::openapi::read_tree(&file, &text)?;
            let doc = Doc { file, warnings };
            let top = Pointer::root();
            let data = match &root {
                Value::Null => return Ok(out),
                other => doc.object(other, &top)?,
            };
            for (i, entry) in doc.list(data, "data", &top)?.iter().enumerate() {
                let p = top.key("data").index(i);
                let entry = doc.object(entry, &p)?;
                let alias = doc.required(entry, "alias", &p, "the certificate's alias")?;
                let tier = doc.optional(entry, "tierName", &p)?.filter(|t| !t.is_empty());
                let (origin, pem) = match doc.optional(entry, "certificate", &p)? {
                    Some(inline) if inline.contains("-----BEGIN") => (doc.file.clone(), inline),
                    named => {
                        let name = named.unwrap_or_else(|| format!("{alias}.crt"));
                        if name.contains(['/', '\\']) || name.starts_with('.') {
                            return Err(doc.invalid(
                                &p.key("certificate"),
                                format!("{name:?} must be a file name in {FOLDER}/"),
                            ));
                        }
                        let rel = format!("{FOLDER}/{name}");
                        let Some(text) = tree.read(&rel)? else {
                            return Err(
                                doc.invalid(&p.key("certificate"), format!("{rel} does not exist"))
                            );
                        };
                        (tree.display(&rel), text)
                    }
                };
                parse_pem(&origin, &pem, &alias, tier, doc.warnings, &mut out)?;
            }
        }
        None => {
            for name in &files {
                let Some((stem, ext)) = name.rsplit_once('.') else { continue };
                if name.contains('/')
                    || !CERTIFICATE_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e))
                {
                    continue;
                }
                let rel = format!("{FOLDER}/{name}");
                let Some(text) = tree.read(&rel)? else { continue };
                parse_pem(&tree.display(&rel), &text, stem, None, warnings, &mut out)?;
            }
        }
    }
    Ok(out)
}

/// Every `CERTIFICATE` block of `text` (read from `file`) as a trusted certificate.
fn parse_pem(
    file: &std::path::Path,
    text: &str,
    alias: &str,
    tier: Option<String>,
    warnings: &mut Vec<Warning>,
    out: &mut Vec<TrustedCertificate>,
) -> Result<(), LoadError> {
    let invalid = |reason: String| LoadError::InvalidDefinition {
        file: file.to_path_buf(),
        pointer: String::new(),
        reason,
    };
    let mut found = 0;
    for block in Pem::iter_from_buffer(text.as_bytes()) {
        let block = block.map_err(|e| invalid(format!("broken PEM: {e}")))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        found += 1;
        match X509Certificate::from_der(&block.contents) {
            Ok((_, cert)) if !cert.validity().is_valid() => warnings.push(Warning {
                file: file.to_path_buf(),
                pointer: String::new(),
                message: format!(
                    "certificate {alias:?} is not valid now (valid {} to {}): clients presenting \
                     it are refused",
                    cert.validity().not_before,
                    cert.validity().not_after
                ),
            }),
            _ => {}
        }
        let trusted = TrustedCertificate::parse(alias.to_owned(), tier.clone(), block.contents)
            .map_err(|why| invalid(format!("not an X.509 certificate: {why}")))?;
        out.push(trusted);
    }
    if found == 0 {
        return Err(invalid("no -----BEGIN CERTIFICATE----- block (PEM expected)".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

    use super::*;

    fn cert(cn: &str, ca: bool) -> String {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        if ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        params.self_signed(&key).unwrap().pem()
    }

    fn tree(files: &[(&str, String)]) -> Tree {
        let files: BTreeMap<String, Vec<u8>> =
            files.iter().map(|(k, v)| ((*k).to_owned(), v.clone().into_bytes())).collect();
        Tree::Memory { label: PathBuf::from("p"), files }
    }

    fn load_tree(files: &[(&str, String)]) -> Result<Vec<TrustedCertificate>, LoadError> {
        load(&tree(files), &mut Vec::new())
    }

    #[test]
    fn without_yaml_every_certificate_file_is_trusted_under_its_stem() {
        let certs = load_tree(&[
            ("Client-certificates/ca.crt", cert("CA", true)),
            ("Client-certificates/alice.pem", cert("alice", false)),
            ("Client-certificates/notes.txt", "ignored".to_owned()),
        ])
        .unwrap();
        let seen: Vec<_> =
            certs.iter().map(|c| (c.alias.as_str(), c.is_ca(), c.tier.clone())).collect();
        assert_eq!(seen, [("alice", false, None), ("ca", true, None)]);
        assert!(load_tree(&[]).unwrap().is_empty());
    }

    #[test]
    fn the_yaml_names_files_and_tiers() {
        let meta = "type: client_certificates\ndata:\n  - alias: one\n    certificate: a.crt\n    \
                    tierName: Gold\n  - alias: b\n";
        let certs = load_tree(&[
            ("Client-certificates/client_certificates.yaml", meta.to_owned()),
            ("Client-certificates/a.crt", cert("a", false)),
            ("Client-certificates/b.crt", cert("b", false)),
            ("Client-certificates/unlisted.crt", cert("c", false)),
        ])
        .unwrap();
        let seen: Vec<_> = certs.iter().map(|c| (c.alias.as_str(), c.tier.as_deref())).collect();
        assert_eq!(seen, [("one", Some("Gold")), ("b", None)]);
    }

    #[test]
    fn errors_name_the_file_and_pointer() {
        let err = load_tree(&[("Client-certificates/bad.crt", "cert".to_owned())]).unwrap_err();
        let LoadError::InvalidDefinition { file, reason, .. } = err else { panic!("{err}") };
        assert_eq!(file, PathBuf::from("p/Client-certificates/bad.crt"));
        assert!(reason.contains("BEGIN CERTIFICATE"), "{reason}");

        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = load_tree(&[("Client-certificates/g.crt", garbage.to_owned())]).unwrap_err();
        let LoadError::InvalidDefinition { file, reason, .. } = err else { panic!("{err}") };
        assert_eq!(file, PathBuf::from("p/Client-certificates/g.crt"));
        assert!(reason.contains("not an X.509 certificate"), "{reason}");

        let meta = "data:\n  - alias: x\n    certificate: missing.crt\n";
        let err = load_tree(&[("Client-certificates/client_certificates.yaml", meta.to_owned())])
            .unwrap_err();
        let LoadError::InvalidDefinition { file, pointer, .. } = err else { panic!("{err}") };
        assert_eq!(file, PathBuf::from("p/Client-certificates/client_certificates.yaml"));
        assert_eq!(pointer, "/data/0/certificate");
    }
}
