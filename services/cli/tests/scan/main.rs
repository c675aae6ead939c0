//! Tests of `rollcall scan` as a user runs it: the built binary on tenant folders copied
//! or written into temporary folders.

mod exit_status;
mod golden;
mod output;
mod strict;
mod support;
mod tenant_yaml;
mod tenants;
