//! The `config_values` fuzz seeds hold the invariants (each seed is a setting index byte and a
//! value, documented in `corpus/config_values/README.md`).

#[test]
fn config_value_seeds_hold_the_invariants() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/config_values");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "bin") {
            wsman_harness::fuzzing::config_values(&std::fs::read(&p).unwrap());
            n += 1;
        }
    }
    assert!(n >= 10, "{n} seeds");
}
