//! The built-in sandbox gateway, served by Waybill itself under `/sandbox`. It signs what it
//! says exactly as a real gateway would: HMAC-SHA256 over the timestamp and the body for
//! notifications, over the fields for the browser return and the checkout link.

use super::{CALLBACK_WINDOW_SECS, Notification, PaymentProvider};
use crate::security::{constant_time_eq, hmac_sha256_hex};
use waybill_db::ledger::PaymentIntent;

pub struct Sandbox {
    secret: Vec<u8>,
    base_url: String,
}

/// The fields of a checkout link, as the sandbox page receives them.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct Checkout {
    pub intent_id: String,
    pub amount: i64,
    pub currency: String,
    pub expires: i64,
    pub sig: String,
}

impl Sandbox {
    /// The secret is derived from the session key: nothing more to configure.
    pub fn new(session_secret: &[u8], base_url: &str) -> Sandbox {
        let secret = hmac_sha256_hex(session_secret, b"waybill sandbox payment provider");
        Sandbox {
            secret: secret.into_bytes(),
            base_url: base_url.to_string(),
        }
    }

    pub fn sign(&self, message: &str) -> String {
        hmac_sha256_hex(&self.secret, message.as_bytes())
    }

    fn checkout_message(c: &Checkout) -> String {
        format!(
            "checkout|{}|{}|{}|{}",
            c.intent_id, c.amount, c.currency, c.expires
        )
    }

    /// Whether a checkout link is authentic and still open at `now`.
    pub fn verify_checkout(&self, c: &Checkout, now: i64) -> Result<(), String> {
        let expected = self.sign(&Self::checkout_message(c));
        if !constant_time_eq(expected.as_bytes(), c.sig.as_bytes()) {
            return Err("This payment link is not valid.".into());
        }
        if now > c.expires {
            return Err("This payment link has expired. Start the top-up again.".into());
        }
        Ok(())
    }

    pub fn notify_url(&self) -> String {
        format!("{}/payments/sandbox/notify", self.base_url)
    }

    /// Headers and body of a notification, as the gateway would post it.
    pub fn notification(&self, n: &Notification, now: i64) -> (String, String, String) {
        let body = serde_json::to_string(n).unwrap_or_default();
        let ts = now.to_string();
        let sig = format!("sha256={}", self.sign(&format!("{ts}.{body}")));
        (ts, sig, body)
    }

    fn return_message(n: &Notification, ts: &str) -> String {
        format!(
            "return|{}|{}|{}|{}|{}|{ts}",
            n.intent_id, n.status, n.amount, n.currency, n.provider_ref
        )
    }

    /// Where the gateway sends the browser back, signed.
    pub fn return_url(&self, n: &Notification, now: i64) -> String {
        let ts = now.to_string();
        let sig = self.sign(&Self::return_message(n, &ts));
        let query = serde_urlencoded::to_string([
            ("intent_id", n.intent_id.as_str()),
            ("status", n.status.as_str()),
            ("amount", &n.amount.to_string()),
            ("currency", n.currency.as_str()),
            ("provider_ref", n.provider_ref.as_str()),
            ("ts", &ts),
            ("sig", &sig),
        ])
        .unwrap_or_default();
        format!("{}/wallet/topup/return?{query}", self.base_url)
    }
}

fn fresh(ts: &str, now: i64) -> Result<(), String> {
    let ts: i64 = ts.parse().map_err(|_| "bad timestamp".to_string())?;
    if (now - ts).abs() > CALLBACK_WINDOW_SECS {
        return Err("timestamp outside the allowed window".into());
    }
    Ok(())
}

impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn checkout_url(&self, intent: &PaymentIntent) -> String {
        let mut c = Checkout {
            intent_id: intent.id.clone(),
            amount: intent.amount,
            currency: intent.currency.clone(),
            expires: intent.expires_at.and_utc().timestamp(),
            sig: String::new(),
        };
        c.sig = self.sign(&Self::checkout_message(&c));
        let query = serde_urlencoded::to_string(&c).unwrap_or_default();
        format!("{}/sandbox/checkout?{query}", self.base_url)
    }

    fn verify_notify(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: i64,
    ) -> Result<Notification, String> {
        fresh(timestamp, now)?;
        let body_str = std::str::from_utf8(body).map_err(|_| "body is not UTF-8".to_string())?;
        let expected = format!("sha256={}", self.sign(&format!("{timestamp}.{body_str}")));
        if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err("signature mismatch".into());
        }
        serde_json::from_slice(body).map_err(|e| format!("malformed notification: {e}"))
    }

    fn verify_return(&self, query: &str, now: i64) -> Result<Notification, String> {
        #[derive(serde::Deserialize)]
        struct Q {
            intent_id: String,
            status: String,
            amount: i64,
            currency: String,
            provider_ref: String,
            ts: String,
            sig: String,
        }
        let q: Q =
            serde_urlencoded::from_str(query).map_err(|e| format!("malformed return: {e}"))?;
        fresh(&q.ts, now)?;
        let n = Notification {
            intent_id: q.intent_id,
            status: q.status,
            amount: q.amount,
            currency: q.currency,
            provider_ref: q.provider_ref,
        };
        let expected = self.sign(&Self::return_message(&n, &q.ts));
        if !constant_time_eq(expected.as_bytes(), q.sig.as_bytes()) {
            return Err("signature mismatch".into());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n() -> Notification {
        Notification {
            intent_id: "i1".into(),
            status: "succeeded".into(),
            amount: 10_000,
            currency: "CNY".into(),
            provider_ref: "SBX-1".into(),
        }
    }

    #[test]
    fn notifications_verify_and_tampering_fails() {
        let s = Sandbox::new(b"0123456789abcdef0123456789abcdef", "http://x");
        let (ts, sig, body) = s.notification(&n(), 1_000_000);
        assert_eq!(
            s.verify_notify(&ts, &sig, body.as_bytes(), 1_000_010),
            Ok(n())
        );
        let tampered = body.replace("10000", "99999");
        assert!(
            s.verify_notify(&ts, &sig, tampered.as_bytes(), 1_000_010)
                .is_err()
        );
        assert!(
            s.verify_notify(&ts, &sig, body.as_bytes(), 1_000_000 + 301)
                .is_err()
        );
        let other = Sandbox::new(b"another-secret-another-secret-xx", "http://x");
        assert!(
            other
                .verify_notify(&ts, &sig, body.as_bytes(), 1_000_010)
                .is_err()
        );
    }

    #[test]
    fn returns_verify_and_tampering_fails() {
        let s = Sandbox::new(b"0123456789abcdef0123456789abcdef", "http://x");
        let url = s.return_url(&n(), 1_000_000);
        let query = url.split_once('?').unwrap().1;
        assert_eq!(s.verify_return(query, 1_000_001), Ok(n()));
        let tampered = query.replace("amount=10000", "amount=20000");
        assert!(s.verify_return(&tampered, 1_000_001).is_err());
    }
}
