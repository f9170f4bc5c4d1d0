//! API keys from configuration: SHA-256 digests (FIPS 180-4 vectors), store lookups and
//! configuration errors.

use turnpike_policy::credentials::{
    api_key_digest_hex, parse_sha256_hex, sha256, sha256_hex, ApiKeyEntry, ApiKeyStore,
    InvalidApiKeyConfig,
};
use turnpike_policy::KeyType;

#[test]
fn sha256_fips_180_vectors() {
    let vectors = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
    ];
    for (input, hex) in vectors {
        assert_eq!(sha256_hex(input.as_bytes()), hex, "{input:?}");
        assert_eq!(api_key_digest_hex(input), hex);
        assert_eq!(parse_sha256_hex(hex), Some(sha256(input.as_bytes())));
    }
    let million_a = "a".repeat(1_000_000);
    assert_eq!(
        api_key_digest_hex(&million_a),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

fn entry(app: &str, key: &str, key_type: KeyType, apis: Option<&[&str]>) -> ApiKeyEntry {
    ApiKeyEntry {
        application: app.into(),
        sha256_hex: api_key_digest_hex(key),
        key_type,
        apis: apis.map(|a| a.iter().map(|s| (*s).to_owned()).collect()),
    }
}

const PROD_KEY: &str = "tpk_live_6f1c2d9e0a7b4c3d8e5f6a7b8c9d0e1f";
const SANDBOX_KEY: &str = "tpk_test_0a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn store() -> ApiKeyStore {
    ApiKeyStore::new([
        entry("mobile-app", PROD_KEY, KeyType::Production, None),
        entry("partner", SANDBOX_KEY, KeyType::Sandbox, Some(&["PizzaShack", "Orders"])),
    ])
    .unwrap()
}

#[test]
fn lookup_returns_the_grant() {
    let store = store();
    assert_eq!(store.len(), 2);
    let prod = store.lookup(PROD_KEY.as_bytes()).unwrap();
    assert_eq!(prod.application(), "mobile-app");
    assert_eq!(prod.key_type(), KeyType::Production);
    assert_eq!(prod.apis(), None);
    assert!(prod.allows_api("Anything"));

    let sandbox = store.lookup(SANDBOX_KEY.as_bytes()).unwrap();
    assert_eq!(sandbox.key_type(), KeyType::Sandbox);
    assert!(sandbox.allows_api("Orders"));
    assert!(!sandbox.allows_api("Payments"));
}

#[test]
fn unknown_or_altered_keys_are_not_found() {
    let store = store();
    for presented in [
        "",
        "tpk_live_6f1c2d9e0a7b4c3d8e5f6a7b8c9d0e1",
        "tpk_live_6f1c2d9e0a7b4c3d8e5f6a7b8c9d0e1f ",
        "TPK_LIVE_6F1C2D9E0A7B4C3D8E5F6A7B8C9D0E1F",
        // The digest itself is not a key.
        &api_key_digest_hex(PROD_KEY),
    ] {
        assert!(store.lookup(presented.as_bytes()).is_none(), "{presented:?}");
    }
}

#[test]
fn digests_are_accepted_in_upper_case_and_with_surrounding_space() {
    let mut e = entry("a", PROD_KEY, KeyType::Production, None);
    e.sha256_hex = format!("  {}\n", e.sha256_hex.to_uppercase());
    let store = ApiKeyStore::new([e]).unwrap();
    assert!(store.lookup(PROD_KEY.as_bytes()).is_some());
}

#[test]
fn plain_keys_in_config_are_refused_without_echo() {
    let mut e = entry("shop", PROD_KEY, KeyType::Production, None);
    e.sha256_hex = PROD_KEY.into();
    let err = ApiKeyStore::new([e]).unwrap_err();
    assert_eq!(err, InvalidApiKeyConfig::InvalidDigest { index: 0, application: "shop".into() });
    assert!(!err.to_string().contains(PROD_KEY));

    let mut short = entry("shop", PROD_KEY, KeyType::Production, None);
    short.sha256_hex.pop();
    assert!(matches!(ApiKeyStore::new([short]), Err(InvalidApiKeyConfig::InvalidDigest { .. })));
}

#[test]
fn duplicate_digests_are_refused() {
    let err = ApiKeyStore::new([
        entry("a", PROD_KEY, KeyType::Production, None),
        entry("b", SANDBOX_KEY, KeyType::Sandbox, None),
        entry("c", PROD_KEY, KeyType::Sandbox, None),
    ])
    .unwrap_err();
    assert_eq!(err, InvalidApiKeyConfig::DuplicateDigest { index: 2, first_index: 0 });
}

#[test]
fn empty_store() {
    let store = ApiKeyStore::new([]).unwrap();
    assert!(store.is_empty());
    assert!(store.lookup(PROD_KEY.as_bytes()).is_none());
}
