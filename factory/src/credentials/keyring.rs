//! The OS keyring, where the data key lives when the machine has one.
//!
//! Spoken through the platform's own command-line tool rather than a D-Bus or Security
//! framework binding: `secret-tool` (libsecret) talks to the Secret Service on the session bus
//! on Linux (GNOME Keyring, KWallet), `security` to the login keychain on macOS. The secret goes
//! to `secret-tool` on its standard input, never on a command line. Each call is bounded: a
//! keyring that is locked and wants to ask for a password on a screen nobody sees is taken as
//! unreachable after a few seconds, not waited on forever.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// The keyring service every data key is stored under; the account names the data directory.
pub const SERVICE: &str = "art-factory";
/// How long one keyring call may take.
const CALL_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The freedesktop Secret Service, through `secret-tool`.
    SecretService,
    /// The macOS login keychain, through `security`.
    Keychain,
}

/// One OS keyring, reachable through its tool.
#[derive(Debug, Clone)]
pub struct OsKeyring {
    kind: Kind,
    /// Environment given to the tool on top of this process's (a test's private session bus).
    env: Vec<(OsString, OsString)>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("the OS keyring is not reachable: {0}")]
    Unreachable(String),
}

impl OsKeyring {
    /// This machine's keyring, when its tool is installed and (on Linux) a session bus is there
    /// to reach the Secret Service through. Whether the service answers is known on first use.
    pub fn detect() -> Option<Self> {
        if cfg!(target_os = "macos") {
            return Path::new("/usr/bin/security")
                .exists()
                .then(|| Self::of(Kind::Keychain));
        }
        let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty());
        (bus && on_path("secret-tool")).then(|| Self::of(Kind::SecretService))
    }

    /// The Secret Service on the session bus at `bus_address` (a test's private bus).
    pub fn secret_service_on(bus_address: &str) -> Self {
        let mut keyring = Self::of(Kind::SecretService);
        keyring
            .env
            .push(("DBUS_SESSION_BUS_ADDRESS".into(), bus_address.into()));
        keyring
    }

    fn of(kind: Kind) -> Self {
        Self { kind, env: vec![] }
    }

    /// Where an entry lives, for messages.
    pub fn describe(&self, account: &str) -> String {
        match self.kind {
            Kind::SecretService => {
                format!(
                    "the OS keyring (Secret Service: service \"{SERVICE}\", account \"{account}\")"
                )
            }
            Kind::Keychain => {
                format!("the login keychain (service \"{SERVICE}\", account \"{account}\")")
            }
        }
    }

    /// The secret stored for `account`, or `None` when there is none.
    pub fn lookup(&self, account: &str) -> Result<Option<Zeroizing<String>>, KeyringError> {
        let output = match self.kind {
            Kind::SecretService => self.run(
                "secret-tool",
                &["lookup", "service", SERVICE, "account", account],
                None,
            )?,
            Kind::Keychain => self.run(
                "/usr/bin/security",
                &["find-generic-password", "-s", SERVICE, "-a", account, "-w"],
                None,
            )?,
        };
        let found = output.status_ok && !output.stdout.trim().is_empty();
        if found {
            return Ok(Some(Zeroizing::new(output.stdout.trim().to_string())));
        }
        // Both tools answer "not found" with a failure status; secret-tool says nothing on
        // stderr then, `security` exits 44. Anything else is the keyring failing.
        let not_found = match self.kind {
            Kind::SecretService => output.stderr.trim().is_empty(),
            Kind::Keychain => output.code == Some(44),
        };
        if not_found || output.status_ok {
            Ok(None)
        } else {
            Err(KeyringError::Unreachable(output.stderr.trim().to_string()))
        }
    }

    /// Stores `secret` for `account`, replacing what was there.
    pub fn store(&self, account: &str, secret: &str) -> Result<(), KeyringError> {
        let output = match self.kind {
            Kind::SecretService => {
                let label = format!("Art Factory data key ({account})");
                self.run(
                    "secret-tool",
                    &[
                        "store", "--label", &label, "service", SERVICE, "account", account,
                    ],
                    Some(secret),
                )?
            }
            // `security` takes the password only as an argument (or from a terminal prompt).
            // The key is on its command line for the moment the tool runs.
            Kind::Keychain => self.run(
                "/usr/bin/security",
                &[
                    "add-generic-password",
                    "-U",
                    "-s",
                    SERVICE,
                    "-a",
                    account,
                    "-w",
                    secret,
                ],
                None,
            )?,
        };
        if output.status_ok {
            Ok(())
        } else {
            Err(KeyringError::Unreachable(output.stderr.trim().to_string()))
        }
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<Output, KeyringError> {
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| KeyringError::Unreachable(format!("could not run {program}: {e}")))?;
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("stdin was piped");
            pipe.write_all(text.as_bytes())
                .map_err(|e| KeyringError::Unreachable(format!("{program}: {e}")))?;
        }
        wait_bounded(child, program)
    }
}

struct Output {
    status_ok: bool,
    code: Option<i32>,
    stdout: Zeroizing<String>,
    stderr: String,
}

/// Waits for the tool at most [`CALL_LIMIT`], killing it past that. The outputs are small, so
/// reading them after the exit cannot fill a pipe and block the tool.
fn wait_bounded(mut child: Child, program: &str) -> Result<Output, KeyringError> {
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < CALL_LIMIT => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(KeyringError::Unreachable(format!(
                    "{program} did not answer within {} s (a locked keyring waiting for a \
                     password?)",
                    CALL_LIMIT.as_secs()
                )));
            }
            Err(e) => return Err(KeyringError::Unreachable(format!("{program}: {e}"))),
        }
    };
    let mut stdout = Zeroizing::new(String::new());
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    Ok(Output {
        status_ok: status.success(),
        code: status.code(),
        stdout,
        stderr,
    })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}
