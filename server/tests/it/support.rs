//! `TestApp`: the whole app served on port 0 against a fresh test database.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use factory::providers::Providers;
use factory::testing::TestDb;
use factory::{Engine, EngineSettings};

pub struct TestApp {
    pub addr: SocketAddr,
    pub engine: Engine,
    pub client: reqwest::Client,
    /// Kept alive for the test; dropped (and the database with it) at the end.
    pub db: Option<TestDb>,
    pub data_dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let data_dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(
            db.pool(),
            Providers::builtin(),
            EngineSettings::new(data_dir.path()),
        );
        let mut app = Self::spawn_with(engine).await;
        app.db = Some(db);
        app.data_dir = Some(data_dir);
        app
    }

    /// Serves the app for any engine (for example one whose database is unreachable).
    pub async fn spawn_with(engine: Engine) -> Self {
        Self::spawn_with_auth(engine, server::http::auth::Auth::off()).await
    }

    /// Serves the app for `engine` behind `auth` (password mode when on).
    pub async fn spawn_with_auth(engine: Engine, auth: server::http::auth::Auth) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let options = server::http::leptos_options(Path::new("target/site"), addr);
        let router = server::http::router(
            engine.clone(),
            options,
            server::http::Shutdown::never(),
            auth,
        )
        .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            addr,
            engine,
            client: reqwest::Client::new(),
            db: None,
            data_dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Calls a server function the way the browser does: a form-encoded POST to `/api/...`.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        call_server_fn(&self.client, &self.url(""), endpoint, form_body(form)).await
    }
}

/// `a=1&b=two%20words`.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A form-encoded POST to the server function at `/api/<endpoint>`, asking for JSON back.
pub async fn call_server_fn(
    client: &reqwest::Client,
    base: &str,
    endpoint: &str,
    body: String,
) -> reqwest::Response {
    client
        .post(format!("{base}/api/{endpoint}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Percent-encodes a form value (enough for tests: everything but unreserved characters).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A project to generate into.
pub async fn project(app: &TestApp, name: &str) -> i64 {
    let created: serde_json::Value = app
        .call("projects/create", &[("name", name), ("description", "")])
        .await
        .json()
        .await
        .unwrap();
    created["id"].as_i64().unwrap()
}

/// `count` images of `prompt` on the offline generator, 64×64, random seeds.
pub fn local_launch(project_id: i64, prompt: &str, count: u32) -> factory::batches::LaunchRequest {
    factory::batches::LaunchRequest {
        project_id,
        provider: "local".into(),
        model: "waves".into(),
        prompt: prompt.into(),
        negative_prompt: String::new(),
        params: serde_json::json!({"width": 64, "height": 64})
            .as_object()
            .unwrap()
            .clone(),
        count,
        seed: factory::batches::SeedChoice::Random,
        mode: factory::prompt::Mode::Combinatorial,
        confirmed: true,
        networks: Vec::new(),
        input_image: None,
        made_from: None,
    }
}

/// Runs [`local_launch`] to the end; a worker must be running. Returns the batch and its
/// products.
pub async fn run_batch(
    app: &TestApp,
    project_id: i64,
    prompt: &str,
    count: u32,
) -> (i64, Vec<app::dto::ProductDto>) {
    let launch = local_launch(project_id, prompt, count);
    let (batch, _) = app.engine.launch(&launch).await.unwrap();
    let products = factory::testing::eventually(Duration::from_secs(30), async || {
        let mut conn = app.engine.conn().await.unwrap();
        let made = factory::products::list_for_batch(&mut conn, batch.id)
            .await
            .unwrap();
        (made.len() == count as usize).then_some(made)
    })
    .await;
    (batch.id, products.into_iter().map(Into::into).collect())
}

/// The real `art-factory` binary on its own managed database, driven over HTTP.
pub struct ServerProcess {
    child: Child,
    base: String,
    /// Everything the process wrote to stderr (its log), when captured.
    log: Option<Arc<Mutex<String>>>,
}

/// The `art-factory serve` command on a free port, with a clean environment for the settings
/// tests care about.
pub fn art_factory(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_art-factory"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("FAL_KEY")
        .env_remove("REPLICATE_API_TOKEN")
        .env_remove("CIVITAI_API_TOKEN")
        .env_remove("ART_FACTORY_MEDIA_URL")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        // Never the keyring of the desktop session the tests may run in.
        .env("ART_FACTORY_DATA_KEY_STORE", "file")
        .env("RUST_LOG", "warn");
    command
}

/// A test that ends (or fails) with its server still up takes it down, so no process outlives
/// the test run holding its output open.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `art-factory ARGS --data-dir DIR` in a clean environment (no database URL, the data key in
/// a file, never a desktop keyring).
pub fn command(args: &[&str], data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_art-factory"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("ART_FACTORY_MEDIA_URL")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("ART_FACTORY_DATA_KEY_STORE", "file")
        .env("RUST_LOG", "warn");
    command
}

/// Runs `art-factory ARGS --data-dir DIR` to its end with `stdin` piped in (a clean
/// environment, as [`art_factory`] gives).
pub fn run_command(args: &[&str], data_dir: &Path, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = command(args, data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

impl ServerProcess {
    /// Starts `art-factory serve` on a free port and waits until it says where it listens.
    pub fn start(data_dir: &Path, extra_args: &[&str]) -> Self {
        let mut command = art_factory(data_dir);
        command.args(extra_args).stderr(Stdio::inherit());
        Self::spawn(command, None)
    }

    /// [`Self::start`] with environment variables set and the whole log (at `debug`) kept for
    /// [`Self::log`].
    pub fn start_logging(data_dir: &Path, extra_args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = art_factory(data_dir);
        command
            .args(extra_args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "debug")
            .stderr(Stdio::piped());
        Self::spawn(command, Some(Arc::default()))
    }

    /// Starts `art-factory serve` on a free port against the server `database_url` names.
    pub fn start_with_database(data_dir: &Path, database_url: &str, extra_args: &[&str]) -> Self {
        let mut command = art_factory(data_dir);
        command
            .args(extra_args)
            .env("DATABASE_URL", database_url)
            .stderr(Stdio::inherit());
        Self::spawn(command, None)
    }

    /// Starts `art-factory ARGS --data-dir DIR` (its own `--listen` among the args).
    pub fn start_command(args: &[&str], data_dir: &Path) -> Self {
        let mut command = command(args, data_dir);
        command.stderr(Stdio::inherit());
        Self::spawn(command, None)
    }

    fn spawn(mut command: Command, log: Option<Arc<Mutex<String>>>) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("start art-factory");
        if let (Some(log), Some(stderr)) = (&log, child.stderr.take()) {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Art Factory is running at ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server announces its address within a minute");
        ServerProcess { child, base, log }
    }

    /// The log so far (empty unless started with [`Self::start_logging`]).
    pub fn log(&self) -> String {
        self.log
            .as_ref()
            .map(|l| l.lock().unwrap().clone())
            .unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A batch's jobs and products, as the Generate page reads them.
    pub async fn batch(&self, batch_id: i64) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
        self.post("generate/batch", format!("batch_id={batch_id}"))
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn post(&self, endpoint: &str, body: String) -> reqwest::Response {
        call_server_fn(&reqwest::Client::new(), &self.base, endpoint, body).await
    }

    /// Calls a server function whose arguments are sent as JSON (those with nested values).
    pub async fn post_json(&self, endpoint: &str, body: &serde_json::Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url(&format!("/api/{endpoint}")))
            .header("accept", "application/json")
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn project_names(&self) -> Vec<String> {
        let list: Vec<serde_json::Value> = self
            .post("projects/list", "archived=false".into())
            .await
            .json()
            .await
            .unwrap();
        list.iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// Waits for the process to exit (at most a minute).
    pub fn wait(mut self) -> std::process::ExitStatus {
        factory::testing::eventually_blocking(Duration::from_secs(60), || {
            self.child.try_wait().unwrap()
        })
    }
}

pub use factory::testing::walk;
