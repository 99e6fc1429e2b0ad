//! The request side of the public contract, enforced from the document itself: every JSON
//! request body is checked against its JSON Schema in the OpenAPI document (required fields,
//! lengths, formats, the region enum, no unknown fields, no control characters) before it is
//! read, so what the document allows and what the gateway accepts cannot drift apart. The
//! services behind still validate what they own (an email already taken, a media not yours).

use std::collections::HashMap;

use anyhow::Context as _;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

use crate::error::FieldError;

/// Text without control characters (NUL included): every string field of a request body
/// and every path parameter, unless its schema says more (see `openapi::complete`).
pub const TEXT: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";
/// Multi-line text: as [`TEXT`], but line feeds, carriage returns and tabs are allowed.
pub const MULTILINE_TEXT: &str = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$";
/// A name: [`TEXT`] with at least one character that is not white space (services trim
/// names, and an empty one is refused).
pub const NAME: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff][^\u0000-\u001f\u007f-\u009f]*$";

/// What a failed pattern means, in words a client can act on.
fn pattern_meaning(pattern: &str) -> &'static str {
    match pattern {
        TEXT => "must not contain control characters",
        MULTILINE_TEXT => "must not contain control characters other than line breaks and tabs",
        NAME => "must contain a visible character and no control characters",
        _ => "is not in the expected form",
    }
}

/// The compiled schema of every JSON request body, by component name (`RegisterBody`, …).
pub struct RequestSchemas {
    /// Each body's validator and its fields in the order the schema lists them (errors are
    /// reported in that order).
    validators: HashMap<String, (Validator, Vec<String>)>,
}

impl RequestSchemas {
    /// Compiles the schema of each `application/json` request body of `document`.
    pub fn compile(document: &OpenApi) -> anyhow::Result<Self> {
        let document = serde_json::to_value(document).context("serialising the document")?;
        let components = json!({ "schemas": document["components"]["schemas"] });
        let mut validators = HashMap::new();
        let operations = document["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(Value::as_object)
            .flat_map(|item| item.values());
        for operation in operations {
            let reference =
                &operation["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            let Some(name) = reference
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            else {
                continue;
            };
            let root = json!({ "$ref": reference, "components": components });
            let validator = jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .map_err(|e| anyhow::anyhow!("compiling the schema of {name}: {e}"))?;
            let schema = &document["components"]["schemas"][name];
            let mut fields: Vec<String> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect();
            for field in schema["properties"]
                .as_object()
                .into_iter()
                .flat_map(|p| p.keys())
            {
                if !fields.contains(field) {
                    fields.push(field.clone());
                }
            }
            validators.insert(name.to_owned(), (validator, fields));
        }
        Ok(Self { validators })
    }

    /// Every way `body` breaks the schema named `name`, one entry per bad field; `None` when
    /// the document has no such schema.
    pub fn violations(&self, name: &str, body: &Value) -> Option<Vec<FieldError>> {
        let (validator, fields) = self.validators.get(name)?;
        let mut errors: Vec<FieldError> = validator.iter_errors(body).flat_map(explain).collect();
        let position = |e: &FieldError| {
            let top = e.field.split('.').next().unwrap_or_default();
            fields.iter().position(|f| f == top).unwrap_or(usize::MAX)
        };
        errors.sort_by_key(position);
        errors.dedup_by(|a, b| a.field == b.field && a.detail == b.detail);
        Some(errors)
    }
}

/// Names the field and says what is wrong, in words of our own: a validator's message quotes
/// the value, which may be a password.
fn explain(error: ValidationError<'_>) -> Vec<FieldError> {
    let at = error
        .instance_path()
        .as_str()
        .trim_start_matches('/')
        .replace('/', ".");
    let field = |name: &str| {
        if at.is_empty() {
            name.to_owned()
        } else {
            format!("{at}.{name}")
        }
    };
    let here = || {
        if at.is_empty() {
            "body".to_owned()
        } else {
            at.clone()
        }
    };
    let error_at = |detail: String| {
        vec![FieldError {
            field: here(),
            detail,
        }]
    };
    match error.kind() {
        ValidationErrorKind::Required { property } => vec![FieldError {
            field: field(property.as_str().unwrap_or_default()),
            detail: "is required".into(),
        }],
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| FieldError {
                field: field(name),
                detail: "is not a field of this request".into(),
            })
            .collect(),
        ValidationErrorKind::Pattern { pattern } => error_at(pattern_meaning(pattern).into()),
        ValidationErrorKind::MinLength { limit } => {
            error_at(format!("must be at least {limit} characters"))
        }
        ValidationErrorKind::MaxLength { limit } => {
            error_at(format!("must be at most {limit} characters"))
        }
        ValidationErrorKind::Format { format } => error_at(format!("is not a valid {format}")),
        ValidationErrorKind::Enum { options } => error_at(format!("must be one of {options}")),
        ValidationErrorKind::Type { kind } => error_at(match kind {
            TypeKind::Single(json_type) => format!("must be of type {json_type}"),
            TypeKind::Multiple(_) => "has the wrong type".into(),
        }),
        _ => error_at("is invalid".into()),
    }
}
