use std::path::Path;

use chrono_tz::America::Chicago;
use proptest::prelude::*;

use crate::hr::{HrOptions, read_hr_roster};

const HEADER: &str = "Employee ID,Name,Work Email,Status,Hire Date,Termination Date,Manager ID\n";

proptest! {
    #[test]
    fn roster_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_hr_roster(&bytes, Path::new("fuzz.csv"), &HrOptions::new(Chicago));
    }

    #[test]
    fn roster_never_panics_on_rows(
        rows in "([0-9A-Za-z :;/\"\\-]{0,16}(,[0-9A-Za-z :;/\"\\-]{0,16}){0,8}\r?\n){0,6}",
    ) {
        let text = format!("{HEADER}{rows}");
        let read = read_hr_roster(text.as_bytes(), Path::new("fuzz.csv"), &HrOptions::new(Chicago));
        prop_assert!(read.is_ok(), "{:?}", read.err());
    }

    #[test]
    fn roster_never_panics_on_dates(
        hire in "(|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4})( [0-9]{2}:[0-9]{2})?( [A-Z][a-z]+/[A-Z][a-z_]+)?",
        end in "(|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2}))?)",
    ) {
        let text = format!("{HEADER}7,A,a@example.org,Active,{hire},{end},1\n");
        let read = read_hr_roster(text.as_bytes(), Path::new("fuzz.csv"), &HrOptions::new(Chicago));
        prop_assert!(read.is_ok(), "{:?}", read.err());
    }
}
