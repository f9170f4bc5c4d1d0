//! The `turnpike` CLI against a real gateway's admin API: deploy an apictl project, list it,
//! diff a change, undeploy it; conflicts exit 1, bad credentials and dead gateways exit 3;
//! admin deployments survive a restart with the same state directory; HTTPS with `--insecure`.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use turnpike_tests::cli::show;
use turnpike_tests::gateway::binary;
use turnpike_tests::temp::TempDir;
use turnpike_tests::{
    free_port, wait_until, wildcard_api, wildcard_api_named, Backend, Gateway, GatewayConfig,
};

/// A gateway whose admin API listens on a free loopback port (plain HTTP unless `tls`), with its
/// state in `state` (absolute).
fn admin_gateway(cfg: GatewayConfig, state: &Path, tls: bool) -> (Gateway, String) {
    let port = free_port();
    let toml = format!(
        "[admin]\naddress = \"127.0.0.1:{port}\"\nplain_http = {}\nstate_dir = \"{}\"\n",
        !tls,
        state.display()
    );
    let gw = Gateway::start(cfg.toml(&toml));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let up = wait_until(Duration::from_secs(10), || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
    assert!(up, "admin API never listened on {addr}; stderr:\n{}", gw.stderr());
    let scheme = if tls { "https" } else { "http" };
    (gw, format!("{scheme}://127.0.0.1:{port}"))
}

/// Runs `turnpike <args>` with admin credentials in the environment.
fn cli(args: &[&str]) -> Output {
    turnpike_tests::cli::run_as_admin(args)
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}:\n{}", show(out));
}

/// An OpenAPI file for `turnpike init --oas`: `Pets` 1.0 at `/pets/1.0` → `url`.
fn oas(url: &str, extra_path: bool) -> String {
    let mut text = wildcard_api_named("Pets", "/pets/1.0", url);
    if extra_path {
        text.push_str("  /extra:\n    get: {responses: {\"200\": {description: ok}}}\n");
    }
    text
}

/// `turnpike init <dir>/<name> --oas ...`: the project folder.
fn project(dir: &TempDir, name: &str, definition: &str) -> String {
    let oas_file = dir.write(&format!("{name}.oas.yaml"), definition);
    let path = dir.path().join(name);
    let out = cli(&["init", path.to_str().unwrap(), "--oas", oas_file.to_str().unwrap()]);
    assert_exit(&out, 0, "init");
    path.to_str().unwrap().to_owned()
}

fn status(gw: &Gateway, path: &str) -> u16 {
    turnpike_tests::client::get(gw.addr(), path).status
}

#[test]
fn deploy_list_diff_undeploy() {
    let backend = Backend::echo();
    let work = TempDir::new("cli");
    let (gw, admin) = admin_gateway(GatewayConfig::new(), &work.path().join("state"), false);
    let proj = project(&work, "pets", &oas(&backend.url(""), false));

    let out = cli(&["validate", &proj]);
    assert_exit(&out, 0, "validate");

    let out = cli(&["deploy", &proj, "--admin", &admin]);
    assert_exit(&out, 0, "deploy");
    assert_eq!(status(&gw, "/pets/1.0/x"), 200, "deployed API serves");

    let out = cli(&["apis", "list", "--admin", &admin]);
    assert_exit(&out, 0, "list");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("Pets") && listed.contains("admin"), "{listed}");

    // A changed project: diff shows the new route and changes nothing.
    let changed = project(&work, "pets2", &oas(&backend.url(""), true));
    let out = cli(&["diff", &changed, "--admin", &admin]);
    assert_exit(&out, 0, "diff");
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("GET /pets/1.0/extra"), "{diff}");
    assert!(diff.contains("Pets:1.0"), "changed API named: {diff}");
    assert_eq!(status(&gw, "/pets/1.0/extra"), 200, "wildcard still routes it");

    // Same API again without --override: rejected; with it: deployed.
    let out = cli(&["deploy", &changed, "--admin", &admin]);
    assert_exit(&out, 1, "deploy without --override");
    let out = cli(&["deploy", &changed, "--override", "--admin", &admin]);
    assert_exit(&out, 0, "deploy --override");

    let out = cli(&["undeploy", "--name", "Pets", "--version", "1.0", "--admin", &admin]);
    assert_exit(&out, 0, "undeploy");
    assert_eq!(status(&gw, "/pets/1.0/x"), 404, "undeployed API is gone");
    let out = cli(&["undeploy", "--name", "Pets", "--version", "1.0", "--admin", &admin]);
    assert_exit(&out, 1, "undeploy of nothing");
}

#[test]
fn conflict_with_the_api_directory_exits_1() {
    let backend = Backend::echo();
    let work = TempDir::new("cli");
    let cfg = GatewayConfig::new().api("dir.yaml", wildcard_api("/pets/1.0", &backend.url("")));
    let (gw, admin) = admin_gateway(cfg, &work.path().join("state"), false);
    let proj = project(&work, "pets", &oas(&backend.url("/other"), false));
    let out = cli(&["deploy", &proj, "--admin", &admin]);
    assert_exit(&out, 1, "conflicting deploy");
    assert!(String::from_utf8_lossy(&out.stderr).contains("conflict"), "{}", show(&out));
    assert_eq!(status(&gw, "/pets/1.0/x"), 200, "the directory API keeps serving");
}

#[test]
fn wrong_password_and_dead_gateway_exit_3() {
    let work = TempDir::new("cli");
    let (_gw, admin) = admin_gateway(GatewayConfig::new(), &work.path().join("state"), false);
    let out = Command::new(binary())
        .args(["apis", "list", "--admin", &admin, "--user", "admin", "--password", "nope"])
        .output()
        .unwrap();
    assert_exit(&out, 3, "wrong password");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("nope"), "password echoed");

    let dead = format!("http://127.0.0.1:{}", turnpike_tests::dead_port());
    let out = cli(&["apis", "list", "--admin", &dead]);
    assert_exit(&out, 3, "nothing listening");
}

#[test]
fn admin_deployments_survive_a_restart() {
    let backend = Backend::echo();
    let work = TempDir::new("cli");
    let state = work.path().join("state");
    let proj = project(&work, "pets", &oas(&backend.url(""), false));
    {
        let (gw, admin) = admin_gateway(GatewayConfig::new(), &state, false);
        let out = cli(&["deploy", &proj, "--admin", &admin]);
        assert_exit(&out, 0, "deploy");
        assert_eq!(status(&gw, "/pets/1.0/x"), 200);
    }
    let (gw, _admin) = admin_gateway(GatewayConfig::new(), &state, false);
    assert_eq!(status(&gw, "/pets/1.0/x"), 200, "served again after the restart");
}

#[test]
fn https_admin_api_with_insecure() {
    let work = TempDir::new("cli");
    let (_gw, admin) = admin_gateway(GatewayConfig::new(), &work.path().join("state"), true);
    let out = cli(&["apis", "list", "--admin", &admin, "--insecure"]);
    assert_exit(&out, 0, "list over HTTPS with --insecure");
    let out = cli(&["apis", "list", "--admin", &admin]);
    assert_exit(&out, 3, "self-signed certificate without --insecure");
}

#[test]
fn usage_errors_exit_2() {
    let out = cli(&["deploy"]);
    assert_exit(&out, 2, "missing path");
    let out = cli(&["validate", "/nonexistent/project"]);
    assert_exit(&out, 1, "invalid path");
}
