//! Tests of `rollcall scan` as a user runs it: the built binary on tenant folders copied
//! or written into temporary folders.

mod golden;
mod output;
mod support;
