//! The OpenAPI 3.1 document of the JSON API, served at `/api/v1/openapi.json`. A test
//! checks that its paths and methods are exactly the API router's.

use axum::Json;
use serde_json::{Value, json};

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<Value> {
    Json(spec())
}

fn error_responses(codes: &[&str]) -> Value {
    let mut responses = serde_json::Map::new();
    for code in codes {
        let description = match *code {
            "400" => "The body or an id is invalid",
            "401" => "No valid session",
            "403" => "Missing or wrong CSRF token, or the caller may not act on these items",
            "404" => "No campaign of that id is visible to the caller",
            "409" => "The campaign's state forbids it: closed, signed off, or undecided items",
            "422" => {
                "A campaign rule rejects it: a justification is required, unknown items, self-review"
            }
            _ => "The store or the session store is unavailable",
        };
        responses.insert(
            (*code).to_owned(),
            json!({
                "description": description,
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
            }),
        );
    }
    Value::Object(responses)
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

fn id_parameter() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": "The campaign id", "schema": { "type": "string", "format": "uuid" } })
}

fn ok(schema: Value) -> Value {
    json!({ "200": { "description": "OK", "content": { "application/json": { "schema": schema } } } })
}

fn changing(summary: &str, request: &str, response: &str) -> Value {
    json!({
        "summary": summary,
        "parameters": [id_parameter()],
        "security": [{ "session": [], "csrf": [] }],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{request}") } } } },
        "responses": with(ok(json!({ "$ref": format!("#/components/schemas/{response}") })), error_responses(&["400", "401", "403", "404", "409", "422", "503"])),
    })
}

/// Returns the document.
pub fn spec() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Rollcall access reviews",
            "version": "1",
            "description": "Campaigns, review items, decisions, delegations and sign-offs of the signed-in reviewer. Sign in through /auth/login in a browser; the API uses the same session cookie. State-changing calls need the session's CSRF token in X-CSRF-Token. Every date and time is RFC 3339 in UTC; the pages show them in the practice's time zone."
        },
        "paths": {
            "/api/v1/openapi.json": { "get": {
                "summary": "This document",
                "security": [],
                "responses": ok(json!({ "type": "object" }))
            } },
            "/api/v1/session": { "get": {
                "summary": "The signed-in caller and the CSRF token",
                "security": [{ "session": [] }],
                "responses": with(ok(json!({ "$ref": "#/components/schemas/Session" })), error_responses(&["401", "503"]))
            } },
            "/api/v1/campaigns": { "get": {
                "summary": "Campaigns the caller has a part in, newest first",
                "security": [{ "session": [] }],
                "responses": with(ok(json!({ "type": "array", "items": { "$ref": "#/components/schemas/Campaign" } })), error_responses(&["401", "503"]))
            } },
            "/api/v1/campaigns/{id}/items": { "get": {
                "summary": "The items the caller decides on; every item for the security officer, MSP staff and the campaign's owners",
                "parameters": [id_parameter()],
                "security": [{ "session": [] }],
                "responses": with(ok(json!({ "$ref": "#/components/schemas/Items" })), error_responses(&["400", "401", "404", "503"]))
            } },
            "/api/v1/campaigns/{id}/decisions": { "post": changing("Approve or revoke one or more items, all or none", "DecisionRequest", "Changed") },
            "/api/v1/campaigns/{id}/delegations": { "post": changing("Delegate items as their reviewer, or reassign them as the campaign's owner", "DelegationRequest", "Changed") },
            "/api/v1/campaigns/{id}/recommendations": { "post": changing("Decide every undecided item of the caller (or of one person) as recommended; approvals that need a justification stay undecided and are listed, earlier decisions are kept", "RecommendationsRequest", "Recommendations") },
            "/api/v1/campaigns/{id}/signoff": { "post": changing("Sign off the caller's decisions in the current stage", "SignOffRequest", "SignOff") }
        },
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": "rc_session" },
                "csrf": { "type": "apiKey", "in": "header", "name": "X-CSRF-Token" }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error", "message"], "properties": {
                    "error": { "type": "string", "description": "A stable code, such as justification_required" },
                    "message": { "type": "string" } } },
                "Session": { "type": "object", "required": ["tenant", "identity", "name", "roles", "csrf_token"], "properties": {
                    "tenant": { "type": "string" }, "identity": { "type": "string" }, "name": { "type": "string" },
                    "roles": { "type": "array", "items": { "enum": ["security_officer", "msp_staff"] } },
                    "csrf_token": { "type": "string" } } },
                "Campaign": { "type": "object", "required": ["id", "name", "period", "status", "deadline", "my_items", "my_decided", "signed_off", "overview"], "properties": {
                    "id": { "type": "string", "format": "uuid" }, "name": { "type": "string" }, "period": { "type": "string" },
                    "status": { "enum": ["open", "second_stage", "closed"] }, "deadline": { "type": "string", "format": "date-time", "description": "RFC 3339 in UTC" },
                    "my_items": { "type": "integer" }, "my_decided": { "type": "integer" },
                    "signed_off": { "type": "boolean" }, "overview": { "type": "boolean" } } },
                "Item": { "type": "object", "required": ["id", "key", "reviewee", "reviewer", "privileged", "outside_baseline", "recommendation", "facts"], "properties": {
                    "id": { "type": "integer" }, "key": { "type": "string" }, "reviewee": { "type": "string" }, "reviewer": { "type": "string" },
                    "privileged": { "type": "boolean" }, "outside_baseline": { "type": "boolean" },
                    "recommendation": { "enum": ["keep", "revoke"] },
                    "decision": { "enum": ["approve", "revoke", null] },
                    "justification": { "type": ["string", "null"] }, "decided_by": { "type": ["string", "null"] },
                    "decided_at": { "type": ["string", "null"], "format": "date-time", "description": "RFC 3339 in UTC; null while undecided" },
                    "facts": { "type": "object" } } },
                "Items": { "type": "object", "required": ["campaign", "items"], "properties": {
                    "campaign": { "$ref": "#/components/schemas/Campaign" },
                    "items": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } } } },
                "DecisionRequest": { "type": "object", "required": ["items", "decision"], "additionalProperties": false, "properties": {
                    "items": { "type": "array", "items": { "type": "integer" }, "minItems": 1 },
                    "decision": { "enum": ["approve", "revoke"] },
                    "justification": { "type": "string" } } },
                "DelegationRequest": { "type": "object", "required": ["items", "to"], "additionalProperties": false, "properties": {
                    "items": { "type": "array", "items": { "type": "integer" }, "minItems": 1 },
                    "to": { "type": "string", "description": "hr:E1004 or the employee id E1004" },
                    "kind": { "enum": ["delegate", "reassign"], "default": "delegate" } } },
                "RecommendationsRequest": { "type": "object", "additionalProperties": false, "properties": {
                    "person": { "type": "string", "description": "Only the items about this person, such as hr:E1004; all of the caller's items when absent" } } },
                "Recommendations": { "type": "object", "required": ["approved", "revoked", "skipped", "already_decided"], "properties": {
                    "approved": { "type": "array", "items": { "type": "integer" } },
                    "revoked": { "type": "array", "items": { "type": "integer" } },
                    "skipped": { "type": "array", "items": { "type": "object", "required": ["item", "reason"], "properties": {
                        "item": { "type": "integer" }, "reason": { "type": "string" } } } },
                    "already_decided": { "type": "integer", "description": "Items that had a decision and kept it" } } },
                "SignOffRequest": { "type": "object", "description": "An empty object" },
                "Changed": { "type": "object", "required": ["changed"], "properties": { "changed": { "type": "integer" } } },
                "SignOff": { "type": "object", "required": ["status"], "properties": { "status": { "enum": ["open", "second_stage", "closed"] } } }
            }
        }
    })
}
