//! Every preset and a custom profile on arbitrary bytes, and on valid headers followed by
//! arbitrary rows: the reader returns, never panics.

use std::path::Path;

use chrono_tz::America::Chicago;
use proptest::prelude::*;

use super::*;

fn profiles() -> Vec<ProfileSpec> {
    let mut profiles: Vec<ProfileSpec> =
        super::super::PRESET_NAMES.iter().filter_map(|name| ProfileSpec::preset(name)).collect();
    profiles.push(ProfileSpec { fold_rows: true, ..ProfileSpec::epic() });
    profiles
}

fn header(profile: &ProfileSpec) -> &'static str {
    match profile.vendor.as_str() {
        _ if profile.user_id == "User ID" => {
            "User ID,Username,Last Name,First Name,User Type,Status,Deleted,Facility,NPI,\
             Security Roles,Last Login,EPCS,Email\n"
        }
        "epic" => {
            "USER_ID,SYSTEM_LOGIN,NAME,EMP_RECORD_TYPE,USER_STATUS,LOGIN_BLOCKED,\
             LOGIN_BLOCKED_INST_DTTM,LNK_SEC_TEMPLT_ID,LNK_SEC_TEMPLT_NAME,SUBTEMPLATES,\
             MR_DFLT_SEC_CLS,LGIN_DEPARTMENT,LAST_ACCS_DATETIME,EFF_FROM_DATE,EFF_TO_DATE,PROV_ID,\
             PROVIDER_NPI,EPRESC_CNTRLD_YN,PRIM_MANAGER_ID,WEB_EXT_IDENTIFIER\n"
        }
        "athenahealth" => {
            "Username,Last name,First name,Practice ID,Department name,Position,Other ID,Email,\
             Blocked,Roles,Provider ID,NPI,EPCS status,Last login\n"
        }
        _ => {
            "uid,uname,ulname,ufname,usertype,status,delFlag,facility_name,NPI,security_roles,\
             last_login,epcs_registered\n"
        }
    }
}

proptest! {
    #[test]
    fn presets_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for profile in profiles() {
            let _ = read_ehr_csv(&bytes, Path::new("fuzz.csv"), &profile, &options(Chicago));
        }
    }

    #[test]
    fn presets_never_panic_on_rows(
        rows in "([0-9A-Za-z =;:,\"\\-/.]{0,12}(,[0-9A-Za-z =;:\"\\-/.]{0,12}){0,20}\r?\n){0,6}",
    ) {
        for profile in profiles() {
            let text = format!("{}{rows}", header(&profile));
            let read = read_ehr_csv(
                text.as_bytes(),
                Path::new("fuzz.csv"),
                &profile,
                &options(Chicago),
            );
            prop_assert!(read.is_ok(), "{:?}", read.err());
        }
    }

    #[test]
    fn athena_set_never_panics(
        users in proptest::collection::vec(any::<u8>(), 0..256),
        access in "(Username,Practice ID,Roles\n)?([a-z0-9 ;:,]{0,16}\n){0,4}",
        providers in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let files = [
            crate::ehr::ExportFile { path: Path::new("users.csv"), bytes: &users },
            crate::ehr::ExportFile { path: Path::new("access.csv"), bytes: access.as_bytes() },
            crate::ehr::ExportFile { path: Path::new("providers.json"), bytes: &providers },
        ];
        let _ = crate::ehr::read_athenahealth(&files, &ProfileSpec::athenahealth(), &options(Chicago));
    }

    #[test]
    fn cells_with_dates_never_panic(
        cells in proptest::collection::vec(
            "(|Y|N|1|0|2026-0[1-9]-[0-3][0-9]( [0-2][0-9]:[0-5][0-9]:[0-5][0-9].000)?|S-1-5-[0-9]{1,4})",
            20,
        ),
    ) {
        let profile = ProfileSpec::epic();
        let text = format!("{}{}\n", header(&profile), cells.join(","));
        let read = read_ehr_csv(text.as_bytes(), Path::new("fuzz.csv"), &profile, &options(Chicago));
        prop_assert!(read.is_ok(), "{:?}", read.err());
    }
}
