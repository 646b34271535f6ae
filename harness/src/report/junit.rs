//! JUnit XML through quick-junit: one testsuite per run, one testcase per case with the case id
//! as its name, so CI systems track each rule over time.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::check::{RunReport, Verdict};

/// Renders the report.
pub fn render(report: &RunReport) -> Result<String, String> {
    let mut junit = Report::new("wsman-harness check");
    let mut suite = TestSuite::new(format!("{} ({})", report.target, report.profile.as_str()));
    for r in &report.results {
        let status = if r.failing {
            let kind = match r.outcome.verdict {
                Verdict::Failed | Verdict::WrongFault | Verdict::NonStrict => {
                    NonSuccessKind::Failure
                }
                _ => NonSuccessKind::Error,
            };
            let mut s = TestCaseStatus::non_success(kind);
            if let TestCaseStatus::NonSuccess {
                message,
                ty,
                description,
                ..
            } = &mut s
            {
                *message = Some(
                    r.failing_reason
                        .clone()
                        .unwrap_or_else(|| r.outcome.summary.clone())
                        .into(),
                );
                *ty = Some(r.outcome.verdict.as_str().into());
                *description = Some(
                    format!(
                        "Expected: {}\nActual: {}\nSource: {}",
                        r.outcome.expected.as_deref().unwrap_or("-"),
                        r.outcome.actual.as_deref().unwrap_or("-"),
                        r.case.source
                    )
                    .into(),
                );
            }
            s
        } else if r.outcome.verdict == Verdict::Skipped {
            let mut s = TestCaseStatus::skipped();
            if let TestCaseStatus::Skipped { message, .. } = &mut s {
                *message = Some(r.outcome.summary.clone().into());
            }
            s
        } else {
            TestCaseStatus::success()
        };
        let mut tc = TestCase::new(r.case.id, status);
        tc.set_classname(r.case.id.split('.').next().unwrap_or("case"));
        tc.set_time(std::time::Duration::from_millis(r.millis));
        tc.system_out = Some(
            format!(
                "{} {}: {}",
                r.outcome.verdict.as_str(),
                r.case.level.as_str(),
                r.outcome.summary
            )
            .into(),
        );
        suite.add_test_case(tc);
    }
    junit.add_test_suite(suite);
    junit.to_string().map_err(|e| e.to_string())
}
