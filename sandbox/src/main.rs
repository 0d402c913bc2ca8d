//! The sandbox server's command line.
//!
//! ```text
//! sandbox [--host 127.0.0.1] [--port 8787] [--key KEY]... [--billing complete|real]
//!         [--control-token TOKEN]
//! ```
//!
//! The key defaults to `SANDBOX_KEY`, then to [`sandbox::DEFAULT_KEY`]; `--key`
//! may be repeated to accept several keys. The billing mode defaults to
//! `SANDBOX_BILLING`, then `complete`. The control token defaults to
//! `SANDBOX_CONTROL_TOKEN`, else a random one. `SANDBOX_CONFIG` may hold a
//! JSON fault configuration applied at start. Port 0 picks a free port; the
//! startup lines show the real one, the keys, the control token and the
//! billing mode.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use sandbox::state::random_token;
use sandbox::{app, AppState, BillingMode, SandboxConfig, ServerSettings, DEFAULT_KEY};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long open connections may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

const USAGE: &str = "usage: sandbox [--host HOST] [--port PORT] [--key KEY]... [--billing MODE]
               [--control-token TOKEN]
  --host HOST            address to listen on (default 127.0.0.1)
  --port PORT            port to listen on, 0 for any free port (default 8787)
  --key KEY              an accepted API key; repeat for several (default: $SANDBOX_KEY, else the
                         built-in sandbox key)
  --billing MODE         complete: only whole, fault-free replies are billed (default);
                         real: billed from the start of generation for what was generated
  --control-token TOKEN  the token the /_sandbox/* routes require in the x-sandbox-control header
                         (default: $SANDBOX_CONTROL_TOKEN, else a random one, printed at start)
environment:
  SANDBOX_KEY            the accepted API key when --key is absent
  SANDBOX_BILLING        the billing mode when --billing is absent
  SANDBOX_CONTROL_TOKEN  the control token when --control-token is absent
  SANDBOX_CONFIG         JSON fault/limit configuration applied at start";

/// Parsed command line options.
struct Options {
    host: String,
    port: u16,
    keys: Vec<String>,
    billing: BillingMode,
    /// `None`: generate one.
    control_token: Option<String>,
}

/// The environment variables the options fall back on.
#[derive(Default)]
struct Env {
    key: Option<String>,
    billing: Option<String>,
    control_token: Option<String>,
}

impl Env {
    fn read() -> Self {
        let var = |name| std::env::var(name).ok().filter(|value| !value.is_empty());
        Self {
            key: var("SANDBOX_KEY"),
            billing: var("SANDBOX_BILLING"),
            control_token: var("SANDBOX_CONTROL_TOKEN"),
        }
    }
}

/// Checks that a control token can travel in a header: visible ASCII, no spaces.
fn check_token(token: &str, source: &str) -> Result<String, String> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{source} must be non-empty printable ASCII without spaces"
        ));
    }
    Ok(token.to_owned())
}

/// Parses the arguments (without the program name), falling back on `env`.
/// Both `--flag value` and `--flag=value` are accepted. An empty error means
/// help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>, env: Env) -> Result<Options, String> {
    let billing = match env.billing {
        Some(text) => BillingMode::parse(&text).map_err(|e| format!("SANDBOX_BILLING: {e}"))?,
        None => BillingMode::Complete,
    };
    let control_token = match env.control_token {
        Some(token) => Some(check_token(&token, "SANDBOX_CONTROL_TOKEN")?),
        None => None,
    };
    let mut options = Options {
        host: "127.0.0.1".to_owned(),
        port: 8787,
        keys: Vec::new(),
        billing,
        control_token,
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
                let key = value()?;
                if key.is_empty() {
                    return Err("--key must not be empty".to_owned());
                }
                options.keys.push(key);
            }
            "--billing" => {
                options.billing =
                    BillingMode::parse(&value()?).map_err(|e| format!("--billing: {e}"))?;
            }
            "--control-token" => {
                options.control_token = Some(check_token(&value()?, "--control-token")?);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if options.keys.is_empty() {
        options
            .keys
            .push(env.key.unwrap_or_else(|| DEFAULT_KEY.to_owned()));
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
    let options = match parse_args(std::env::args().skip(1), Env::read()) {
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

    let settings = ServerSettings {
        keys: options.keys.clone(),
        control_token: options.control_token.clone().unwrap_or_else(random_token),
        billing: options.billing,
    };
    let state = AppState::with_settings(settings, config);
    let router = app(state.clone());
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
        for key in &options.keys {
            let _ = writeln!(stdout, "Sandbox key: {key}");
        }
        let _ = writeln!(stdout, "Sandbox control token: {}", state.control_token());
        let _ = writeln!(stdout, "Sandbox billing: {}", options.billing.name());
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
        let env = Env {
            key: env_key.map(str::to_owned),
            ..Env::default()
        };
        parse_args(args.iter().map(|a| (*a).to_owned()), env)
    }

    #[test]
    fn defaults_and_key_sources() {
        let options = parse(&[], None).unwrap();
        assert_eq!(
            (options.host.as_str(), options.port, options.keys.clone()),
            ("127.0.0.1", 8787, vec![DEFAULT_KEY.to_owned()])
        );
        assert_eq!(options.billing, BillingMode::Complete);
        assert_eq!(options.control_token, None);
        assert_eq!(parse(&[], Some("sk-env")).unwrap().keys, ["sk-env"]);
        assert_eq!(
            parse(&["--key", "sk-flag"], Some("sk-env")).unwrap().keys,
            ["sk-flag"]
        );
        assert_eq!(
            parse(&["--key", "sk-a", "--key=sk-b"], None).unwrap().keys,
            ["sk-a", "sk-b"]
        );
    }

    #[test]
    fn flags_take_separate_or_inline_values() {
        let options = parse(
            &[
                "--port",
                "9000",
                "--host=0.0.0.0",
                "--key=k",
                "--billing",
                "real",
                "--control-token=tok123",
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            (options.host.as_str(), options.port, options.keys.clone()),
            ("0.0.0.0", 9000, vec!["k".to_owned()])
        );
        assert_eq!(options.billing, BillingMode::Real);
        assert_eq!(options.control_token.as_deref(), Some("tok123"));
        assert_eq!(parse(&["--port=0"], None).unwrap().port, 0);
    }

    #[test]
    fn environment_sets_billing_and_token() {
        let env = Env {
            key: None,
            billing: Some("real".into()),
            control_token: Some("env-token".into()),
        };
        let options = parse_args(Vec::new(), env).unwrap();
        assert_eq!(options.billing, BillingMode::Real);
        assert_eq!(options.control_token.as_deref(), Some("env-token"));
        let env = Env {
            billing: Some("real".into()),
            ..Env::default()
        };
        let options = parse_args(["--billing".to_owned(), "complete".to_owned()], env).unwrap();
        assert_eq!(options.billing, BillingMode::Complete);
        let env = Env {
            billing: Some("sometimes".into()),
            ..Env::default()
        };
        assert!(parse_args(Vec::new(), env).is_err());
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(parse(&["--port", "http"], None).is_err());
        assert!(parse(&["--port", "70000"], None).is_err());
        assert!(parse(&["--port"], None).is_err());
        assert!(parse(&["--key", ""], None).is_err());
        assert!(parse(&["--billing", "free"], None).is_err());
        assert!(parse(&["--control-token", ""], None).is_err());
        assert!(parse(&["--control-token", "has space"], None).is_err());
        assert!(parse(&["--verbose"], None).is_err());
        assert_eq!(parse(&["--help"], None).err(), Some(String::new()));
    }
}
