//! `turnpike token`: test credentials for a local test issuer — signed access tokens, WSO2
//! self-contained API keys, plain API keys with the digest `[[security.api_keys]]` stores, and the
//! key pair (private key, certificate, public key) of a test issuer.
//!
//! Where it sits: a client-side command beside `init` and `deploy`; it touches no gateway. A
//! gateway accepts what it mints when `[[security.issuers]]` names the same `issuer` and the
//! matching `certificate` (or public key). Claims are built in [`super::claims`], signed with
//! [`SigningKey`]; certificates are made with rcgen. It is a test tool: keys it writes are
//! unencrypted, and nothing here is meant to replace a key manager.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, ValueEnum};
use ring::rand::{SecureRandom as _, SystemRandom};
use turnpike_policy::credentials::api_key_digest_hex;
use turnpike_policy::jose::{pkcs8_from_pem, pkcs8_pem, Alg, SignError, SigningKey};

use super::claims::{self, AccessGrant, ApiKeyGrant, SubscribedApi, TokenClaims};
use super::Failure;

const AFTER_HELP: &str = "\
EXAMPLES
  # A test issuer: a new P-256 key and a self-signed certificate for gateway.toml.
  turnpike token --generate-key issuer.key.pem --cert issuer.pem
  #   [[security.issuers]]
  #   name = \"local-test\"
  #   issuer = \"https://local-test\"
  #   certificate = \"issuer.pem\"
  # An access token with two scopes, valid for an hour.
  turnpike token --key issuer.key.pem --issuer https://local-test --scope \"read write\"
  # A WSO2 API key (send it in the apikey header) subscribed to one API.
  turnpike token --api-key --key issuer.key.pem --issuer https://local-test \\
      --application shop --api Pets:/pets/1.0.0:1.0.0
  # A plain API key and the sha256 line for a [[security.api_keys]] entry.
  turnpike token --plain-api-key

Tokens are printed on stdout, one line. Keys written with --generate-key are unencrypted PKCS#8
and meant for tests only.";

/// `turnpike token` arguments.
#[derive(Args, Debug)]
#[command(
    after_long_help = AFTER_HELP,
    group(ArgGroup::new("signer").args(["key", "generate_key"])),
)]
pub struct TokenArgs {
    /// Sign with this private key: an unencrypted PKCS#8 PEM (-----BEGIN PRIVATE KEY-----), RSA
    /// (2048-4096 bits), EC P-256 / P-384 or Ed25519.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Write a new private key (PKCS#8 PEM, mode 0600; --alg picks the type, ES256 by default)
    /// and sign with it. The file must not exist.
    #[arg(long, value_name = "FILE")]
    generate_key: Option<PathBuf>,
    /// Write a self-signed X.509 certificate of the signing key (for `certificate =` of an
    /// issuer in gateway.toml). The file must not exist.
    #[arg(long, value_name = "FILE", requires = "signer")]
    cert: Option<PathBuf>,
    /// Write the signing key's public key as a PEM (-----BEGIN PUBLIC KEY-----), which
    /// `certificate =` accepts too. The file must not exist.
    #[arg(long, value_name = "FILE", requires = "signer")]
    public_key: Option<PathBuf>,
    /// Signing algorithm [default: from the key: RS256, ES256, ES384 or EdDSA]. With an RSA key
    /// RS384, RS512, PS256, PS384 or PS512 may be chosen.
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    alg: Option<Alg>,
    /// Print a token whose `iss` is ISS: the `issuer` of a [[security.issuers]] entry.
    #[arg(long, value_name = "ISS", requires = "signer")]
    issuer: Option<String>,
    /// `sub` claim (the end user; for an API key, the subscriber).
    #[arg(long, value_name = "SUBJECT", default_value = "test-user", requires = "issuer")]
    sub: String,
    /// `scope` claim: space-separated scopes.
    #[arg(long, value_name = "SCOPES", requires = "issuer", conflicts_with = "api_key")]
    scope: Option<String>,
    /// `aud` claim; repeat for several audiences.
    #[arg(long, value_name = "AUDIENCE", requires = "issuer")]
    aud: Vec<String>,
    /// `azp` and `client_id` claims: the OAuth2 client (consumer key).
    #[arg(long, value_name = "CLIENT", requires = "issuer", conflicts_with = "api_key")]
    azp: Option<String>,
    /// Lifetime in seconds: `exp` = `iat` + TTL.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 3600,
        requires = "issuer",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    ttl: u64,
    /// `kid` header parameter (none by default).
    #[arg(long, value_name = "KID", requires = "issuer")]
    kid: Option<String>,
    /// An extra claim, NAME=VALUE; VALUE is JSON when it parses as JSON (3, true, ["a"]),
    /// otherwise a string. Applied last, so it can override any claim. Repeatable.
    #[arg(
        long,
        value_name = "NAME=VALUE",
        value_parser = claims::parse_claim,
        requires = "issuer"
    )]
    claim: Vec<(String, serde_json::Value)>,
    /// Print a WSO2 self-contained API key (a JWT with token_type apiKey, keytype, application,
    /// subscribedAPIs, tierInfo) instead of an access token; send it in the `apikey` header.
    #[arg(long, requires_all = ["issuer", "application", "api"])]
    api_key: bool,
    /// API key: the application's name.
    #[arg(long, value_name = "NAME", requires = "api_key")]
    application: Option<String>,
    /// API key: a subscribed API, NAME:CONTEXT:VERSION (e.g. Pets:/pets/1.0.0:1.0.0); repeatable.
    #[arg(long, value_name = "NAME:CONTEXT:VERSION", value_parser = claims::parse_api, requires = "api_key")]
    api: Vec<SubscribedApi>,
    /// API key: which endpoints it calls.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        default_value = "PRODUCTION",
        requires = "api_key"
    )]
    key_type: KeyTypeArg,
    /// API key: subscription and application tier.
    #[arg(long, value_name = "TIER", default_value = "Unlimited", requires = "api_key")]
    tier: String,
    /// API key: a client address or CIDR allowed to use it; repeatable [default: any].
    #[arg(long, value_name = "IP|CIDR", requires = "api_key")]
    permitted_ip: Vec<String>,
    /// API key: a Referer pattern (`*` matches any run of characters); repeatable [default: any].
    #[arg(long, value_name = "PATTERN", requires = "api_key")]
    permitted_referer: Vec<String>,
    /// Print a random plain API key (line 1) and the `sha256 = "..."` line for its
    /// [[security.api_keys]] entry (line 2). Takes no other option.
    #[arg(long, exclusive = true)]
    plain_api_key: bool,
}

/// `--key-type`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "UPPER")]
enum KeyTypeArg {
    /// Production endpoints.
    Production,
    /// Sandbox endpoints.
    Sandbox,
}

fn parse_alg(text: &str) -> Result<Alg, String> {
    Alg::parse(text).map_err(|_| {
        format!(
            "{text:?}: expected RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA"
        )
    })
}

/// Runs `turnpike token`.
pub fn run(args: &TokenArgs) -> Result<(), Failure> {
    if args.plain_api_key {
        return plain_api_key();
    }
    if args.alg.is_some_and(|alg| alg.min_hmac_key_len().is_some()) {
        return Err(Failure::usage("--alg: HS256/384/512 need a shared secret, not a key file"));
    }
    let (signer, der) = match (&args.key, &args.generate_key) {
        (Some(file), _) => load_key(file, args.alg, args.kid.clone())?,
        (None, Some(file)) => generate_key(file, args.alg, args.kid.clone())?,
        (None, None) => {
            return Err(Failure::usage(
                "nothing to do: give --key or --generate-key (or --plain-api-key); see --help",
            ))
        }
    };
    if let Some(file) = &args.cert {
        let common_name = args.issuer.as_deref().unwrap_or("Turnpike test issuer");
        write_new(file, certificate(&der, common_name)?.as_bytes(), false)?;
    }
    if let Some(file) = &args.public_key {
        write_new(file, key_pair(&der)?.public_key_pem().as_bytes(), false)?;
    }
    let Some(issuer) = &args.issuer else {
        if args.cert.is_none() && args.public_key.is_none() && args.generate_key.is_none() {
            return Err(Failure::usage(
                "nothing to do: give --issuer to print a token, or --cert / --public-key",
            ));
        }
        return Ok(());
    };
    let token_claims = TokenClaims {
        issuer: issuer.clone(),
        subject: args.sub.clone(),
        audiences: args.aud.clone(),
        ttl_s: args.ttl,
        extra: args.claim.clone(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let jti = claims::uuid_v4(random()?);
    let payload = if args.api_key {
        let grant = ApiKeyGrant {
            application: args.application.clone().unwrap_or_default(),
            apis: args.api.clone(),
            key_type: match args.key_type {
                KeyTypeArg::Production => "PRODUCTION",
                KeyTypeArg::Sandbox => "SANDBOX",
            },
            tier: args.tier.clone(),
            permitted_ip: args.permitted_ip.clone(),
            permitted_referer: args.permitted_referer.clone(),
        };
        claims::api_key(&token_claims, &grant, now, &jti, &claims::uuid_v4(random()?))
    } else {
        let grant = AccessGrant { scope: args.scope.clone(), azp: args.azp.clone() };
        claims::access_token(&token_claims, &grant, now, &jti)
    };
    let token = signer.sign(&payload).map_err(|e| Failure::rejected(e.to_string()))?;
    println!("{token}");
    Ok(())
}

fn random<const N: usize>() -> Result<[u8; N], Failure> {
    let mut bytes = [0; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Failure::rejected("the system random number generator failed"))?;
    Ok(bytes)
}

/// 32 random bytes, base64url with a `tpk_` prefix (so secret scanners can spot leaked keys).
fn plain_api_key() -> Result<(), Failure> {
    let key = format!("tpk_{}", turnpike_policy::base64::encode_url(&random::<32>()?));
    println!("{key}");
    println!("sha256 = \"{}\"", api_key_digest_hex(&key));
    eprintln!(
        "# send line 1 in the apikey header; paste line 2 into a [[security.api_keys]] entry \
         (with application = \"...\") in gateway.toml"
    );
    Ok(())
}

/// Algorithms tried, in order, when `--alg` is not given: each accepts only its key type.
const DETECT: [Alg; 4] = [Alg::RS256, Alg::ES256, Alg::ES384, Alg::EdDSA];

fn load_key(
    file: &Path,
    alg: Option<Alg>,
    kid: Option<String>,
) -> Result<(SigningKey, Vec<u8>), Failure> {
    let shown = file.display();
    let pem = std::fs::read(file).map_err(|e| Failure::rejected(format!("{shown}: {e}")))?;
    let der = pkcs8_from_pem(&pem).map_err(|e| Failure::rejected(format!("{shown}: {e}")))?;
    let key = match alg {
        Some(alg) => SigningKey::from_pkcs8_der(&der, alg, kid)
            .map_err(|e| Failure::rejected(format!("{shown}: {e}")))?,
        None => DETECT
            .iter()
            .find_map(|&alg| SigningKey::from_pkcs8_der(&der, alg, kid.clone()).ok())
            .ok_or_else(|| {
                Failure::rejected(format!(
                    "{shown}: not an RSA (2048-4096 bits), EC P-256/P-384 or Ed25519 PKCS#8 key"
                ))
            })?,
    };
    Ok((key, der))
}

fn generate_key(
    file: &Path,
    alg: Option<Alg>,
    kid: Option<String>,
) -> Result<(SigningKey, Vec<u8>), Failure> {
    let alg = alg.unwrap_or(Alg::ES256);
    let (key, der) = SigningKey::generate(alg, kid).map_err(|e| match e {
        SignError::GenerationUnsupported(_) => Failure::usage(format!("--alg {alg}: {e}")),
        other => Failure::rejected(other.to_string()),
    })?;
    write_new(file, pkcs8_pem(&der).as_bytes(), true)?;
    Ok((key, der))
}

fn key_pair(der: &[u8]) -> Result<rcgen::KeyPair, Failure> {
    rcgen::KeyPair::try_from(der)
        .map_err(|e| Failure::rejected(format!("the key cannot be used by rcgen: {e}")))
}

/// A self-signed certificate for the key (`CN` = the issuer, or a fixed name), valid as long as
/// rcgen's default (until 4096); the certificate only carries the public key to the gateway.
fn certificate(der: &[u8], common_name: &str) -> Result<String, Failure> {
    let failed = |e: rcgen::Error| Failure::rejected(format!("cannot make a certificate: {e}"));
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Turnpike test issuer (not for production)");
    Ok(params.self_signed(&key_pair(der)?).map_err(failed)?.pem())
}

/// Writes a file that must not exist yet (mode 0600 for a private key).
fn write_new(file: &Path, bytes: &[u8], private: bool) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let shown = file.display();
    let mut f = options.open(file).map_err(|e| Failure::rejected(format!("{shown}: {e}")))?;
    f.write_all(bytes).map_err(|e| Failure::rejected(format!("{shown}: {e}")))?;
    eprintln!("wrote {shown}");
    Ok(())
}
