//! The OpenAPI document against the API router: every route the router serves is in the
//! document with its method, and the document has no route the router lacks.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use std::collections::BTreeSet;

use rollcall_reviews_web::api::routes;
use rollcall_reviews_web::openapi::spec;

fn documented() -> BTreeSet<(String, String)> {
    let spec = spec();
    let mut operations = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

#[test]
fn document_matches_router() {
    let served: BTreeSet<(String, String)> =
        routes().iter().map(|route| (route.method.to_owned(), route.path.to_owned())).collect();
    let documented = documented();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(undocumented.is_empty(), "routes missing from the document: {undocumented:?}");
    assert!(unserved.is_empty(), "documented routes the router lacks: {unserved:?}");
}

#[test]
fn document_is_openapi_3() {
    let spec = spec();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    assert!(spec["info"]["title"].is_string());
}

#[test]
fn path_parameters_are_declared() {
    let spec = spec();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .map(|parameters| parameters.iter().map(|p| p["name"].as_str().unwrap()).collect())
                .unwrap_or_default();
            if path.contains("{id}") {
                assert_eq!(declared, ["id"], "{method} {path}");
            } else {
                assert!(declared.is_empty(), "{method} {path}");
            }
        }
    }
}

#[test]
fn references_resolve() {
    let spec = spec();
    let text = spec.to_string();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "unresolved schema `{name}`");
    }
}

#[test]
fn state_changing_routes_require_csrf() {
    let spec = spec();
    for route in routes().iter().filter(|route| route.method == "POST") {
        let security = &spec["paths"][route.path]["post"]["security"][0];
        assert!(security.get("csrf").is_some(), "{} has no csrf requirement", route.path);
    }
}
