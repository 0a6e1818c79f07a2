//! Twilio webhook signatures (`X-Twilio-Signature`).
//!
//! Twilio signs every webhook with `base64(HMAC-SHA1(auth_token, url + sorted params))`, where the
//! params are the POST form fields, sorted by name, each appended as `name` then `value` with no
//! delimiter. The URL must be the exact public URL Twilio requested (scheme, host, port, path and
//! query), which is why callers rebuild it from a configured public base URL rather than from the
//! `Host` header: behind proxies and tunnels the two differ.
//!
//! JSON-bodied callbacks cannot be signed through form params, so Twilio instead puts
//! `bodySHA256=<hex sha256 of the body>` in the query string and signs the URL alone.
//!
//! The simulator uses [`compute_signature`] to sign the webhooks it sends, so the signer and the
//! validator are tested against the vectors produced by Twilio's own helper library.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Name of the HTTP header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Query parameter that carries the hex SHA-256 of a JSON body.
pub const BODY_SHA256_PARAM: &str = "bodySHA256";

type HmacSha1 = Hmac<Sha1>;

/// Computes the `X-Twilio-Signature` value for a request to `url` with form `params`.
///
/// Params are sorted by name and then by value (byte order, i.e. Unix-style case-sensitive
/// ordering, which is what Twilio documents), so repeated names sign the same whatever order they
/// arrived in. Identical name/value pairs are signed once, as Twilio's official helper libraries
/// do (twilio-python signs `sorted(set(values))` per name, twilio-node
/// `Array.from(new Set(values)).sort()`): a field repeated with the same value validates the same
/// as when it appears once. For GET requests or JSON bodies pass no params: the query string is
/// part of `url`.
pub fn compute_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_unstable();
    sorted.dedup();

    // HMAC accepts keys of any length, so this cannot fail; `new_from_slice` is only fallible for
    // fixed-key-size MACs.
    let mut mac =
        HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    BASE64.encode(mac.finalize().into_bytes())
}

/// Lowercase hex SHA-256 of `body`, the value Twilio puts in the `bodySHA256` query parameter.
pub fn body_sha256_hex(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Checks `X-Twilio-Signature` headers against the account's auth token.
///
/// Cheap to clone; `Debug` never prints the token.
#[derive(Clone)]
pub struct RequestValidator {
    auth_token: String,
}

impl fmt::Debug for RequestValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestValidator")
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

impl RequestValidator {
    pub fn new(auth_token: impl Into<String>) -> Self {
        Self {
            auth_token: auth_token.into(),
        }
    }

    /// True when `signature` is Twilio's signature of a form-encoded request to `url`.
    ///
    /// Like Twilio's official validators, the URL is also tried with the scheme's default port
    /// added (when it has none) or removed (when it has exactly the default port), because Twilio
    /// may sign either form depending on how the webhook URL was configured. The comparison is
    /// constant-time.
    pub fn validate(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        url_variants(url)
            .iter()
            .flatten()
            .any(|candidate| self.signature_matches(candidate, params, signature))
    }

    /// True when `signature` signs a JSON-bodied callback: the `bodySHA256` query parameter of
    /// `url_with_query` must equal the SHA-256 of `body`, and the signature is computed over the
    /// full URL (query included) with no params.
    ///
    /// A URL without `bodySHA256` is rejected: without it nothing ties the body to the signature.
    pub fn validate_json_body(&self, url_with_query: &str, body: &[u8], signature: &str) -> bool {
        let Some(claimed_hash) = query_param(url_with_query, BODY_SHA256_PARAM) else {
            return false;
        };
        let actual_hash = body_sha256_hex(body);
        // Hex is case-insensitive; Twilio sends lowercase but nothing is lost by tolerating upper.
        let claimed_hash = claimed_hash.to_ascii_lowercase();
        let body_matches: bool = actual_hash.as_bytes().ct_eq(claimed_hash.as_bytes()).into();
        // Evaluate the signature even when the body hash fails so timing reveals nothing.
        let signature_matches = self.validate(url_with_query, &[], signature);
        body_matches && signature_matches
    }

    fn signature_matches(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        let expected = compute_signature(&self.auth_token, url, params);
        expected.as_bytes().ct_eq(signature.as_bytes()).into()
    }
}

/// The URLs a signature may have been computed over: the URL as given and, for http(s) URLs, the
/// same URL with the default port added or removed. The original always comes first.
fn url_variants(url: &str) -> [Option<String>; 2] {
    [Some(url.to_owned()), toggle_default_port(url)]
}

/// Adds the scheme's default port to a URL without one, or removes it from a URL that carries
/// exactly the default port. Returns `None` for any other URL (non-default port, unknown scheme,
/// unparseable authority), because only the default port is interchangeable with its absence.
///
/// Works on the string rather than through `url::Url` on purpose: `Url` normalises (drops default
/// ports, lowercases hosts, re-encodes paths), and the signature covers the exact bytes.
fn toggle_default_port(url: &str) -> Option<String> {
    let scheme_end = url.find("://")?;
    let default_port = match url[..scheme_end].to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |offset| authority_start + offset);
    let authority = &url[authority_start..authority_end];
    // Userinfo (`user:pass@`) may contain colons; the host and port follow the last `@`.
    let host_start = authority_start + authority.rfind('@').map_or(0, |at| at + 1);
    let host_and_port = &url[host_start..authority_end];

    let port_colon = if host_and_port.starts_with('[') {
        // IPv6 literal: a port can only follow the closing bracket.
        let bracket_end = host_and_port.find(']')?;
        match &host_and_port[bracket_end + 1..] {
            "" => None,
            rest if rest.starts_with(':') => Some(host_start + bracket_end + 1),
            _ => return None,
        }
    } else {
        host_and_port.rfind(':').map(|colon| host_start + colon)
    };

    match port_colon {
        None => Some(format!(
            "{}:{}{}",
            &url[..authority_end],
            default_port,
            &url[authority_end..]
        )),
        Some(colon) if &url[colon + 1..authority_end] == default_port => {
            Some(format!("{}{}", &url[..colon], &url[authority_end..]))
        }
        Some(_) => None,
    }
}

/// The first value of query parameter `name` in `url`, percent-decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    let without_fragment = url.split('#').next().unwrap_or(url);
    let (_, query) = without_fragment.split_once('?')?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Read at test time (not `include_str!`) so a missing shared folder fails these tests only,
    /// not the whole crate's test build.
    const VECTORS_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/twilio/vectors.json"
    );

    fn signature_vectors() -> Vec<Value> {
        let text = std::fs::read_to_string(VECTORS_PATH)
            .unwrap_or_else(|error| panic!("cannot read {VECTORS_PATH}: {error}"));
        let vectors: Value = serde_json::from_str(&text).expect("vectors.json is valid JSON");
        let signatures = vectors["signatures"]
            .as_array()
            .expect("vectors.json has a signatures array")
            .clone();
        assert!(
            !signatures.is_empty(),
            "vectors.json has no signature vectors"
        );
        signatures
    }

    fn params_of(vector: &Value) -> Vec<(String, String)> {
        vector
            .get("params")
            .and_then(Value::as_object)
            .map(|params| {
                params
                    .iter()
                    .map(|(name, value)| {
                        let value = value.as_str().expect("param values are strings");
                        (name.clone(), value.to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn str_field<'a>(vector: &'a Value, field: &str) -> &'a str {
        vector[field]
            .as_str()
            .unwrap_or_else(|| panic!("vector {} lacks {field}", vector["name"]))
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn compute_signature_matches_every_official_vector() {
        for vector in signature_vectors() {
            let name = str_field(&vector, "name");
            let computed = compute_signature(
                str_field(&vector, "auth_token"),
                str_field(&vector, "url"),
                &params_of(&vector),
            );
            assert_eq!(
                computed,
                str_field(&vector, "expected_signature"),
                "vector {name:?}"
            );
        }
    }

    #[test]
    fn validator_accepts_every_official_vector() {
        for vector in signature_vectors() {
            let name = str_field(&vector, "name");
            let validator = RequestValidator::new(str_field(&vector, "auth_token"));
            let url = str_field(&vector, "url");
            let signature = str_field(&vector, "expected_signature");
            match vector.get("json_body").and_then(Value::as_str) {
                Some(body) => {
                    assert_eq!(
                        body_sha256_hex(body.as_bytes()),
                        str_field(&vector, "body_sha256"),
                        "vector {name:?}: body hash"
                    );
                    assert!(
                        validator.validate_json_body(url, body.as_bytes(), signature),
                        "vector {name:?}"
                    );
                }
                None => assert!(
                    validator.validate(url, &params_of(&vector), signature),
                    "vector {name:?}"
                ),
            }
        }
    }

    #[test]
    fn validator_rejects_tampering_with_every_official_vector() {
        for vector in signature_vectors() {
            let name = str_field(&vector, "name");
            let token = str_field(&vector, "auth_token");
            let url = str_field(&vector, "url");
            let signature = str_field(&vector, "expected_signature");
            let params = params_of(&vector);

            let wrong_token = RequestValidator::new(format!("{token}x"));
            assert!(
                !wrong_token.validate(url, &params, signature),
                "vector {name:?}: wrong token"
            );

            let validator = RequestValidator::new(token);
            let wrong_url =
                url.replacen("/twilio/", "/twilio-other/", 1)
                    .replacen("myapp.php", "other.php", 1);
            assert_ne!(wrong_url, url, "vector {name:?}: test must change the URL");
            assert!(
                !validator.validate(&wrong_url, &params, signature),
                "vector {name:?}: wrong URL"
            );
            assert!(
                !validator.validate(&url.replacen("https://", "http://", 1), &params, signature),
                "vector {name:?}: wrong scheme"
            );
            assert!(
                !validator.validate(url, &params, ""),
                "vector {name:?}: empty signature"
            );

            if let Some((first_name, first_value)) = params.first() {
                let mut tampered = params.clone();
                tampered[0] = (first_name.clone(), format!("{first_value}0"));
                assert!(
                    !validator.validate(url, &tampered, signature),
                    "vector {name:?}: tampered value"
                );
                assert!(
                    !validator.validate(url, &params[1..], signature),
                    "vector {name:?}: dropped param"
                );
            }
            let mut extra = params.clone();
            extra.push(("Injected".to_owned(), "1".to_owned()));
            assert!(
                !validator.validate(url, &extra, signature),
                "vector {name:?}: extra param"
            );
        }
    }

    #[test]
    fn json_body_validation_rejects_tampered_body_missing_hash_and_wrong_hash() {
        let token = "12345";
        let body = br#"{"CallSid":"CA1","Status":"completed"}"#;
        let url = format!(
            "https://support.example.com/twilio/events?{BODY_SHA256_PARAM}={}",
            body_sha256_hex(body)
        );
        let signature = compute_signature(token, &url, &[]);
        let validator = RequestValidator::new(token);
        assert!(validator.validate_json_body(&url, body, &signature));

        // Body changed after signing: hash no longer matches.
        assert!(!validator.validate_json_body(&url, br#"{"CallSid":"CA2"}"#, &signature));

        // Attacker recomputes the hash for their body but cannot re-sign the URL.
        let forged_body = br#"{"CallSid":"CA2","Status":"completed"}"#;
        let forged_url = format!(
            "https://support.example.com/twilio/events?{BODY_SHA256_PARAM}={}",
            body_sha256_hex(forged_body)
        );
        assert!(!validator.validate_json_body(&forged_url, forged_body, &signature));

        // No bodySHA256 at all: nothing binds the body to the signature.
        let bare_url = "https://support.example.com/twilio/events";
        let bare_signature = compute_signature(token, bare_url, &[]);
        assert!(!validator.validate_json_body(bare_url, body, &bare_signature));

        // Wrong token.
        assert!(!RequestValidator::new("54321").validate_json_body(&url, body, &signature));
    }

    #[test]
    fn json_body_hash_accepts_uppercase_hex_in_query() {
        let token = "12345";
        let body = b"{}";
        let url = format!(
            "https://example.com/events?{BODY_SHA256_PARAM}={}",
            body_sha256_hex(body).to_ascii_uppercase()
        );
        let signature = compute_signature(token, &url, &[]);
        assert!(RequestValidator::new(token).validate_json_body(&url, body, &signature));
    }

    #[test]
    fn json_body_validation_accepts_default_port_variants() {
        let token = "12345";
        let body = b"{\"a\":1}";
        let query = format!("?{BODY_SHA256_PARAM}={}", body_sha256_hex(body));
        let signed_with_port = format!("https://example.com:443/events{query}");
        let signature = compute_signature(token, &signed_with_port, &[]);
        let received = format!("https://example.com/events{query}");
        assert!(RequestValidator::new(token).validate_json_body(&received, body, &signature));
    }

    #[test]
    fn signature_is_independent_of_param_order_and_sorts_repeated_names_by_value() {
        let forward = pairs(&[("To", "+1"), ("From", "+2"), ("Event", "a"), ("Event", "b")]);
        let backward = pairs(&[("Event", "b"), ("Event", "a"), ("From", "+2"), ("To", "+1")]);
        assert_eq!(
            compute_signature("t", "https://x.test/", &forward),
            compute_signature("t", "https://x.test/", &backward)
        );
        // Sorting must be by value within a name: "Eventa" + "Eventb", not the reverse.
        let mut mac = HmacSha1::new_from_slice(b"t").expect("any key length");
        mac.update(b"https://x.test/EventaEventbFrom+2To+1");
        let expected = BASE64.encode(mac.finalize().into_bytes());
        assert_eq!(
            compute_signature("t", "https://x.test/", &forward),
            expected
        );
    }

    fn expected_over(data: &[u8]) -> String {
        let mut mac = HmacSha1::new_from_slice(b"t").expect("any key length");
        mac.update(data);
        BASE64.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn identical_repeated_pairs_are_signed_once() {
        // As twilio-python (`sorted(set(values))`) and twilio-node (`new Set(values)`) do.
        let repeated = pairs(&[("Event", "a"), ("To", "+1"), ("Event", "a")]);
        let once = pairs(&[("Event", "a"), ("To", "+1")]);
        let expected = expected_over(b"https://x.test/EventaTo+1");
        assert_eq!(
            compute_signature("t", "https://x.test/", &repeated),
            expected
        );
        assert_eq!(compute_signature("t", "https://x.test/", &once), expected);
        let validator = RequestValidator::new("t");
        assert!(validator.validate("https://x.test/", &repeated, &expected));
        assert!(validator.validate("https://x.test/", &once, &expected));
    }

    #[test]
    fn repeated_names_keep_each_distinct_value_and_drop_only_exact_repeats() {
        let params = pairs(&[
            ("Event", "b"),
            ("Event", "a"),
            ("Event", "b"),
            ("Event", "a"),
            ("From", "+2"),
        ]);
        assert_eq!(
            compute_signature("t", "https://x.test/", &params),
            expected_over(b"https://x.test/EventaEventbFrom+2")
        );
        // The same value under different names is not a repeat.
        let params = pairs(&[("A", "x"), ("B", "x"), ("A", "x")]);
        assert_eq!(
            compute_signature("t", "https://x.test/", &params),
            expected_over(b"https://x.test/AxBx")
        );
        // Values differing only in case are distinct.
        let params = pairs(&[("A", "x"), ("A", "X")]);
        assert_eq!(
            compute_signature("t", "https://x.test/", &params),
            expected_over(b"https://x.test/AXAx")
        );
    }

    #[test]
    fn a_signature_over_a_repeated_pair_counted_twice_is_refused() {
        // What a signer that kept both copies would send: Twilio's validators would refuse it too.
        let repeated = pairs(&[("Event", "a"), ("Event", "a")]);
        let doubled = expected_over(b"https://x.test/EventaEventa");
        assert!(!RequestValidator::new("t").validate("https://x.test/", &repeated, &doubled));
    }

    #[test]
    fn param_names_sort_case_sensitively_uppercase_first() {
        let params = pairs(&[("alpha", "1"), ("Zeta", "2")]);
        let mut mac = HmacSha1::new_from_slice(b"t").expect("any key length");
        mac.update(b"https://x.test/Zeta2alpha1");
        let expected = BASE64.encode(mac.finalize().into_bytes());
        assert_eq!(compute_signature("t", "https://x.test/", &params), expected);
    }

    #[test]
    fn validator_accepts_signature_over_url_with_default_https_port() {
        let params = pairs(&[("CallSid", "CA1")]);
        let signature =
            compute_signature("tok", "https://example.com:443/twilio/voice?x=1", &params);
        let validator = RequestValidator::new("tok");
        assert!(validator.validate("https://example.com/twilio/voice?x=1", &params, &signature));
        assert!(validator.validate(
            "https://example.com:443/twilio/voice?x=1",
            &params,
            &signature
        ));
    }

    #[test]
    fn validator_accepts_signature_over_url_without_default_port() {
        let params = pairs(&[("CallSid", "CA1")]);
        let signature = compute_signature("tok", "https://example.com/twilio/voice", &params);
        let validator = RequestValidator::new("tok");
        assert!(validator.validate("https://example.com:443/twilio/voice", &params, &signature));
    }

    #[test]
    fn validator_accepts_default_http_port_variants() {
        let params = pairs(&[("CallSid", "CA1")]);
        let validator = RequestValidator::new("tok");
        let with_port = compute_signature("tok", "http://example.com:80/hook", &params);
        assert!(validator.validate("http://example.com/hook", &params, &with_port));
        let without_port = compute_signature("tok", "http://example.com/hook", &params);
        assert!(validator.validate("http://example.com:80/hook", &params, &without_port));
    }

    #[test]
    fn validator_never_swaps_non_default_ports() {
        let params = pairs(&[("CallSid", "CA1")]);
        let validator = RequestValidator::new("tok");
        // Signed with an explicit non-default port; received without it: must fail.
        let signature = compute_signature("tok", "https://example.com:8443/hook", &params);
        assert!(!validator.validate("https://example.com/hook", &params, &signature));
        assert!(!validator.validate("https://example.com:443/hook", &params, &signature));
        // The http default port is not the https default port.
        let signature = compute_signature("tok", "https://example.com:80/hook", &params);
        assert!(!validator.validate("https://example.com/hook", &params, &signature));
        let signature = compute_signature("tok", "http://example.com:443/hook", &params);
        assert!(!validator.validate("http://example.com/hook", &params, &signature));
    }

    #[test]
    fn toggle_default_port_handles_url_shapes() {
        let cases: &[(&str, Option<&str>)] = &[
            ("https://a.test/p?q=1", Some("https://a.test:443/p?q=1")),
            ("https://a.test:443/p?q=1", Some("https://a.test/p?q=1")),
            ("https://a.test", Some("https://a.test:443")),
            ("https://a.test:443", Some("https://a.test")),
            ("https://a.test?x=1", Some("https://a.test:443?x=1")),
            ("https://a.test#frag", Some("https://a.test:443#frag")),
            ("HTTPS://a.test/", Some("HTTPS://a.test:443/")),
            ("http://a.test/p", Some("http://a.test:80/p")),
            ("http://a.test:80/p", Some("http://a.test/p")),
            ("https://a.test:8443/p", None),
            ("https://a.test:4430/p", None),
            (
                "https://user:pw@a.test/p",
                Some("https://user:pw@a.test:443/p"),
            ),
            (
                "https://user:pw@a.test:443/p",
                Some("https://user:pw@a.test/p"),
            ),
            ("https://[::1]/p", Some("https://[::1]:443/p")),
            ("https://[::1]:443/p", Some("https://[::1]/p")),
            ("https://[::1]:8443/p", None),
            // A colon in the path or query is not a port.
            (
                "https://a.test/p:443?x=a:b",
                Some("https://a.test:443/p:443?x=a:b"),
            ),
            ("wss://a.test/p", None),
            ("not a url", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                toggle_default_port(input).as_deref(),
                *expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn query_param_decodes_and_ignores_fragment() {
        assert_eq!(
            query_param("https://a.test/p?x=1&bodySHA256=ab%63#frag", "bodySHA256").as_deref(),
            Some("abc")
        );
        assert_eq!(query_param("https://a.test/p?x=1", "bodySHA256"), None);
        assert_eq!(query_param("https://a.test/p", "bodySHA256"), None);
    }

    #[test]
    fn body_sha256_hex_is_lowercase_hex_of_sha256() {
        assert_eq!(
            body_sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn debug_output_redacts_the_auth_token() {
        let rendered = format!("{:?}", RequestValidator::new("super-secret-token"));
        assert!(!rendered.contains("super-secret-token"));
    }
}
