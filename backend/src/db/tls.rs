//! TLS to PostgreSQL when `DATABASE_URL` asks for it. The driver (tokio-postgres) knows only
//! `sslmode=disable|prefer|require` and never verifies certificates itself; here any mode that
//! asks for TLS (`require`, `verify-ca`, `verify-full`) gets a rustls connection that verifies
//! the server's certificate and host name against the system's roots. A server whose certificate
//! those roots can't vouch for is refused rather than trusted blindly.

use diesel::ConnectionResult;
use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};

/// Whether connections are wrapped in TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgTls {
    /// `sslmode` unset, `disable`, `allow` or `prefer`: plain TCP, as before.
    Off,
    /// `sslmode=require`, `verify-ca` or `verify-full`: TLS with a verified certificate.
    Verified,
}

/// A database URL as the driver takes it, and how to connect to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTarget {
    pub url: String,
    pub tls: PgTls,
}

/// Reads `sslmode` from a `postgres://` URL: the TLS decision, and the URL with the mode spelled
/// as the driver understands it (`verify-*` become `require`, `allow` becomes `prefer`).
pub fn plan(raw: &str) -> Result<PgTarget, String> {
    let mut url = url::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    let mode = url
        .query_pairs()
        .find(|(k, _)| k == "sslmode")
        .map(|(_, v)| v.into_owned());
    let (driver_mode, tls) = match mode.as_deref() {
        None => return Ok(PgTarget { url: raw.to_owned(), tls: PgTls::Off }),
        Some("disable") => ("disable", PgTls::Off),
        Some("allow") | Some("prefer") => ("prefer", PgTls::Off),
        Some("require") | Some("verify-ca") | Some("verify-full") => ("require", PgTls::Verified),
        Some(other) => {
            return Err(format!(
                "sslmode={other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ))
        }
    };
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "sslmode")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(others)
        .append_pair("sslmode", driver_mode);
    Ok(PgTarget {
        url: url.to_string(),
        tls,
    })
}

/// The rustls connector: system roots through the platform verifier, no client certificate.
pub fn connector() -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let config = rustls::ClientConfig::builder()
        .with_platform_verifier()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Opens one pooled connection over TLS (the pool's setup callback when TLS is on).
pub fn establish_tls(url: &str) -> BoxFuture<'_, ConnectionResult<AsyncPgConnection>> {
    async move {
        let bad = |e: String| diesel::ConnectionError::BadConnection(e);
        let tls = connector().map_err(bad)?;
        let (client, connection) = tokio_postgres::connect(url, tls)
            .await
            .map_err(|e| bad(with_causes(&e)))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    }
    .boxed()
}

/// The driver's error with its causes: "error performing TLS handshake" alone does not say
/// whether the server refused TLS or its certificate failed verification.
fn with_causes(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A raw driver connection (for LISTEN/NOTIFY), over TLS when the URL asks for it: the client
/// and the stream of the connection's messages, which must be polled for the client to work.
pub async fn connect_raw(
    raw: &str,
) -> Result<
    (
        tokio_postgres::Client,
        futures_util::stream::BoxStream<
            'static,
            Result<tokio_postgres::AsyncMessage, tokio_postgres::Error>,
        >,
    ),
    String,
> {
    let target = plan(raw)?;
    match target.tls {
        PgTls::Off => {
            let (client, mut connection) =
                tokio_postgres::connect(&target.url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| e.to_string())?;
            let messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            Ok((client, messages.boxed()))
        }
        PgTls::Verified => {
            let (client, mut connection) = tokio_postgres::connect(&target.url, connector()?)
                .await
                .map_err(|e| with_causes(&e))?;
            let messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            Ok((client, messages.boxed()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sslmode_keeps_the_url_and_plain_tcp() {
        let url = "postgres://u:p@db:5432/app";
        assert_eq!(
            plan(url).unwrap(),
            PgTarget {
                url: url.into(),
                tls: PgTls::Off
            }
        );
    }

    #[test]
    fn modes_that_ask_for_tls_get_verified_tls_the_driver_can_parse() {
        for mode in ["require", "verify-ca", "verify-full"] {
            let target = plan(&format!(
                "postgres://u:p@db.example.com/app?application_name=wt&sslmode={mode}"
            ))
            .unwrap();
            assert_eq!(target.tls, PgTls::Verified, "{mode}");
            assert_eq!(
                target.url,
                "postgres://u:p@db.example.com/app?application_name=wt&sslmode=require"
            );
            let parsed: tokio_postgres::Config = target.url.parse().unwrap();
            assert_eq!(
                parsed.get_ssl_mode(),
                tokio_postgres::config::SslMode::Require
            );
        }
    }

    #[test]
    fn modes_without_tls_stay_plain() {
        for (mode, driver) in [
            ("disable", "disable"),
            ("allow", "prefer"),
            ("prefer", "prefer"),
        ] {
            let target = plan(&format!("postgres://u@db/app?sslmode={mode}")).unwrap();
            assert_eq!(target.tls, PgTls::Off, "{mode}");
            assert!(
                target.url.ends_with(&format!("sslmode={driver}")),
                "{}",
                target.url
            );
            assert!(target.url.parse::<tokio_postgres::Config>().is_ok());
        }
    }

    #[test]
    fn an_unknown_mode_is_refused_by_name() {
        let err = plan("postgres://u@db/app?sslmode=always").unwrap_err();
        assert!(err.contains("sslmode=\"always\""), "{err}");
    }
}
