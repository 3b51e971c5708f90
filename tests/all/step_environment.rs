//! The host gives the guest only the settings it was configured with, never its own
//! environment.

use crate::common::*;
use smartcomm_host::{StepCallError, steps};

const IN_LEAKY_PROCESS: &str = "step_environment::steps_in_a_process_with_smartcomm_variables";

/// Runs the test below in a child process of this test binary whose environment holds
/// `SMARTCOMM_*` values of its own: setting them in this process would leak into every other
/// test running beside it.
#[test]
fn the_guest_sees_none_of_the_host_process_environment() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", IN_LEAKY_PROCESS, "--include-ignored"])
        .env("SMARTCOMM_CUSTOMER_ID", "leaked-customer")
        .env("SMARTCOMM_TOKEN", "leaked-token")
        .output()
        .expect("the test binary runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    assert!(report.contains("1 passed"), "{report}");
}

#[test]
#[ignore = "run by the_guest_sees_none_of_the_host_process_environment, in its own process"]
fn steps_in_a_process_with_smartcomm_variables() {
    assert_eq!(
        std::env::var("SMARTCOMM_TOKEN").as_deref(),
        Ok("leaked-token"),
        "started with the variables the guest must not see"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let emulator = emulator().await;
        // Configured with credentials: if the host's SMARTCOMM_TOKEN leaked in, it would win
        // and be refused; if its SMARTCOMM_CUSTOMER_ID did, requests would go to it.
        let mut steps = runtime().steps(&config(&emulator, CUSTOMER));
        assert_eq!(steps.list_numbers(None, None).await.unwrap().len(), 100);
        assert!(
            emulator
                .requests()
                .iter()
                .all(|r| !r.path.contains("leaked"))
        );

        // With no settings at all, the guest finds none, whatever the host process has.
        match runtime()
            .steps_with_env(Vec::new())
            .list_numbers(None, None)
            .await
        {
            Err(StepCallError::Step(steps::StepError::PermanentBadSetting(problems))) => {
                let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                assert_eq!(fields, ["SMARTCOMM_CUSTOMER_ID", "SMARTCOMM_USERNAME"]);
            }
            other => panic!("{other:?}"),
        }
    });
}
