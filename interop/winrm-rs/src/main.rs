//! winrm-rs against a wsman-harness server: `winrm-rs-interop HOST PORT USER PASSWORD AUTH`
//! where AUTH is `basic` or `ntlm`. Prints a transcript and exits non-zero on a wrong answer.

use winrm_rs::{AuthMethod, WinrmClient, WinrmConfig, WinrmCredentials};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, port, user, password, auth] = args.as_slice() else {
        eprintln!("usage: winrm-rs-interop HOST PORT USER PASSWORD basic|ntlm");
        std::process::exit(2);
    };
    let config = WinrmConfig {
        port: port.parse().expect("a port number"),
        auth_method: if auth == "basic" { AuthMethod::Basic } else { AuthMethod::Ntlm },
        ..WinrmConfig::default()
    };
    let client = WinrmClient::new(config, WinrmCredentials::new(user, password, "")).expect("client");
    let out = client.run_command(host, "echo", &["hello", "from", "winrm-rs"]).await.expect("echo runs");
    println!("echo -> {:?} {:?} {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr), out.exit_code);
    assert_eq!(out.stdout, b"hello from winrm-rs\r\n");
    assert_eq!(out.exit_code, 0);
    let out = client.run_command(host, "cmd /c exit 4", &[]).await.expect("exit runs");
    println!("exit 4 -> {}", out.exit_code);
    assert_eq!(out.exit_code, 4);
    println!("winrm-rs flows ok");
}
