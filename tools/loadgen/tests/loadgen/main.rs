//! The load generator's tests: the report and the ledger through the public API, and the
//! verifier and whole runs against a small in-process stub of the gateway's routes.

mod ledger;
mod report;
mod run;
mod stub;
mod verify;
