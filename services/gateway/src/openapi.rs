//! The OpenAPI 3.1 document. Its paths come from the route table itself
//! ([`crate::routes::api`], through `utoipa-axum`); this module adds what every route shares,
//! so no route can forget it:
//!
//! - the answers the middleware gives any route: 429 (rate limit), 503 (shed or an upstream
//!   down) and 504 (past the deadline); with a JSON body also 400, 413 and 415; with a path
//!   parameter 400; with a bearer token 401;
//! - the regions a registration may name, from configuration (`AUTH_REGIONS`).
//!
//! The document is committed (`services/gateway/openapi.json`) and a test fails when the
//! code's differs, so every change to the public contract shows in review.

use std::collections::BTreeMap;

use axum::http::header;
use axum::routing::{MethodRouter, get};
use bytes::Bytes;
use utoipa::OpenApi as _;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr, Response, ResponseBuilder};

use crate::error::{PROBLEM_JSON, Problem};
use crate::{AppState, contract};

/// What the annotations cannot say per route: title, tags, the bearer scheme.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Platform API", description = "The public HTTP API of the platform (DESIGN §5). Errors are RFC 9457 problem+json with a stable `code`; rate limits follow the IETF RateLimit header fields draft."),
    modifiers(&BearerAuth),
    components(schemas(Problem)),
    tags(
        (name = "auth", description = "Accounts, sessions and token keys"),
        (name = "users", description = "Profiles"),
    ),
)]
struct ApiDoc;

/// Declares the `bearer` scheme the protected paths name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The public document: the routes' own description (from [`crate::routes`] and the
/// gateway's parts), completed.
pub fn document(regions: &[String]) -> OpenApi {
    let paths =
        crate::parts::paths().fold(crate::routes::api().into_openapi(), OpenApi::merge_from);
    complete(paths, regions)
}

/// `GET /openapi.json`: the document, serialised once.
pub fn serve(document: &OpenApi) -> MethodRouter<AppState> {
    let body = Bytes::from(serde_json::to_vec(document).expect("an OpenApi serialises"));
    get(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
    })
}

/// Merges `paths` (as the route table describes them) into the document's frame and adds the
/// answers every route shares and the configured regions.
pub fn complete(paths: OpenApi, regions: &[String]) -> OpenApi {
    let mut doc = ApiDoc::openapi().merge_from(paths);
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, response) in shared_responses() {
        components
            .responses
            .insert(name.to_owned(), response.into());
    }
    if let Some(region) = property(&mut components.schemas, "RegisterBody", "region") {
        region.enum_values = Some(regions.iter().map(|r| r.as_str().into()).collect());
    }
    for (schema, field, pattern) in TEXT_RULES {
        if let Some(text) = property(&mut components.schemas, schema, field) {
            text.pattern = Some((*pattern).to_owned());
        }
    }
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_shared_answers(operation);
            text_rule_on_path_parameters(operation);
        }
    }
    text_rule_on_bodies(&mut doc);
    doc
}

/// Text fields whose rule is not the default [`contract::TEXT`] (utoipa takes a pattern only
/// as a literal, so the rules are named here, once).
pub const TEXT_RULES: [(&str, &str, &str); 3] = [
    ("RegisterBody", "display_name", contract::NAME),
    ("ProfilePatch", "display_name", contract::NAME),
    ("ProfilePatch", "bio", contract::MULTILINE_TEXT),
];

/// The object schema `field` of the component `schema`, when both exist.
fn property<'a>(
    schemas: &'a mut BTreeMap<String, RefOr<Schema>>,
    schema: &str,
    field: &str,
) -> Option<&'a mut Object> {
    let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(schema) else {
        return None;
    };
    match object.properties.get_mut(field) {
        Some(RefOr::T(Schema::Object(property))) => Some(property),
        _ => None,
    }
}

/// Every string field of a request body without a rule of its own gets [`contract::TEXT`].
fn text_rule_on_bodies(doc: &mut OpenApi) {
    let bodies: Vec<String> = doc
        .paths
        .paths
        .values()
        .flat_map(|item| [&item.get, &item.put, &item.post, &item.delete, &item.patch])
        .flatten()
        .filter_map(|operation| match &operation.request_body {
            Some(RefOr::T(body)) => body.content.get("application/json"),
            _ => None,
        })
        .filter_map(|content| match content {
            RefOr::T(content) => content.schema.as_ref(),
            RefOr::Ref(_) => None,
        })
        .filter_map(|schema| match schema {
            RefOr::Ref(reference) => reference
                .ref_location
                .strip_prefix("#/components/schemas/")
                .map(str::to_owned),
            _ => None,
        })
        .collect();
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in bodies {
        if let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut(&name) {
            for property in body.properties.values_mut() {
                if let RefOr::T(Schema::Object(property)) = property {
                    set_text_rule(property);
                }
            }
        }
    }
}

fn text_rule_on_path_parameters(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && matches!(parameter.parameter_in, ParameterIn::Path)
            && let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut()
        {
            set_text_rule(schema);
        }
    }
}

fn set_text_rule(schema: &mut Object) {
    let is_string = match &schema.schema_type {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    };
    // An enum is its own rule.
    if is_string && schema.pattern.is_none() && schema.enum_values.is_none() {
        schema.pattern = Some(contract::TEXT.to_owned());
    }
}

fn add_shared_answers(operation: &mut Operation) {
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| match body {
            RefOr::T(body) => body.content.contains_key("application/json"),
            RefOr::Ref(_) => true,
        });
    let any_body = operation.request_body.is_some();
    let path_parameters = operation.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => matches!(p.parameter_in, ParameterIn::Path),
        RefOr::Ref(_) => false,
    });
    let bearer = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut shared = vec![
        ("429", "TooManyRequests"),
        ("503", "Unavailable"),
        ("504", "Timeout"),
    ];
    if json_body || path_parameters {
        shared.push(("400", "BadRequest"));
    }
    if any_body {
        shared.extend([("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType")]);
    }
    if bearer {
        shared.push(("401", "Unauthorized"));
    }
    for (status, name) in shared {
        // A route's own description of a status (naming its codes) wins.
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| Ref::from_response_name(name).into());
    }
}

/// The answers any route may give, as `components.responses`.
fn shared_responses() -> [(&'static str, Response); 7] {
    [
        (
            "BadRequest",
            problem("the request is malformed or a field is invalid (`MALFORMED_JSON`, `INVALID_INPUT`); `errors` names each bad field, including a path parameter or a text field holding a control character"),
        ),
        (
            "Unauthorized",
            problem("no valid `Authorization: Bearer` access token (`UNAUTHORIZED`)"),
        ),
        (
            "PayloadTooLarge",
            problem("the body is larger than the limit (`PAYLOAD_TOO_LARGE`)"),
        ),
        (
            "UnsupportedMediaType",
            problem("the `Content-Type` is missing or not one this route accepts (`UNSUPPORTED_MEDIA_TYPE`)"),
        ),
        (
            "TooManyRequests",
            with_retry_after(problem(
                "the client's rate limit for this class of route is spent (`RATE_LIMITED`), or too many failed logins (`TOO_MANY_ATTEMPTS`); retry after `Retry-After` seconds",
            ))
            .header("ratelimit-policy", string_header("the quota, e.g. `\"auth\";q=30;w=60`: `q` requests per `w` seconds (IETF draft-ietf-httpapi-ratelimit-headers)"))
            .header("ratelimit", string_header("what is left, e.g. `\"auth\";r=0;t=2`: `r` requests remain, the quota is whole again in `t` seconds")),
        ),
        (
            "Unavailable",
            with_retry_after(problem(
                "the gateway is overloaded or an upstream service is unavailable; retry after `Retry-After` seconds",
            )),
        ),
        (
            "Timeout",
            problem("the request or an upstream call passed its deadline (`TIMEOUT`, `UPSTREAM_TIMEOUT`)"),
        ),
    ]
    .map(|(name, response)| (name, response.build()))
}

fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        utoipa::openapi::ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

fn with_retry_after(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "retry-after",
        HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            ))
            .description(Some("seconds to wait before retrying"))
            .build(),
    )
}

fn string_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn the_document() -> serde_json::Value {
        let regions = ["eu".to_owned(), "us".to_owned()];
        serde_json::to_value(document(&regions)).unwrap()
    }

    /// The committed document is the code's, so a change to the public contract shows in
    /// review. `just openapi` rewrites it (`UPDATE_OPENAPI=1`).
    #[test]
    fn the_committed_document_is_the_codes() {
        let current = serde_json::to_string_pretty(&the_document()).unwrap() + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &current).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == current,
            "services/gateway/openapi.json is not the code's document: run `just openapi` and review its diff"
        );
    }

    #[test]
    fn every_text_rule_names_a_field_of_a_request_body() {
        let doc = the_document();
        for (schema, field, pattern) in TEXT_RULES {
            let property = &doc["components"]["schemas"][schema]["properties"][field];
            assert_eq!(property["pattern"], pattern, "{schema}.{field}");
        }
    }

    #[test]
    fn every_request_body_refuses_unknown_fields_and_every_text_has_a_rule() {
        let doc = the_document();
        let mut bodies = 0;
        for item in doc["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
                let Some(reference) = schema["$ref"].as_str() else {
                    continue;
                };
                let name = reference.rsplit('/').next().unwrap();
                let body = &doc["components"]["schemas"][name];
                assert_eq!(body["additionalProperties"], false, "{name}");
                for (field, property) in body["properties"].as_object().unwrap() {
                    assert!(
                        property["pattern"].is_string() || property["enum"].is_array(),
                        "{name}.{field} has no text rule"
                    );
                }
                bodies += 1;
            }
        }
        assert!(bodies >= 6, "only {bodies} JSON request bodies found");
    }

    #[test]
    fn every_operation_has_its_own_id_and_declares_the_shared_answers() {
        let doc = the_document();
        let mut ids = std::collections::HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "{method} {path}: {id} twice");
                for status in ["429", "503", "504"] {
                    assert!(
                        operation["responses"][status].is_object(),
                        "{method} {path} lacks {status}"
                    );
                }
            }
        }
    }
}
