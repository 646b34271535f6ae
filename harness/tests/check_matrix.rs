//! The suite tests itself: the catalogue passes against the conforming reference server, and
//! under every `--deviate` switch at least one case fails; every case fails under at least one
//! switch (a case that cannot fail proves nothing).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use wsman_harness::check::embedded::Embedded;
use wsman_harness::check::profile::{Profile, ProfileName};
use wsman_harness::check::runner::{self, Plan};
use wsman_harness::check::waivers::Waivers;
use wsman_harness::check::{
    Case, DEFAULT_ENUMERATE_RESOURCE, RunReport, RunSettings, Verdict, catalogue,
};
use wsman_harness::client::{ClientOptions, Target};
use wsman_harness::server::{DEVIATIONS, Deviation, ServerConfig};

fn plan(url: &str, user: &str, password: &str, cases: Vec<Case>, slow: bool) -> Plan {
    let mut client = ClientOptions::new(Target::parse(url).unwrap(), user, password);
    client.timeout = Duration::from_secs(8);
    Plan {
        settings: RunSettings {
            client,
            profile: Profile::new(ProfileName::Seed),
            enumerate_resource: DEFAULT_ENUMERATE_RESOURCE.into(),
        },
        cases,
        strict: true,
        slow,
        jobs: 4,
        waivers: Waivers::default(),
        today: chrono::Utc::now().date_naive(),
    }
}

/// The embedded server with the shortest enumeration timeout the model allows, so that the
/// slow tier's expiry case takes seconds.
fn quick_expiry(deviations: &[Deviation]) -> Embedded {
    let mut config = ServerConfig::default();
    config.set("service/EnumerationTimeoutms=500").unwrap();
    config.deviations.extend_from_slice(deviations);
    Embedded::start_with(config).unwrap()
}

fn run_against(e: &Embedded, cases: Vec<Case>, slow: bool) -> RunReport {
    runner::run(&plan(&e.url(), &e.user, &e.password, cases, slow), &|_| {}).unwrap()
}

fn only(ids: &[&str]) -> Vec<Case> {
    catalogue()
        .into_iter()
        .filter(|c| ids.contains(&c.info.id))
        .collect()
}

fn not_ok(r: &RunReport) -> BTreeSet<&'static str> {
    r.results
        .iter()
        .filter(|x| !matches!(x.outcome.verdict, Verdict::Ok | Verdict::Skipped))
        .map(|x| x.case.id)
        .collect()
}

#[test]
fn the_conforming_server_passes_every_case_strictly() {
    let e = Embedded::start(&[]).unwrap();
    let r = run_against(&e, catalogue(), false);
    let bad: Vec<String> = r
        .results
        .iter()
        .filter(|x| x.outcome.verdict != Verdict::Ok || !x.cleanup_problems.is_empty())
        .filter(|x| x.case.id != "enumeration.expiry")
        .map(|x| {
            wsman_harness::report::human::case_line(
                x,
                wsman_harness::report::human::Style { color: false },
            )
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(
        e.running.service.open_shells(),
        0,
        "cases leave no shell behind"
    );
    // The slow tier, with a short EnumerationTimeoutms.
    let e = quick_expiry(&[]);
    let r = run_against(&e, only(&["enumeration.expiry"]), true);
    assert_eq!(
        r.results[0].outcome.verdict,
        Verdict::Ok,
        "{:?}",
        r.results[0].outcome
    );
}

#[test]
fn every_switch_fails_some_case_and_every_case_can_fail() {
    let all = catalogue();
    let mut failed_by: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    let mut silent = Vec::new();
    let switches: Vec<_> = DEVIATIONS
        .iter()
        .filter(|(d, ..)| *d != Deviation::CrashOnDoctype)
        .collect();
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for chunk in switches.chunks(switches.len().div_ceil(3)) {
            let results = &results;
            let all = &all;
            s.spawn(move || {
                for (d, name, _) in chunk {
                    // The expiry case needs a short EnumerationTimeoutms, which the defaults
                    // case would (rightly) report: only the expiry switch gets both.
                    let expiry = *d == Deviation::NeverExpireEnumerations;
                    let e = if expiry {
                        quick_expiry(&[*d])
                    } else {
                        Embedded::start(&[*d]).unwrap()
                    };
                    let cases = if expiry {
                        only(&["enumeration.expiry"])
                    } else {
                        all.clone()
                    };
                    let r = runner::run(
                        &plan(&e.url(), &e.user, &e.password, cases, expiry),
                        &|_| {},
                    );
                    let failing = match &r {
                        Ok(r) => not_ok(r),
                        Err(err) => panic!("{name}: the run did not start: {err}"),
                    };
                    results.lock().unwrap().push((*name, failing));
                }
            });
        }
    });
    // crash-on-doctype aborts the process, so it runs in the binary.
    let (mut child, url) = common::spawn_serve(
        env!("CARGO_BIN_EXE_wsman-harness"),
        &[
            "--deviate",
            "crash-on-doctype",
            "--user",
            "vagrant:Crash-Passw0rd",
            "--quiet",
        ],
        std::process::Stdio::null(),
    );
    let r = runner::run(
        &plan(
            &url,
            "vagrant",
            "Crash-Passw0rd",
            only(&["soap.doctype"]),
            false,
        ),
        &|_| {},
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let mut results = results.into_inner().unwrap();
    results.push(("crash-on-doctype", not_ok(&r)));
    for (name, failing) in &results {
        if failing.is_empty() {
            silent.push(*name);
        }
        for id in failing {
            failed_by.entry(id).or_default().push(name);
        }
    }
    let cannot_fail: Vec<&str> = all
        .iter()
        .map(|c| c.info.id)
        .filter(|id| !failed_by.contains_key(id))
        .collect();
    let matrix: Vec<String> = results
        .iter()
        .map(|(n, f)| format!("{n}: {}", f.iter().copied().collect::<Vec<_>>().join(", ")))
        .collect();
    assert!(
        silent.is_empty(),
        "switches no case detects: {silent:?}\n{}",
        matrix.join("\n")
    );
    assert!(
        cannot_fail.is_empty(),
        "cases no switch makes fail: {cannot_fail:?}\n{}",
        matrix.join("\n")
    );
}
