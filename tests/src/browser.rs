//! Headless Chromium for the page tests, driven over WebDriver: each [`Browser`] starts its own
//! chromedriver on a free port and Debian's chromium with the flags that work on these
//! machines, in a fresh profile. Screenshots are saved as test artefacts under
//! `target/browser-artifacts/`. The test command installs `chromium` and `chromium-driver`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Map, Value};
use tokio::process::{Child, Command};

/// Where Debian puts them.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Flags that let headless Chromium run here: as root without a sandbox, no GPU, and no
/// background traffic to Google (the machines' closed network refuses it, noisily).
pub const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

/// Browser tests are skipped only when the test command found no browser *and* this is not CI
/// (where a missing browser fails the run instead).
pub fn browsers_skipped() -> bool {
    let missing =
        !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if missing && ci {
        panic!("CI=true: {CHROMIUM} and {CHROMEDRIVER} are required (apt-get install chromium chromium-driver)");
    }
    if missing {
        eprintln!("skipping a browser test: no {CHROMIUM} or {CHROMEDRIVER}");
    }
    missing
}

/// One headless Chromium under its own chromedriver.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A browser with the standard flags.
    pub async fn start() -> Browser {
        Self::start_with(&[]).await
    }

    /// A browser with extra Chromium flags (fake camera, languages, ...).
    pub async fn start_with(extra_flags: &[&str]) -> Browser {
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // Its own process group, so the Chromium it starts goes with it (see `Drop`).
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&url, &mut driver).await;
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra_flags.iter().map(|f| f.to_string()));
        let mut capabilities = Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": args}),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a WebDriver session");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    /// The text of the first element matching a CSS selector.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .expect("element text")
    }

    /// Types into a field (clearing it first).
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        field.clear().await.expect("field cleared");
        field.send_keys(value).await.expect("typed");
    }

    /// Clicks the first element matching a CSS selector. A page that renders live (a queue, a
    /// workspace) may replace the element between finding and clicking it; it is then found
    /// again, a few times at most.
    pub async fn click(&self, css: &str) {
        for _ in 0..5 {
            let element = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css}: {e}"));
            match element.click().await {
                Ok(()) => return,
                Err(e) if e.is_stale_element_reference() => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{css} not clicked: {e}"),
            }
        }
        panic!("{css}: replaced by the page at each of five clicks");
    }

    /// Clicks something that loads a new page (a form's submit button, a link) and waits
    /// until that page has loaded: WebDriver's click does not always wait for the navigation.
    pub async fn click_to_load(&self, css: &str) {
        self.eval("window.beforeThisClick = true; return true")
            .await;
        self.click(css).await;
        self.wait_for(
            "return window.beforeThisClick === undefined && document.readyState === 'complete'",
            Duration::from_secs(10),
        )
        .await;
    }

    /// Runs a script in the page and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Waits (up to `timeout`) until `script` returns `true` in the page.
    pub async fn wait_for(&self, script: &str, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // A page still loading may fail the script: that is "not yet".
            if let Ok(Value::Bool(true)) = self.client.execute(script, Vec::new()).await {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for `{script}`");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first choice of a picker list (`{list_css} li button`) whose text contains
    /// `text`, waiting up to `timeout` for the list to offer it.
    pub async fn pick(&self, list_css: &str, text: &str, timeout: Duration) {
        let script = format!(
            "const b = [...document.querySelectorAll('{list_css} li button')].find(b => b.textContent.includes({text:?})); if (!b) return false; b.click(); return true;"
        );
        self.wait_for(&script, timeout).await;
    }

    /// The text of an element a live page may replace at any moment (a queue fed by server-sent
    /// events): read in one script, empty if the element is not there at that moment.
    pub async fn live_text(&self, css: &str) -> String {
        self.eval(&format!(
            "const e = document.querySelector({css:?}); return e ? e.textContent : ''"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Saves a PNG of the page as a test artefact; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).expect("the artefacts directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot saved");
        path
    }

    /// Ends the WebDriver session (closing Chromium) and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        let _ = self.driver.wait().await;
    }
}

/// A test that fails panics past `close()`: chromedriver is killed on drop, but the Chromium it
/// started would be left running (and busy with a live page) for the rest of the suite. The
/// whole process group goes instead.
impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// `target/browser-artifacts/` of the workspace.
pub fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("browser-artifacts")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn wait_until_ready(url: &str, driver: &mut Child) {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(Some(status)) = driver.try_wait() {
            panic!("chromedriver exited at start: {status}");
        }
        if let Ok(answer) = client.get(format!("{url}/status")).send().await {
            if let Ok(body) = answer.json::<Value>().await {
                if body["value"]["ready"] == true {
                    return;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not become ready at {url}");
}

/// A network link between the browser and the server that the test can cut and restore: a
/// TCP relay on its own port. Cutting it closes every open connection (as a dropped Wi-Fi or
/// a restarted proxy does) and refuses new ones until it is restored.
pub struct FlakyLink {
    /// `http://127.0.0.1:<port>`: the server, through the link.
    pub address: String,
    up: tokio::sync::watch::Sender<bool>,
}

impl FlakyLink {
    /// A link to the server at `target` (`http://127.0.0.1:<port>`).
    pub async fn to(target: &str) -> FlakyLink {
        let target = target
            .strip_prefix("http://")
            .expect("an http:// address")
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a relay port");
        let address = format!("http://{}", listener.local_addr().expect("an address"));
        let (up, _) = tokio::sync::watch::channel(true);
        let state = up.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut link = state.subscribe();
                if !*link.borrow_and_update() {
                    continue; // dropped at once: the network is down
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = link.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        FlakyLink { address, up }
    }

    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}
