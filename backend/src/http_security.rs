//! Response hardening applied to every route: browser security headers, the optional bearer
//! token in front of `/metrics`, and (production) no source maps.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;

/// The SPA's bundle is external files only (Vite inlines no script), so scripts come from this
/// origin alone. Styles allow inline attributes (React's `style=` and Swagger UI set them).
/// The Voice SDK talks to Twilio over https/wss and plays its ringtones from Twilio's CDN.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self'; \
     style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; \
     font-src 'self' data:; \
     connect-src 'self' https://*.twilio.com wss://*.twilio.com; \
     media-src 'self' blob: https://*.twilio.com https://*.twiliocdn.com; \
     worker-src 'self' blob:; \
     object-src 'none'; \
     base-uri 'self'; \
     form-action 'self'; \
     frame-ancestors 'none'";

/// One year, the figure browsers' preload lists ask for.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// Headers added to every response that does not set them itself. HSTS only when the app is
/// reached over https: sent over plain http it would be ignored, or pin a development host.
pub fn default_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        .add((
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), geolocation=(), payment=(), usb=()"),
        ));
    if https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY))
    } else {
        headers
    }
}

/// Whether a request may read `/metrics`: anyone when no token is configured, otherwise only a
/// request bearing exactly that token (compared in constant time).
pub fn metrics_authorized(expected: Option<&str>, authorization: Option<&HeaderValue>) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let Some(presented) = authorization
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    constant_time_eq(presented.trim().as_bytes(), expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Source maps give the SPA's original source away; production does not serve them.
pub fn is_source_map(path: &str) -> bool {
    path.ends_with(".map")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_token_is_checked_only_when_configured() {
        let good = HeaderValue::from_static("Bearer s3cret-s3cret");
        let bad = HeaderValue::from_static("Bearer s3cret-s3creu");
        let basic = HeaderValue::from_static("Basic s3cret-s3cret");
        assert!(metrics_authorized(None, None));
        assert!(metrics_authorized(None, Some(&bad)));
        assert!(metrics_authorized(Some("s3cret-s3cret"), Some(&good)));
        assert!(!metrics_authorized(Some("s3cret-s3cret"), Some(&bad)));
        assert!(!metrics_authorized(Some("s3cret-s3cret"), Some(&basic)));
        assert!(!metrics_authorized(Some("s3cret-s3cret"), None));
        assert!(!metrics_authorized(
            Some("s3cret-s3cret"),
            Some(&HeaderValue::from_static("Bearer s3cret"))
        ));
    }

    #[test]
    fn the_policy_allows_no_inline_script_and_no_framing() {
        let script = CONTENT_SECURITY_POLICY
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script.contains("unsafe"), "{script}");
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn source_maps_are_recognised() {
        assert!(is_source_map("/assets/index-abc.js.map"));
        assert!(!is_source_map("/assets/index-abc.js"));
    }
}
