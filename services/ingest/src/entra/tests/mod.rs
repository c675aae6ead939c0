//! Tests of the Entra reader.
