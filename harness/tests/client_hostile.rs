//! The client against hostile servers (raw TCP, on loopback): every exchange ends with a clear
//! error within its time limit, a response beyond the byte cap is abandoned rather than
//! buffered, and malicious envelopes are refused by the bounded parser. `check` against such a
//! server exits 3 with a message, in bounded time.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use wsman_harness::client::{AuthMethod, Client, ClientError, ClientOptions, Request, Target};

/// Serves every connection with `behave` on its own thread; returns the URL.
fn hostile(behave: fn(TcpStream)) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/wsman", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || behave(s));
        }
    });
    url
}

fn read_request(s: &mut TcpStream) {
    let mut buf = [0u8; 65536];
    let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
    let _ = s.read(&mut buf);
}

fn client(url: &str) -> Client {
    let mut o = ClientOptions::new(Target::parse(url).unwrap(), "u", "p");
    o.auth = AuthMethod::None;
    o.timeout = Duration::from_secs(2);
    o.max_response = 1 << 20;
    Client::new(o).unwrap()
}

fn send(
    url: &str,
) -> (
    Result<wsman_harness::client::Response, ClientError>,
    Duration,
) {
    let mut c = client(url);
    let mut r = Request::soap(b"<s:Envelope/>".to_vec());
    r.authenticate = false;
    let start = Instant::now();
    let out = c.send(r);
    assert_eq!(c.log.len(), 1, "the exchange is logged even when it fails");
    (out, start.elapsed())
}

fn ok_headers(extra: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\n{extra}\r\n")
}

#[test]
fn a_silent_server_times_out() {
    let url = hostile(|mut s| {
        read_request(&mut s);
        std::thread::sleep(Duration::from_secs(30));
    });
    let (r, t) = send(&url);
    assert!(matches!(r, Err(ClientError::Timeout(_))), "{r:?}");
    assert!(t < Duration::from_secs(5), "{t:?}");
}

#[test]
fn slowloris_headers_time_out() {
    let url = hostile(|mut s| {
        read_request(&mut s);
        for b in ok_headers("X-Slow: ")
            .bytes()
            .chain(std::iter::repeat(b'a'))
        {
            if s.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let (r, t) = send(&url);
    assert!(matches!(r, Err(ClientError::Timeout(_))), "{r:?}");
    assert!(t < Duration::from_secs(5), "{t:?}");
}

#[test]
fn an_endless_body_is_abandoned_at_the_cap() {
    let url = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(ok_headers("Transfer-Encoding: chunked\r\n").as_bytes());
        let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
        while s.write_all(chunk.as_bytes()).is_ok() {}
    });
    let (r, t) = send(&url);
    assert_eq!(r.unwrap_err(), ClientError::TooLarge(1 << 20));
    assert!(t < Duration::from_secs(5), "{t:?}");
}

#[test]
fn a_declared_gigabyte_is_refused_before_reading() {
    let url = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(ok_headers("Content-Length: 1073741824\r\n").as_bytes());
        std::thread::sleep(Duration::from_secs(30));
    });
    let (r, t) = send(&url);
    assert_eq!(r.unwrap_err(), ClientError::TooLarge(1 << 20));
    assert!(t < Duration::from_secs(1), "refused on the header: {t:?}");
}

#[test]
fn resets_and_garbage_are_http_errors() {
    let reset = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
    });
    let (r, _) = send(&reset);
    assert!(matches!(r, Err(ClientError::Http(_))), "{r:?}");
    let garbage = hostile(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(&[
            0x16, 0x03, 0x01, 0xff, 0xfe, 0x00, 0x42, b'\r', b'\n', b'\r', b'\n',
        ]);
    });
    let (r, _) = send(&garbage);
    assert!(matches!(r, Err(ClientError::Http(_))), "{r:?}");
}

#[test]
fn deep_nesting_and_entity_bombs_are_refused_by_the_parser() {
    let deep = hostile(|mut s| {
        read_request(&mut s);
        let body = format!(
            "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>{}{}</s:Body></s:Envelope>",
            "<a>".repeat(100_000),
            "</a>".repeat(100_000)
        );
        let _ = s.write_all(ok_headers(&format!("Content-Length: {}\r\n", body.len())).as_bytes());
        let _ = s.write_all(body.as_bytes());
    });
    let (r, _) = send(&deep);
    let err = r.unwrap().envelope().unwrap_err().to_string();
    assert!(err.contains("depth") || err.contains("deep"), "{err}");
    let bomb = hostile(|mut s| {
        read_request(&mut s);
        let body = "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>&b;</s:Body></s:Envelope>";
        let _ = s.write_all(ok_headers(&format!("Content-Length: {}\r\n", body.len())).as_bytes());
        let _ = s.write_all(body.as_bytes());
    });
    let (r, _) = send(&bomb);
    let err = r.unwrap().envelope().unwrap_err().to_string();
    assert!(err.to_ascii_lowercase().contains("doctype"), "{err}");
}

#[test]
fn check_against_a_silent_server_exits_3_in_bounded_time() {
    let url = hostile(|mut s| {
        read_request(&mut s);
        std::thread::sleep(Duration::from_secs(60));
    });
    let start = Instant::now();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_wsman-harness"))
        .args(["check", "--target", &url, "--user", "u", "--timeout", "1"])
        .env("WSMAN_PASSWORD", "p")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("no complete response within"));
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// HTTPS to a server that answers the TLS ClientHello with garbage (or with an HTTP error
/// page): a TLS error, no hang, and `check` exits 3 naming TLS.
#[test]
fn tls_garbage_is_a_clear_tls_error() {
    for garbage in [
        &b"\x16\x03\x01\x00\x05hello, this is not a ServerHello"[..],
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        b"\xff\xfe\xfd\xfc\x00\x00\x00\x00",
    ] {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}/wsman", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                read_request(&mut s);
                let _ = s.write_all(garbage);
            }
        });
        let mut o = ClientOptions::new(Target::parse(&url).unwrap(), "u", "p");
        o.auth = AuthMethod::None;
        o.insecure = true;
        o.timeout = Duration::from_secs(2);
        let start = Instant::now();
        let mut c = Client::new(o).unwrap();
        let mut r = Request::soap(b"<s:Envelope/>".to_vec());
        r.authenticate = false;
        let e = c.send(r).unwrap_err();
        assert!(matches!(e, ClientError::Tls(_)), "{e:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
        let start = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsman-harness"))
            .args([
                "check",
                "--target",
                &url,
                "--user",
                "u",
                "--insecure",
                "--timeout",
                "2",
            ])
            .env("WSMAN_PASSWORD", "p")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains("TLS"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
