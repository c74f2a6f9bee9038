//! A real headless Chromium for console tests: Debian's `chromedriver` started on a
//! free port, driven through WebDriver (fantoccini), waiting on conditions in the page
//! (never on sleeps) and saving screenshots under `target/console-screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::demo::root;
use crate::wait_for;

/// How long a page condition may take (a diagnostic round trip included).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A chromedriver process and one browser session (both ended on drop / `close`).
pub struct Browser {
    pub client: Client,
    driver: Child,
    shots: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium `width`×`height`, trusting the
    /// collector's self-signed chain (the test CA is not in the system store).
    pub async fn start(width: u32, height: u32) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) is installed");
        let status = format!("http://127.0.0.1:{port}/status");
        tend_client::install_crypto_provider();
        let http = reqwest::Client::new();
        wait_for("chromedriver to answer", Duration::from_secs(30), || {
            let (http, status) = (http.clone(), status.clone());
            async move {
                let r = http.get(&status).send().await.ok()?;
                let v: serde_json::Value = r.json().await.ok()?;
                v["value"]["ready"].as_bool().filter(|r| *r)
            }
        })
        .await;
        let mut caps = serde_json::Map::new();
        caps.insert("acceptInsecureCerts".into(), true.into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-extensions", format!("--window-size={width},{height}")],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        let shots = root().join("target").join("console-screenshots");
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        Browser {
            client,
            driver,
            shots,
        }
    }

    /// Waits until `css` matches a displayed element and returns it.
    pub async fn el(&self, css: &str) -> fantoccini::elements::Element {
        wait_for(&format!("element {css}"), PATIENCE, || async {
            let e = self.client.find(Locator::Css(css)).await.ok()?;
            e.is_displayed().await.ok()?.then_some(e)
        })
        .await
    }

    /// Waits until the text of `css` contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        wait_for(&format!("{needle:?} in {css}"), PATIENCE, || async {
            let t = self
                .client
                .find(Locator::Css(css))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            t.contains(needle).then_some(t)
        })
        .await
    }

    /// Runs `act` on the element `css` once it is there; when the page redrew it
    /// between finding and acting (a stale element), finds it again.
    async fn act<F, Fut>(&self, css: &str, what: &str, act: F)
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        wait_for(&format!("{what} {css}"), PATIENCE, || async {
            let e = self.el(css).await;
            match act(e).await {
                Ok(()) => Some(()),
                Err(e) if e.is_stale_element_reference() => None,
                Err(e) => panic!("{what} {css}: {e}"),
            }
        })
        .await
    }

    /// Clicks `css` once it is there.
    pub async fn click(&self, css: &str) {
        self.act(css, "click", |e| async move { e.click().await })
            .await
    }

    /// Replaces the value of the input `css` with `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        self.act(css, "fill", |e| async move {
            e.clear().await?;
            e.send_keys(text).await
        })
        .await
    }

    /// Goes to `url` (a `#/…` route of the console).
    pub async fn go(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Runs `script` in the page (a returned Promise is awaited by WebDriver).
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// Saves a screenshot as `target/console-screenshots/<name>.png`.
    pub async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("saving screenshot");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
