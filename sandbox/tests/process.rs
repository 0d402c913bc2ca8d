//! Runs the real sandbox binary: startup lines, raw HTTP requests to a control
//! route (refused without the control token), and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn binary_serves_and_exits_cleanly_on_sigterm() {
    let key = "sk-process-test-0123456789abcdef012345";
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .args(["--port", "0", "--host", "127.0.0.1", "--key", key])
        .args(["--billing", "real"])
        .env("SANDBOX_CONFIG", r#"{"rpm": 600}"#)
        .env_remove("SANDBOX_CONTROL_TOKEN")
        .env_remove("SANDBOX_BILLING")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the sandbox binary");

    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut api_line = String::new();
    let mut key_line = String::new();
    let mut token_line = String::new();
    let mut billing_line = String::new();
    stdout.read_line(&mut api_line).unwrap();
    stdout.read_line(&mut key_line).unwrap();
    stdout.read_line(&mut token_line).unwrap();
    stdout.read_line(&mut billing_line).unwrap();
    let api = api_line
        .trim_end()
        .strip_prefix("Sandbox API: http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {api_line:?}"));
    let port: u16 = api
        .strip_suffix("/v1")
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {api_line:?}"));
    assert!(port > 0);
    assert_eq!(key_line.trim_end(), format!("Sandbox key: {key}"));
    // No token given: a random one of 32 hex digits.
    let token = token_line
        .trim_end()
        .strip_prefix("Sandbox control token: ")
        .unwrap_or_else(|| panic!("unexpected third line {token_line:?}"));
    assert_eq!(token.len(), 32, "{token}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    assert_eq!(billing_line.trim_end(), "Sandbox billing: real");

    let stats_request = |extra: &str| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let request = format!(
            "GET /_sandbox/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let refused = stats_request("");
    assert!(
        refused.starts_with("HTTP/1.1 403 Forbidden\r\n"),
        "unexpected response {refused:?}"
    );
    assert!(!refused.contains(token));
    let response = stats_request(&format!("x-sandbox-control: {token}\r\n"));
    assert!(
        response.starts_with("HTTP/1.1 200 OK\r\n"),
        "unexpected response {response:?}"
    );
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    let stats: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(stats["billed"]["requests"], 0);
    assert_eq!(stats["duplicates"], 0);
    assert_eq!(stats["billing"], "real");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the sandbox did not exit within 5 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status {exit:?}");
}
