//! A throw-away MIT Kerberos realm on loopback for the Kerberos tests: database, principals,
//! keytab and a `krb5kdc` on a free port, all under one temporary directory that goes away with
//! the value. `scripts/test` installs the Debian packages (`krb5-kdc`, `krb5-admin-server`);
//! a machine without them fails the tests with that advice rather than skipping them, unless
//! `WSMAN_SKIP_KERBEROS` is set (the macOS and Windows jobs of the GitHub workflow), which
//! skips them by name.

use std::ffi::OsString;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const REALM: &str = "WSMAN.TEST";
pub const USER: &str = "alice";
/// Test-only password of the realm's user principal.
pub const PASSWORD: &str = "Kerb3ros-Passw0rd!";

pub struct Kdc {
    child: Child,
    pub dir: PathBuf,
    pub krb5_conf: PathBuf,
    pub keytab: PathBuf,
    pub port: u16,
}

fn tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for extra in [
        "/usr/sbin",
        "/usr/local/sbin",
        "/opt/homebrew/opt/krb5/sbin",
    ] {
        dirs.push(PathBuf::from(extra));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} not found: the Kerberos tests need an MIT KDC (Debian: apt-get install \
                 krb5-kdc krb5-admin-server; scripts/test installs them)"
            )
        })
}

/// A port free for both TCP and UDP on 127.0.0.1 (the KDC listens on both).
fn free_port() -> u16 {
    for _ in 0..50 {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port for the KDC");
}

impl Kdc {
    /// A realm, or `None` (with a note in the test log) when `WSMAN_SKIP_KERBEROS` is set.
    pub fn start_or_skip() -> Option<Kdc> {
        if std::env::var_os("WSMAN_SKIP_KERBEROS").is_some() {
            println!("skipped: WSMAN_SKIP_KERBEROS is set (no MIT KDC on this machine)");
            return None;
        }
        Some(Self::start())
    }

    pub fn start() -> Kdc {
        let dir = super::tempdir("kdc");
        let port = free_port();
        let krb5_conf = dir.join("krb5.conf");
        let kdc_conf = dir.join("kdc.conf");
        let keytab = dir.join("service.keytab");
        let d = dir.display();
        std::fs::write(
            &krb5_conf,
            format!(
                "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n \
                 dns_lookup_realm = false\n rdns = false\n dns_canonicalize_hostname = false\n \
                 udp_preference_limit = 1\n default_ccache_name = FILE:{d}/ccache\n\
                 [realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n\
                 [domain_realm]\n localhost = {REALM}\n 127.0.0.1 = {REALM}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            &kdc_conf,
            format!(
                "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n\
                 [realms]\n {REALM} = {{\n  database_name = {d}/principal\n  \
                 key_stash_file = {d}/stash\n  acl_file = {d}/kadm5.acl\n }}\n\
                 [logging]\n kdc = FILE:{d}/kdc.log\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("kadm5.acl"), "").unwrap();
        let env = |c: &mut Command| {
            c.env("KRB5_CONFIG", &krb5_conf)
                .env("KRB5_KDC_PROFILE", &kdc_conf)
                .stdout(Stdio::null());
        };
        let run = |args: &[&str], bin: &str| {
            let mut c = Command::new(tool(bin));
            env(&mut c);
            let out = c.args(args).stderr(Stdio::piped()).output().unwrap();
            assert!(
                out.status.success(),
                "{bin} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(
            &["-r", REALM, "-P", "master-key-pw", "create", "-s"],
            "kdb5_util",
        );
        let kt = keytab.display().to_string();
        let mut queries = vec![format!("addprinc -pw {PASSWORD} {USER}")];
        for svc in ["HTTP", "WSMAN", "host"] {
            for host in ["localhost", "127.0.0.1"] {
                queries.push(format!("addprinc -randkey {svc}/{host}"));
                queries.push(format!("ktadd -k {kt} {svc}/{host}"));
            }
        }
        for q in &queries {
            run(&["-r", REALM, "-q", q], "kadmin.local");
        }
        let mut c = Command::new(tool("krb5kdc"));
        env(&mut c);
        let child = c
            .args(["-n", "-r", REALM])
            .stderr(Stdio::null())
            .spawn()
            .expect("krb5kdc starts");
        let kdc = Kdc {
            child,
            dir,
            krb5_conf,
            keytab,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the KDC did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        kdc
    }

    /// The environment every Kerberos party (this process, the server, Python clients) needs.
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("KRB5_CONFIG", self.krb5_conf.clone().into()),
            (
                "KRB5CCNAME",
                format!("FILE:{}", self.dir.join("ccache").display()).into(),
            ),
            (
                "KRB5RCACHENAME",
                format!("file2:{}", self.dir.join("rcache").display()).into(),
            ),
            (
                "KRB5_KTNAME",
                format!("FILE:{}", self.keytab.display()).into(),
            ),
        ]
    }

    /// `user@REALM`.
    pub fn principal(&self) -> String {
        format!("{USER}@{REALM}")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("kdc.log")).unwrap_or_default()
    }

    pub fn keytab_path(&self) -> &Path {
        &self.keytab
    }
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
