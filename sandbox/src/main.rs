//! The sandbox server's command line.
//!
//! ```text
//! sandbox [--host 127.0.0.1] [--port 8787] [--key KEY]
//! ```
//!
//! The key defaults to `SANDBOX_KEY`, then to [`sandbox::DEFAULT_KEY`].
//! `SANDBOX_CONFIG` may hold a JSON fault configuration applied at start. Port
//! 0 picks a free port; the startup lines show the real one.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use sandbox::{app, AppState, SandboxConfig, DEFAULT_KEY};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long open connections may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

const USAGE: &str = "usage: sandbox [--host HOST] [--port PORT] [--key KEY]
  --host HOST   address to listen on (default 127.0.0.1)
  --port PORT   port to listen on, 0 for any free port (default 8787)
  --key KEY     the accepted API key (default: $SANDBOX_KEY, else the built-in sandbox key)
environment:
  SANDBOX_KEY     the accepted API key when --key is absent
  SANDBOX_CONFIG  JSON fault/limit configuration applied at start";

/// Parsed command line options.
struct Options {
    host: String,
    port: u16,
    key: String,
}

/// Parses the arguments (without the program name); `env_key` is the value of
/// `SANDBOX_KEY`. Both `--flag value` and `--flag=value` are accepted. An
/// empty error means help was asked for.
fn parse_args(
    args: impl IntoIterator<Item = String>,
    env_key: Option<String>,
) -> Result<Options, String> {
    let mut options = Options {
        host: "127.0.0.1".to_owned(),
        port: 8787,
        key: env_key
            .filter(|key| !key.is_empty())
            .unwrap_or_else(|| DEFAULT_KEY.to_owned()),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--host" => options.host = value()?,
            "--port" => {
                let text = value()?;
                options.port = text.parse().map_err(|_| {
                    format!("--port must be a number from 0 to 65535, got `{text}`")
                })?;
            }
            "--key" => {
                options.key = value()?;
                if options.key.is_empty() {
                    return Err("--key must not be empty".to_owned());
                }
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

/// Resolves when SIGTERM or Ctrl-C (SIGINT) arrives.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1), std::env::var("SANDBOX_KEY").ok()) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sandbox: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match std::env::var("SANDBOX_CONFIG") {
        Ok(text) if !text.trim().is_empty() => match SandboxConfig::from_json(&text) {
            Ok(config) => config,
            Err(message) => {
                eprintln!("sandbox: invalid SANDBOX_CONFIG: {message}");
                return ExitCode::from(2);
            }
        },
        _ => SandboxConfig::default(),
    };

    let listener = match TcpListener::bind((options.host.as_str(), options.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "sandbox: cannot listen on {}:{}: {error}",
                options.host, options.port
            );
            return ExitCode::FAILURE;
        }
    };
    let port = listener
        .local_addr()
        .map(|addr| addr.port())
        .unwrap_or(options.port);

    // Install the signal handlers before announcing readiness, so a SIGTERM
    // sent right after the startup lines is never missed.
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let signals = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(());
    });
    tokio::task::yield_now().await;

    let router = app(AppState::new(options.key.clone(), config));
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });

    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "Sandbox API: http://{}:{port}/v1", options.host);
        let _ = writeln!(stdout, "Sandbox key: {}", options.key);
        let _ = stdout.flush();
    }

    let _ = signals.await;
    // Give open requests (a stream in progress, say) a moment, then leave.
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(Ok(()))) | Err(_) => ExitCode::SUCCESS,
        Ok(Ok(Err(error))) => {
            eprintln!("sandbox: server error: {error}");
            ExitCode::FAILURE
        }
        Ok(Err(error)) => {
            eprintln!("sandbox: server task failed: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env_key: Option<&str>) -> Result<Options, String> {
        parse_args(
            args.iter().map(|a| (*a).to_owned()),
            env_key.map(str::to_owned),
        )
    }

    #[test]
    fn defaults_and_key_sources() {
        let options = parse(&[], None).unwrap();
        assert_eq!(
            (options.host.as_str(), options.port, options.key.as_str()),
            ("127.0.0.1", 8787, DEFAULT_KEY)
        );
        assert_eq!(parse(&[], Some("sk-env")).unwrap().key, "sk-env");
        assert_eq!(parse(&[], Some("")).unwrap().key, DEFAULT_KEY);
        assert_eq!(
            parse(&["--key", "sk-flag"], Some("sk-env")).unwrap().key,
            "sk-flag"
        );
    }

    #[test]
    fn flags_take_separate_or_inline_values() {
        let options = parse(&["--port", "9000", "--host=0.0.0.0", "--key=k"], None).unwrap();
        assert_eq!(
            (options.host.as_str(), options.port, options.key.as_str()),
            ("0.0.0.0", 9000, "k")
        );
        assert_eq!(parse(&["--port=0"], None).unwrap().port, 0);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(parse(&["--port", "http"], None).is_err());
        assert!(parse(&["--port", "70000"], None).is_err());
        assert!(parse(&["--port"], None).is_err());
        assert!(parse(&["--key", ""], None).is_err());
        assert!(parse(&["--verbose"], None).is_err());
        assert_eq!(parse(&["--help"], None).err(), Some(String::new()));
    }
}
