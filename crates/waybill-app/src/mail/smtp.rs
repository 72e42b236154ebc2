//! SMTP to the configured relay over connections Waybill opens itself and keeps for reuse.
//!
//! Not lettre's `AsyncSmtpTransport`: its sockets keep Nagle's algorithm on, and lettre writes
//! a message's body and its end marker (`\r\n.\r\n`) as two writes, so the marker waited for
//! the relay's delayed acknowledgement of the body — about 40 ms a mail, 25 mails a second
//! on one connection. Here every socket has TCP_NODELAY set before lettre's SMTP client runs
//! the session on it.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT};

/// A connection unused this long is checked with NOOP before it carries a mail: the relay
/// may have closed it.
const CHECK_AFTER: Duration = Duration::from_secs(5);
/// A connection unused this long is closed rather than checked.
const DROP_AFTER: Duration = Duration::from_secs(60);
/// Mails sent over one connection before it is closed and a new one opened: relays limit
/// messages per connection (Exim to 1,000 by default) and refuse the next with a 421.
const MAILS_PER_CONNECTION: u32 = 500;

/// How the connection is secured, from the URL.
enum Security {
    Plain,
    /// `?tls=required` or `?tls=opportunistic`: STARTTLS after the greeting.
    StartTls {
        tls: TlsParameters,
        required: bool,
    },
    /// `smtps://`: TLS from the first byte.
    Implicit(TlsParameters),
}

/// The relay of `smtp://user:pass@host:port/ehlo-name?tls=…` (lettre's URL form) and its
/// idle connections.
pub struct Relay {
    host: String,
    port: u16,
    security: Security,
    hello: ClientId,
    credentials: Option<Credentials>,
    /// For connecting and for each mail's whole exchange.
    timeout: Duration,
    idle: Mutex<VecDeque<Idle>>,
    /// Most idle connections kept (the worker's concurrency).
    keep: usize,
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
    sent: u32,
}

impl Relay {
    /// Parses the URL; errors never repeat it (it may carry a password).
    pub fn from_url(raw: &str, keep: usize, timeout: Duration) -> Result<Relay, String> {
        let url = url::Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err("the server name is missing".into()),
        };
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let params = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
        let (security, port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::Plain, SMTP_PORT),
            ("smtp", Some(mode @ ("required" | "opportunistic"))) => (
                Security::StartTls {
                    tls: params()?,
                    required: mode == "required",
                },
                SUBMISSION_PORT,
            ),
            ("smtps", _) => (Security::Implicit(params()?), SUBMISSIONS_PORT),
            _ => return Err("use smtp://, smtp://…?tls=required|opportunistic or smtps://".into()),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| "the user name or password is not UTF-8".to_string())
        };
        let credentials = match url.password() {
            Some(p) => Some(Credentials::new(decode(url.username())?, decode(p)?)),
            None => None,
        };
        let name = url.path().trim_matches('/');
        Ok(Relay {
            port: url.port().unwrap_or(port),
            host,
            security,
            hello: match name {
                "" => ClientId::default(),
                name => ClientId::Domain(name.to_string()),
            },
            credentials,
            timeout,
            idle: Mutex::new(VecDeque::new()),
            keep,
        })
    }

    /// Sends one message over an idle connection or a new one; returns the connection to the
    /// idle ones if the exchange went well.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), String> {
        let (mut conn, sent) = self.connection().await?;
        match tokio::time::timeout(self.timeout, conn.send(envelope, message)).await {
            Ok(Ok(_)) => {
                self.park(conn, sent + 1).await;
                Ok(())
            }
            // lettre has closed the connection already.
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "the mail server did not answer within {} s",
                self.timeout.as_secs()
            )),
        }
    }

    /// An idle connection that still works, or a new one, with the mails it has carried.
    /// The most recently used is taken first; connections left unused too long are dropped.
    async fn connection(&self) -> Result<(AsyncSmtpConnection, u32), String> {
        loop {
            let taken = {
                let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                while idle
                    .front()
                    .is_some_and(|c| c.since.elapsed() >= DROP_AFTER)
                {
                    idle.pop_front();
                }
                idle.pop_back()
            };
            let Some(mut c) = taken else { break };
            if c.since.elapsed() < CHECK_AFTER
                || tokio::time::timeout(self.timeout, c.conn.test_connected())
                    .await
                    .unwrap_or(false)
            {
                return Ok((c.conn, c.sent));
            }
        }
        match tokio::time::timeout(self.timeout, self.connect()).await {
            Ok(Ok(conn)) => Ok((conn, 0)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!(
                "the mail server could not be reached within {} s",
                self.timeout.as_secs()
            )),
        }
    }

    async fn park(&self, mut conn: AsyncSmtpConnection, sent: u32) {
        if sent < MAILS_PER_CONNECTION {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < self.keep {
                idle.push_back(Idle {
                    conn,
                    since: Instant::now(),
                    sent,
                });
                return;
            }
        }
        let _ = tokio::time::timeout(self.timeout, conn.quit()).await;
    }

    /// Opens a connection: TCP with TCP_NODELAY, greeting and EHLO, TLS, authentication.
    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot connect to the mail server: {e}"))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Security::Implicit(tls) => Box::new(Tls::wrap(tcp, tls.clone()).await?),
            _ => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(|e| e.to_string())?;
        if let Security::StartTls { tls, required } = &self.security {
            if conn.can_starttls() {
                conn.starttls(tls.clone(), &self.hello)
                    .await
                    .map_err(|e| e.to_string())?;
            } else if *required {
                conn.abort().await;
                return Err("the mail server does not offer STARTTLS".into());
            }
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(conn)
    }
}

/// A TLS stream from the first byte (`smtps://`), for lettre's client to run SMTP on. lettre
/// does the handshake (with the configured roots) but hands back a stream with futures' I/O
/// traits; this puts Tokio's on it.
#[allow(deprecated)] // lettre's stream type: the one way to its TLS over a socket of our own
#[derive(Debug)]
struct Tls(lettre::transport::smtp::client::AsyncNetworkStream);

#[allow(deprecated)]
impl Tls {
    async fn wrap(tcp: tokio::net::TcpStream, tls: TlsParameters) -> Result<Tls, String> {
        let mut stream =
            lettre::transport::smtp::client::AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
        stream
            .upgrade_tls(tls)
            .await
            .map_err(|e| format!("TLS with the mail server failed: {e}"))?;
        Ok(Tls(stream))
    }
}

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.peer_addr()
    }
}

impl tokio::io::AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let read = futures_util::io::AsyncRead::poll_read(
            Pin::new(&mut self.0),
            cx,
            buf.initialize_unfilled(),
        );
        match read {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_util::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_util::io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_util::io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(url: &str) -> Result<Relay, String> {
        Relay::from_url(url, 4, Duration::from_secs(5))
    }

    #[test]
    fn urls_in_lettres_form() {
        let r = relay("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("127.0.0.1", 2525));
        assert!(matches!(r.security, Security::Plain) && r.credentials.is_none());
        let r = relay("smtp://u%40x:p%2Fw@mail.example.com?tls=required").unwrap();
        assert_eq!(r.port, 587);
        assert!(matches!(
            r.security,
            Security::StartTls { required: true, .. }
        ));
        assert!(r.credentials == Some(Credentials::new("u@x".into(), "p/w".into())));
        let r = relay("smtp://mail.example.com/waybill.example?tls=opportunistic").unwrap();
        assert!(matches!(
            r.security,
            Security::StartTls {
                required: false,
                ..
            }
        ));
        assert_eq!(r.hello, ClientId::Domain("waybill.example".into()));
        let r = relay("smtps://[::1]").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("::1", 465));
        assert!(matches!(r.security, Security::Implicit(_)));
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        for bad in [
            "smtp://",
            "smtp://u:hunter22@secret.example?tls=sometimes",
            "http://u:hunter22@secret.example",
            "smtp//secret.example",
        ] {
            let e = relay(bad).err().unwrap_or_default();
            assert!(!e.is_empty(), "{bad}");
            assert!(!e.contains("secret") && !e.contains("hunter22"), "{e}");
        }
    }
}
