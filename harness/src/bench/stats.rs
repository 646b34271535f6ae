//! What each load worker counts: latencies in an HDR histogram (microseconds, 3 significant
//! digits, so percentiles up to p99.9 and the max are exact to 0.1 %), outcomes by class, bytes,
//! resources left open. Workers record into their own [`Recorder`]; the run merges them.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

/// Errors by class. Quota faults (`w:QuotaLimit`) are kept apart from other faults: under load
/// they are the service's designed answer, not a defect.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Errors {
    /// No answer: connect, TLS, authentication, time limit, broken connection.
    pub transport: u64,
    /// Non-200 answers without a SOAP fault, by status.
    pub http: BTreeMap<u16, u64>,
    /// SOAP faults by subcode (`w:TimedOut`, `a:DestinationUnreachable`, …).
    pub faults: BTreeMap<String, u64>,
    /// `w:QuotaLimit` faults.
    pub quota: u64,
    /// 200 answers the flow could not use (no ShellId, not an envelope).
    pub protocol: u64,
}

impl Errors {
    /// All errors.
    pub fn total(&self) -> u64 {
        self.transport
            + self.http.values().sum::<u64>()
            + self.faults.values().sum::<u64>()
            + self.quota
            + self.protocol
    }

    fn add(&mut self, o: &Errors) {
        self.transport += o.transport;
        self.quota += o.quota;
        self.protocol += o.protocol;
        for (k, v) in &o.http {
            *self.http.entry(*k).or_default() += v;
        }
        for (k, v) in &o.faults {
            *self.faults.entry(k.clone()).or_default() += v;
        }
    }
}

/// How one request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 200 and usable.
    Ok,
    /// See [`Errors`].
    Transport,
    /// Non-200 without fault.
    Http(u16),
    /// A fault with this subcode.
    Fault(String),
    /// A quota fault.
    Quota,
    /// Unusable 200.
    Protocol,
}

/// One worker's counts.
#[derive(Clone, Debug)]
pub struct Recorder {
    /// Latency per request, microseconds.
    pub latency: Histogram<u64>,
    /// Requests answered with success.
    pub ok: u64,
    /// Whole iterations (one op or one scenario) completed without error.
    pub iterations: u64,
    /// Errors by class.
    pub errors: Errors,
    /// Request bytes.
    pub bytes_out: u64,
    /// Response bytes.
    pub bytes_in: u64,
    /// Shells created and not deleted.
    pub leaked_shells: u64,
    /// Enumeration contexts neither finished nor released.
    pub leaked_enumerations: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            // 1 µs .. 1 hour; the bounds are constants, so construction cannot fail.
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .unwrap_or_else(|_| unreachable!("constant histogram bounds")),
            ok: 0,
            iterations: 0,
            errors: Errors::default(),
            bytes_out: 0,
            bytes_in: 0,
            leaked_shells: 0,
            leaked_enumerations: 0,
        }
    }
}

impl Recorder {
    /// Records one request.
    pub fn request(&mut self, micros: u64, outcome: &Outcome, bytes_out: u64, bytes_in: u64) {
        self.latency.saturating_record(micros.max(1));
        self.bytes_out += bytes_out;
        self.bytes_in += bytes_in;
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Transport => self.errors.transport += 1,
            Outcome::Http(s) => *self.errors.http.entry(*s).or_default() += 1,
            Outcome::Fault(f) => *self.errors.faults.entry(f.clone()).or_default() += 1,
            Outcome::Quota => self.errors.quota += 1,
            Outcome::Protocol => self.errors.protocol += 1,
        }
    }

    /// Adds another worker's counts.
    pub fn merge(&mut self, o: &Recorder) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&o.latency);
        self.ok += o.ok;
        self.iterations += o.iterations;
        self.errors.add(&o.errors);
        self.bytes_out += o.bytes_out;
        self.bytes_in += o.bytes_in;
        self.leaked_shells += o.leaked_shells;
        self.leaked_enumerations += o.leaked_enumerations;
    }

    /// Forgets everything (the end of the warm-up).
    pub fn reset(&mut self) {
        *self = Recorder::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_and_latencies() {
        let mut a = Recorder::default();
        a.request(100, &Outcome::Ok, 10, 20);
        a.request(300, &Outcome::Quota, 10, 20);
        let mut b = Recorder::default();
        b.request(200, &Outcome::Fault("w:TimedOut".into()), 1, 2);
        b.request(50, &Outcome::Http(503), 1, 2);
        a.merge(&b);
        assert_eq!(a.latency.len(), 4);
        assert_eq!(a.latency.max(), 300);
        assert_eq!((a.ok, a.errors.quota, a.errors.total()), (1, 1, 3));
        assert_eq!(a.errors.faults["w:TimedOut"], 1);
        assert_eq!(a.errors.http[&503], 1);
        assert_eq!((a.bytes_out, a.bytes_in), (22, 44));
    }
}
