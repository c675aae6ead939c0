//! Tests of the LDAP modules, on the public LDIF samples and the field cases in
//! `testdata/`.

mod dn;
