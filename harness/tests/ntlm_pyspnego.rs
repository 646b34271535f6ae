//! Differential: our NTLM client against pyspnego's NTLM acceptor (an independent
//! implementation), including sealing in both directions. (pyspnego's client against our server
//! runs in tests/server.rs through pywinrm and pypsrp.)

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use wsman_harness::auth::ntlm::{Client, ClientOptions, Credentials};

/// `tests/interop/pyspnego_acceptor.py` running with one user, spoken to a line at a time.
struct Acceptor {
    py: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    dir: PathBuf,
}

impl Acceptor {
    fn spawn(tag: &str, user_line: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "wsman-harness-pyspnego-{tag}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let users = dir.join("users");
        std::fs::write(&users, format!("{user_line}\n")).unwrap();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/interop/pyspnego_acceptor.py");
        let mut py = Command::new("python3")
            .arg(script)
            .env("NTLM_USER_FILE", &users)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with pyspnego (scripts/test installs it)");
        let input = py.stdin.take().unwrap();
        let output = BufReader::new(py.stdout.take().unwrap());
        Acceptor {
            py,
            input,
            output,
            dir,
        }
    }

    /// Sends one request line and returns the reply line.
    fn ask(&mut self, line: &str) -> String {
        writeln!(self.input, "{line}").unwrap();
        let mut reply = String::new();
        self.output.read_line(&mut reply).unwrap();
        reply
    }

    fn finish(self) {
        drop(self.input);
        let mut py = self.py;
        let _ = py.wait();
        std::fs::remove_dir_all(self.dir).unwrap();
    }
}

#[test]
fn our_client_authenticates_and_seals_against_pyspnego() {
    let mut acceptor = Acceptor::spawn("good", "WORKGROUP:vagrant:Differential-Passw0rd");
    let mut ask = |line: String| {
        let reply = acceptor.ask(&line);
        let (kind, data) = reply.trim().split_once(' ').unwrap_or((reply.trim(), ""));
        assert_ne!(kind, "ERROR", "pyspnego refused: {data}");
        (
            kind.to_owned(),
            if data == "-" {
                Vec::new()
            } else {
                B64.decode(data).unwrap()
            },
        )
    };
    let creds = Credentials::new("vagrant", "WORKGROUP", "Differential-Passw0rd");
    let (sent, negotiate) = Client::new(
        creds,
        ClientOptions {
            workstation: "HARNESS".into(),
            ..ClientOptions::default()
        },
    )
    .start();
    let (kind, challenge) = ask(format!("TOKEN {}", B64.encode(&negotiate)));
    assert_eq!(kind, "TOKEN");
    let (mut est, authenticate) = sent.respond(&challenge).unwrap();
    let (kind, _) = ask(format!("TOKEN {}", B64.encode(&authenticate)));
    assert_eq!(
        kind, "DONE",
        "pyspnego accepted our AUTHENTICATE (NTLMv2 proof and MIC)"
    );
    for msg in [
        "<s:Envelope>first</s:Envelope>",
        "second, longer message body",
        "3",
    ] {
        let mut data = msg.as_bytes().to_vec();
        let sig = est.session.seal(&mut data);
        let mut wire = sig.to_vec();
        wire.extend(&data);
        let (kind, reply) = ask(format!("WRAP {}", B64.encode(&wire)));
        assert_eq!(kind, "WRAP");
        let (header, body) = reply.split_at(16);
        let mut body = body.to_vec();
        est.session.unseal(&mut body, header).unwrap();
        let expected: Vec<u8> = msg.bytes().rev().collect();
        assert_eq!(body, expected);
    }
    acceptor.finish();
}

#[test]
fn pyspnego_refuses_our_client_with_a_wrong_password() {
    let mut acceptor = Acceptor::spawn("bad", "WORKGROUP:vagrant:right-password");
    let (sent, negotiate) = Client::new(
        Credentials::new("vagrant", "WORKGROUP", "wrong"),
        ClientOptions::default(),
    )
    .start();
    let line = acceptor.ask(&format!("TOKEN {}", B64.encode(&negotiate)));
    let challenge = B64.decode(line.trim().split_once(' ').unwrap().1).unwrap();
    let (_, authenticate) = sent.respond(&challenge).unwrap();
    let line = acceptor.ask(&format!("TOKEN {}", B64.encode(&authenticate)));
    assert!(
        line.starts_with("ERROR"),
        "a wrong password must be refused: {line}"
    );
    acceptor.finish();
}
