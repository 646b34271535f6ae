//! The embedded reference server as a check target: what `wsman-harness check` runs against
//! when no `--target` is given, configured like a freshly set-up WinRM (the seed profile, one
//! HTTP listener, one local account with a random password).

use std::net::TcpListener;

use crate::config::Listener;
use crate::server::http::{Running, spawn_on};
use crate::server::{Deviation, ServerConfig, Service, User};

/// A running embedded target.
pub struct Embedded {
    /// The server (stopped on drop).
    pub running: Running,
    /// The account.
    pub user: String,
    /// Its password (random per start; never printed).
    pub password: String,
}

impl Embedded {
    /// Starts the reference server on a free loopback port with the seed profile's defaults,
    /// breaking the given rules on purpose.
    pub fn start(deviations: &[Deviation]) -> std::io::Result<Self> {
        let mut config = ServerConfig::default();
        config.deviations.extend_from_slice(deviations);
        Self::start_with(config)
    }

    /// Starts with a prepared configuration (the account and the listener are added).
    pub fn start_with(mut config: ServerConfig) -> std::io::Result<Self> {
        let socket = TcpListener::bind("127.0.0.1:0")?;
        let port = socket.local_addr()?.port();
        let user = "wsman-harness".to_owned();
        let password = format!("P-{}", uuid::Uuid::new_v4().simple());
        config.users.push(User::new(&user, &password));
        // What `winrm quickconfig` would have created for this port.
        let mut listener = Listener::new("*", "HTTP", port);
        listener.url_prefix = config.url_prefix.clone();
        config.model.listeners.push(listener);
        let running = spawn_on(Service::new(config), socket)?;
        Ok(Self {
            running,
            user,
            password,
        })
    }

    /// Its URL.
    pub fn url(&self) -> String {
        self.running.url()
    }
}
