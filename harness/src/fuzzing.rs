//! Invariants checked by the fuzz targets (`fuzz/`), kept in the library so that `cargo test`
//! checks them on every seed too. Each function panics when an invariant breaks.

use crate::envelope::{parse_with, write};
use crate::xml::{Limits, PrefixStyle, equivalent};

/// Fuzz limits: small enough that a run explores breadth, not megabyte inputs.
const LIMITS: Limits = Limits {
    max_bytes: 1 << 20,
    max_depth: 128,
};

/// Parsing any bytes returns a value or an error with an offset inside the input; whatever
/// parses writes back, in both prefix styles, to an equivalent document that parses to the
/// same model and writes to the same text again.
pub fn envelope(data: &[u8]) {
    let env = match parse_with(data, LIMITS) {
        Ok(env) => env,
        Err(e) => {
            assert!(
                e.offset as usize <= data.len(),
                "error offset {} past input {}",
                e.offset,
                data.len()
            );
            return;
        }
    };
    for style in [PrefixStyle::Windows, PrefixStyle::Preserve] {
        let out = write(&env, style);
        let again = parse_with(out.as_bytes(), Limits::UNBOUNDED)
            .unwrap_or_else(|e| panic!("written envelope does not parse: {e}\n{out}"));
        assert!(again == env, "model changed after {style:?} write\n{out}");
        assert_eq!(write(&again, style), out, "second {style:?} write differs");
        if let Err(e) = equivalent(data, out.as_bytes()) {
            panic!("{style:?} write is not equivalent to the input: {e}\n{out}");
        }
    }
}
