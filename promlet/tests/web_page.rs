//! The web page at `/` in a real browser: headless Debian Chromium driven by ChromeDriver
//! through the W3C WebDriver HTTP protocol (plain JSON requests), against `promlet serve`
//! over imported series. The page's table, graph, URL state, error display and escaping of
//! label text are checked by polling the DOM with deadlines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Guard, encode, free_port, get, serve_command, wait_for, wait_listening};

/// How long any one thing the page does may take.
const DEADLINE: Duration = Duration::from_secs(30);

/// The key WebDriver types for Enter.
const ENTER: &str = "\u{E007}";

/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `up{job="a"}` = 1 and `up{job="b"}` = 0 every 15 s over the ten minutes before `now_s`,
/// and one `weird` series whose label value holds markup and quotes.
fn openmetrics(now_s: i64) -> String {
    let mut s = String::from("# TYPE up gauge\n");
    for (job, v) in [("a", 1), ("b", 0)] {
        for t in (now_s - 600..now_s).step_by(15) {
            s += &format!("up{{job=\"{job}\"}} {v} {t}\n");
        }
    }
    s += "# TYPE weird gauge\n";
    s += &format!("weird{{note=\"<i>x</i> \\\"q\\\"\"}} 2 {}\n", now_s - 5);
    s + "# EOF\n"
}

/// A ChromeDriver process and its browser session; deleting the session quits Chromium,
/// and the whole process group is killed on every path out of the test.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Browser {
    fn start(profile: &Path) -> Browser {
        use std::os::unix::process::CommandExt;
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver runs (scripts/test.sh installs chromium-driver)");
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(90)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
        };
        wait_for("chromedriver ready", DEADLINE, || {
            let status = get(&format!("{}/status", browser.base))?;
            let status: Value = serde_json::from_str(&status).ok()?;
            status["value"]["ready"].as_bool()?.then_some(())
        });
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let created = browser.request("POST", "/session", Some(caps));
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {created}"))
            .to_string();
        browser
    }

    /// A WebDriver command's `value`, failing the test on an error answer.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status();
        let text = resp.body_mut().read_to_string().unwrap();
        let answer: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"));
        assert!(status.is_success(), "{method} {path}: {status}: {text}");
        answer["value"].clone()
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.request(method, &format!("/session/{}{path}", self.session), body)
    }

    fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The element found by `using` (`css selector`, `xpath`).
    fn find_by(&self, using: &str, selector: &str) -> String {
        let found = self.command(
            "POST",
            "/element",
            Some(json!({ "using": using, "value": selector })),
        );
        found[ELEMENT].as_str().unwrap().to_string()
    }

    fn find(&self, css: &str) -> String {
        self.find_by("css selector", css)
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/click"), None);
    }

    /// Empties the `css` field and types `text` into it.
    fn retype(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/clear"), None);
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn script(&self, js: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": js, "args": [] })),
        )
    }

    /// Polls `probe` until it gives a value; on timeout, fails with the page's address, the
    /// error box and the main part of the page.
    fn wait<T>(&self, what: &str, mut probe: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(v) = probe(self) {
                return v;
            }
            if Instant::now() > deadline {
                let page = self.script(
                    "const $ = (id) => document.getElementById(id);
                     const main = document.querySelector('main');
                     return [location.href, $('expr').value, $('range').value, $('end').value,
                             $('error').hidden ? '(hidden)' : $('error').textContent,
                             $('graph').getAttribute('src'),
                             main ? main.outerHTML : document.documentElement.outerHTML];",
                );
                let html: String = page[6]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(4000)
                    .collect();
                panic!(
                    "timed out waiting for {what}\nat {}\nexpr: {}\nrange: {} end: {}\n\
                     #error: {}\n#graph src: {}\nrows: {:?}\npage:\n{html}",
                    page[0],
                    page[1],
                    page[2],
                    page[3],
                    page[4],
                    page[5],
                    self.rows(),
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The result table's rows as cell texts, sorted.
    fn rows(&self) -> Vec<Vec<String>> {
        let rows = self.script(
            "return [...document.querySelectorAll('table#result tbody tr')]
                 .map(tr => [...tr.cells].map(td => td.textContent));",
        );
        let mut rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
        rows.sort();
        rows
    }

    fn wait_rows(&self, want: &[[&str; 2]]) {
        let want: Vec<Vec<String>> = want
            .iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        self.wait(&format!("table rows {want:?}"), |b| {
            (b.rows() == want).then_some(())
        });
    }

    fn expr_box(&self) -> String {
        let v = self.script("return document.getElementById('expr').value;");
        v.as_str().unwrap().to_string()
    }

    /// Waits until `#graph` has loaded an image; its `src` parameters.
    fn wait_graph(&self) -> Vec<(String, String)> {
        let params = self.wait("the graph image to load", |b| {
            let got = b.script(
                "const i = document.getElementById('graph');
                 if (!i.complete || !i.naturalWidth) return null;
                 const u = new URL(i.src);
                 return [u.pathname, [...u.searchParams]];",
            );
            (!got.is_null()).then_some(got)
        });
        assert_eq!(params[0], "/api/v1/render", "{params}");
        serde_json::from_value(params[1].clone()).unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = self.agent.delete(&url).call();
        }
        let pid = rustix::process::Pid::from_child(&self.driver);
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {params:?}"))
}

/// The `error` text of the API's 400 answer at `url`.
fn api_error(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut resp = agent.get(url).call().unwrap();
    let body = resp.body_mut().read_to_string().unwrap();
    assert_eq!(resp.status(), 400, "{url}: {body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    json["error"].as_str().unwrap().to_string()
}

/// Waits until `#error` shows text containing `want`; the text.
fn wait_error(browser: &Browser, want: &str) -> String {
    browser.wait(&format!("the error {want:?} shown"), |b| {
        let e = b.script(
            "const e = document.getElementById('error'); return e.hidden ? '' : e.textContent;",
        );
        let e = e.as_str().unwrap_or_default().to_string();
        e.contains(want).then_some(e)
    })
}

#[test]
fn web_page_in_chromium() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let now_s = model::now_ms() / 1000;
    let data = support::import(dir.path(), &openmetrics(now_s));
    let listen = format!("127.0.0.1:{}", free_port());
    let _serve = Guard(
        serve_command(&listen, &data)
            .spawn()
            .expect("promlet serve starts"),
    );
    let server = format!("http://{listen}");
    wait_listening(&listen);
    wait_for("promlet ready", DEADLINE, || {
        get(&format!("{server}/-/ready"))
    });

    let profile = dir.path().join("chromium");
    let browser = Browser::start(&profile);

    // The table of an instant query, executed with the button; the header's links.
    let expr = r#"up{job=~"a|b"}"#;
    browser.goto(&format!("{server}/"));
    browser.retype("#expr", expr);
    browser.click("#run");
    browser.wait_rows(&[[r#"up{job="a"}"#, "1"], [r#"up{job="b"}"#, "0"]]);
    let links = browser.script(
        "return [...document.querySelectorAll('header a')].map(a => a.getAttribute('href'));",
    );
    assert_eq!(
        links,
        json!(["/api/v1/targets", "/api/v1/autoscale", "/metrics"])
    );

    // The graph over the last 15 minutes: 900 s in 250 steps of at least a second.
    let option = browser.find_by("xpath", "//select[@id='range']/option[text()='15m']");
    browser.command("POST", &format!("/element/{option}/click"), None);
    browser.click("#tab-graph");
    let params = browser.wait_graph();
    assert_eq!(param(&params, "query"), expr);
    assert_eq!(param(&params, "format"), "png");
    assert_eq!(param(&params, "step"), "4");
    let (start, end): (i64, i64) = (
        param(&params, "start").parse().unwrap(),
        param(&params, "end").parse().unwrap(),
    );
    assert_eq!(end - start, 900);

    // The address bar restores the expression, the tab and the range in a fresh page.
    let url = browser.url();
    assert!(
        url.contains("tab=graph") && url.contains("range=15m"),
        "{url}"
    );
    browser.goto("about:blank");
    browser.goto(&url);
    browser.wait("the graph restored", |b| {
        (b.expr_box() == expr).then_some(())
    });
    let restored = browser.script("return document.getElementById('range').value;");
    assert_eq!(restored, "15m");
    assert_eq!(param(&browser.wait_graph(), "query"), expr);
    browser.click("#tab-table");
    browser.wait_rows(&[[r#"up{job="a"}"#, "1"], [r#"up{job="b"}"#, "0"]]);
    let url = browser.url();
    assert!(url.contains("tab=table"), "{url}");
    browser.goto("about:blank");
    browser.goto(&url);
    browser.wait("the expression restored", |b| {
        (b.expr_box() == expr).then_some(())
    });
    browser.wait_rows(&[[r#"up{job="a"}"#, "1"], [r#"up{job="b"}"#, "0"]]);

    // A malformed expression, executed with Enter: the API's error text, no rows.
    let bad = "sum(up";
    let want = api_error(&format!("{server}/api/v1/query?query={}", encode(bad)));
    browser.retype("#expr", &format!("{bad}{ENTER}"));
    let shown = wait_error(&browser, &want);
    assert!(browser.rows().is_empty(), "{shown}");
    assert!(browser.url().contains("expr=sum%28up"), "{}", browser.url());
    // On the graph, the failed image's URL is fetched to show the API's error.
    let bad = "rate(up[5m]";
    browser.click("#tab-graph");
    browser.retype("#expr", bad);
    browser.click("#run");
    let src = browser.wait("the graph of the malformed expression", |b| {
        let src = b.script("return document.getElementById('graph').src;");
        let src = src.as_str().unwrap_or_default().to_string();
        src.contains(&format!("query={}&", encode(bad)))
            .then_some(src)
    });
    wait_error(&browser, &api_error(&src));
    browser.click("#tab-table");

    // Label text is shown as text, never parsed as markup.
    browser.retype("#expr", "weird");
    browser.click("#run");
    browser.wait_rows(&[[r#"weird{note="<i>x</i> \"q\""}"#, "2"]]);
    let error = browser.script("return document.getElementById('error').hidden;");
    assert_eq!(error, true);
    let markup = browser.script("return document.querySelectorAll('#result i').length;");
    assert_eq!(markup, 0);

    // An end time in the link: the graph's range ends there and the table is evaluated
    // there, before the `weird` sample; "Now" clears it.
    let end_s = now_s - 300;
    let both = r#"up{job=~"a|b"} or weird"#;
    browser.goto(&format!(
        "{server}/?expr={}&tab=graph&range=5m&end={end_s}",
        encode(both)
    ));
    let params = browser.wait_graph();
    assert_eq!(param(&params, "end"), end_s.to_string());
    assert_eq!(param(&params, "start"), (end_s - 300).to_string());
    assert_eq!(param(&params, "step"), "1");
    browser.click("#tab-table");
    browser.wait_rows(&[[r#"up{job="a"}"#, "1"], [r#"up{job="b"}"#, "0"]]);
    let url = browser.url();
    assert!(url.contains("end=") && url.contains("tab=table"), "{url}");
    browser.click("#now");
    browser.wait_rows(&[
        [r#"up{job="a"}"#, "1"],
        [r#"up{job="b"}"#, "0"],
        [r#"weird{note="<i>x</i> \"q\""}"#, "2"],
    ]);
    assert!(!browser.url().contains("end="), "{}", browser.url());

    eprintln!("web page test took {:?}", started.elapsed());
}
