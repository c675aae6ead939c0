//! Helpers shared by the integration tests: a log buffer, a loopback OTLP collector and a
//! minimal HTTP client.

#![allow(dead_code, reason = "each test binary uses a different part of this module")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test stops at its first broken expectation"
)]

pub mod collector;
pub mod http;

use std::io;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// Log output captured in memory, shared between the subscriber and the test.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Returns the lines written so far, each parsed as JSON; a line that is not JSON
    /// fails the test.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        text.lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"))
            })
            .collect()
    }

    /// Returns everything written so far as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'writer> MakeWriter<'writer> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'writer self) -> LogBuffer {
        self.clone()
    }
}
