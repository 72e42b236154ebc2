//! A small HTTP/1.1 POST client for webhook deliveries. It resolves the host itself, refuses
//! the attempt if any address is not public (unless private targets are allowed), and then
//! connects to one of the addresses it checked — so a DNS answer that changes between the
//! check and the connection (rebinding) cannot reach an internal address. TLS is rustls with
//! the webpki roots; redirects are not followed (a 3xx is a failed attempt).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::services::webhooks::is_public;

/// The largest response head read for the status line.
const HEAD_LIMIT: usize = 8 * 1024;

/// The addresses of `url`'s host, every one checked.
pub async fn resolve_checked(
    url: &url::Url,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "the URL has no port".to_string())?;
    let addrs: Vec<SocketAddr> = match url.host() {
        None => return Err("the URL has no host".into()),
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Domain(d)) => tokio::net::lookup_host((d, port))
            .await
            .map_err(|e| format!("DNS lookup of {d} failed: {e}"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err("the host has no address".into());
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "the host resolves to {}, which is not a public address",
                bad.ip()
            ));
        }
    }
    Ok(addrs)
}

/// The TLS client settings, built once.
fn tls() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
            .map_err(|e| format!("TLS is not available: {e}"))
        })
        .clone()
}

/// POSTs `body` with `headers` to `url` at one of `addrs`; returns the response status code.
pub async fn post(
    url: &url::Url,
    addrs: &[SocketAddr],
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<u16, String> {
    let mut last_error = String::from("no address to connect to");
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = format!("cannot connect to {addr}: {e}"),
        }
    }
    let stream = stream.ok_or(last_error)?;
    let _ = stream.set_nodelay(true);
    let host = url.host_str().unwrap_or_default();
    let request = request_head(url, headers, body.len());
    if url.scheme() == "https" {
        let name = rustls::pki_types::ServerName::try_from(
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        )
        .map_err(|e| format!("bad TLS server name {host}: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(tls()?)
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        exchange(tls, &request, body).await
    } else {
        exchange(stream, &request, body).await
    }
}

fn request_head(url: &url::Url, headers: &[(&str, String)], len: usize) -> String {
    let mut target = url.path().to_string();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let mut head = format!(
        "POST {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Waybill-Webhooks/1.0\r\n\
         Content-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    head: &str,
    body: &[u8],
) -> Result<u16, String> {
    let mut out = Vec::with_capacity(head.len() + body.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    s.write_all(&out)
        .await
        .map_err(|e| format!("sending failed: {e}"))?;
    s.flush()
        .await
        .map_err(|e| format!("sending failed: {e}"))?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            return parse_status(&buf[..end]);
        }
        if buf.len() > HEAD_LIMIT {
            return Err("the response has no status line".into());
        }
        let n = s
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading the response failed: {e}"))?;
        if n == 0 {
            return Err("the connection closed before a response".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `HTTP/1.1 204 No Content` → 204.
fn parse_status(line: &[u8]) -> Result<u16, String> {
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err("the response has no status line".into());
    };
    if !version.starts_with("HTTP/1.") {
        return Err("the response is not HTTP/1".into());
    }
    code.parse::<u16>()
        .ok()
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| "the response has no status code".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 204 No Content"), Ok(204));
        assert_eq!(parse_status(b"HTTP/1.0 410 Gone"), Ok(410));
        assert!(parse_status(b"SSH-2.0-OpenSSH").is_err());
        assert!(parse_status(b"HTTP/1.1 abc").is_err());
    }

    #[test]
    fn request_head_names_the_host_and_length() {
        let url = url::Url::parse("https://hooks.example.com:8443/in?a=1").unwrap();
        let head = request_head(&url, &[("webhook-id", "msg_1".into())], 12);
        assert!(head.starts_with("POST /in?a=1 HTTP/1.1\r\nHost: hooks.example.com:8443\r\n"));
        assert!(head.contains("Content-Length: 12\r\n"));
        assert!(head.ends_with("webhook-id: msg_1\r\n\r\n"));
    }

    #[tokio::test]
    async fn names_are_checked_after_resolution() {
        // `localhost` passes no name rule here: only its resolved address refuses it.
        let url = url::Url::parse("https://localhost:9/in").unwrap();
        let err = resolve_checked(&url, false).await.unwrap_err();
        assert!(err.contains("not a public address"), "{err}");
        let addrs = resolve_checked(&url, true).await.unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 9));
    }
}
