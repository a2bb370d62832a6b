//! A private OS keyring for tests: a session bus of its own and GNOME Keyring's Secret Service
//! on it, unlocked, in a throwaway home. The real service, not a stand-in; the machine's own
//! session (if any) is never touched.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::credentials::keyring::OsKeyring;

const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

pub struct PrivateKeyring {
    bus: Child,
    daemon: Child,
    address: String,
    _home: tempfile::TempDir,
}

impl PrivateKeyring {
    /// Starts the bus and the keyring daemon; panics with the fix when they are not installed.
    pub fn start() -> Self {
        let home = tempfile::tempdir().expect("temp home");
        let runtime = home.path().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        // A session bus without service activation: a call that comes before our daemon has
        // its name must fail and be retried, not start a second, locked keyring daemon.
        let config = home.path().join("bus.conf");
        std::fs::write(&config, BUS_CONFIG).unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus) is needed for the keyring test: run scripts/setup");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", home.path().join("data"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (package gnome-keyring) is needed: run scripts/setup");
        // The password that unlocks (and first creates) the login keyring, then end of input.
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(b"test-login-password").unwrap();
        drop(stdin);
        let keyring = Self {
            bus,
            daemon,
            address,
            _home: home,
        };
        keyring.wait_until_answering();
        keyring
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn os_keyring(&self) -> OsKeyring {
        OsKeyring::secret_service_on(&self.address)
    }

    /// Waits until the daemon stores and returns a secret: answering a lookup is not enough,
    /// the login collection may still be being made and unlocked.
    fn wait_until_answering(&self) {
        let started = Instant::now();
        let keyring = self.os_keyring();
        let probe = "art-factory readiness probe";
        loop {
            let round_trip = keyring
                .store(probe, "ready")
                .and_then(|()| keyring.lookup(probe));
            match round_trip {
                Ok(Some(value)) if value.as_str() == "ready" => return,
                other if started.elapsed() > Duration::from_secs(20) => {
                    panic!("the private keyring did not come up: {other:?}")
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        for child in [&mut self.daemon, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
