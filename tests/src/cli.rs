//! Running the real `turnpike` binary as a command-line client from the e2e tests (`turnpike
//! deploy`, `token`, `revoke`, ...): the command with a clean environment, and a readable dump
//! of what it printed for assertion messages.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::gateway::binary;

/// `turnpike <args>`, run to completion with no stdin and the log level of the environment
/// removed (so a developer's `TURNPIKE_LOG` cannot change what the tests read), in `dir` when
/// given.
pub fn run(args: &[&str], dir: Option<&Path>) -> Output {
    let mut command = Command::new(binary());
    command.args(args).env_remove("TURNPIKE_LOG").stdin(Stdio::null());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command.output().expect("run turnpike")
}

/// `turnpike <args>` with the loopback default admin credentials (`admin` / `admin`).
pub fn run_as_admin(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .env("TURNPIKE_ADMIN_USER", "admin")
        .env("TURNPIKE_ADMIN_PASSWORD", "admin")
        .env_remove("TURNPIKE_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run turnpike")
}

/// Exit code, stdout and stderr, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
