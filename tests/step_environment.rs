//! The host gives the guest only the settings it was configured with, never its own
//! environment. (The only test in its binary: it sets this process's environment.)

mod common;

use common::*;
use smartcomm_host::{StepCallError, steps};

#[test]
fn the_guest_sees_none_of_the_host_process_environment() {
    // SAFETY: set before any other thread of this test binary exists.
    unsafe {
        std::env::set_var("SMARTCOMM_CUSTOMER_ID", "leaked-customer");
        std::env::set_var("SMARTCOMM_TOKEN", "leaked-token");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let emulator = emulator().await;
        // Configured with credentials: if the host's SMARTCOMM_TOKEN leaked in, it would win
        // and be refused; if its SMARTCOMM_CUSTOMER_ID did, requests would go to it.
        let steps = runtime().steps(&emulator.config(CUSTOMER));
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
