//! Makes the OpenAPI document say what the server does beyond each handler's own list: the
//! extractor and middleware errors every route can answer, and which methods a path takes.

use actix_web::http::Method;
use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, PathItem};

use utoipa::openapi::schema::{Discriminator, OneOfBuilder, Schema};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// Adds, where a handler did not list them, the answers the shared extractors give: 400 for a
/// path, query or JSON body that does not parse; 413 and 415 for bodies too large or not JSON;
/// 401 without a valid session; 503 while the database is unreachable.
pub fn complete_responses(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            let takes_input =
                op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut add = |status: &str, description: &str| {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error_response(description));
            };
            if takes_input {
                add(
                    "400",
                    "Malformed input: a path parameter, query string or JSON body that does not parse",
                );
            }
            if op.request_body.is_some() {
                add("413", "The body is larger than 64 KiB");
                add("415", "The body is not sent as application/json");
            }
            if secured {
                add("401", "No valid session");
                add("503", "The database is unavailable; retry later");
            }
        }
    }
}

/// Gives every timeline kind a schema of its own (`TimelineHold`, `TimelineCallEnded`, ...: the
/// entry's `id` and `at`, its `kind`, and that kind's `data`) and makes `CallEventView` one
/// `oneOf` over all of them, every kind this build writes and `unknown`, with a `kind`
/// discriminator mapping each kind to its schema. Generated clients get one named type per kind
/// and a union they can switch on.
pub fn name_timeline_kinds(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let mut variants = Vec::new();
    for union in ["TimelineEntry", "TimelineEvent", "UnreadableEntry"] {
        match components.schemas.remove(union) {
            Some(RefOr::T(Schema::OneOf(one_of))) => variants.extend(one_of.items),
            _ => panic!("{union} is not a oneOf schema"),
        }
    }
    // `CallEventView` flattens the entry into `{id, at}`: an `allOf` of the two.
    let (common, description) = match components.schemas.remove("CallEventView") {
        Some(RefOr::T(Schema::AllOf(all_of))) => {
            let common = all_of.items.into_iter().find_map(|item| match item {
                RefOr::T(Schema::Object(object)) => Some(object),
                _ => None,
            });
            (
                common.expect("CallEventView has its own fields"),
                all_of.description,
            )
        }
        _ => panic!("CallEventView is not an allOf schema"),
    };
    let mut mapping = BTreeMap::new();
    let mut items = Vec::new();
    for variant in variants {
        let RefOr::T(Schema::Object(mut object)) = variant else {
            // The untagged union's own members: references to the two unions above.
            continue;
        };
        let kind = match object.properties.get("kind") {
            Some(RefOr::T(Schema::Object(tag))) => match tag.enum_values.as_deref() {
                Some([serde_json::Value::String(kind)]) => kind.clone(),
                _ => panic!("a timeline variant's kind is not one string"),
            },
            _ => panic!("a timeline variant has no kind"),
        };
        for (name, field) in &common.properties {
            object.properties.insert(name.clone(), field.clone());
        }
        object.required.extend(common.required.iter().cloned());
        let name = format!(
            "Timeline{}",
            kind.split('_')
                .map(|word| {
                    let mut chars = word.chars();
                    chars
                        .next()
                        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                })
                .collect::<String>()
        );
        mapping.insert(kind, format!("#/components/schemas/{name}"));
        items.push(RefOr::Ref(Ref::from_schema_name(&name)));
        components
            .schemas
            .insert(name, RefOr::T(Schema::Object(object)));
    }
    let mut discriminator = Discriminator::new("kind");
    discriminator.mapping = mapping;
    let mut one_of = OneOfBuilder::new().description(description).build();
    one_of.items = items;
    one_of.discriminator = Some(discriminator);
    components
        .schemas
        .insert("CallEventView".to_owned(), RefOr::T(Schema::OneOf(one_of)));
}

/// The documented paths with the methods each takes, to tell "no such path" (404) from "not
/// with this method" (405, with `Allow`).
pub struct KnownPaths(Vec<(Vec<Segment>, Vec<Method>)>);

enum Segment {
    Literal(String),
    Param,
}

impl KnownPaths {
    pub fn from_document(doc: &OpenApi) -> Self {
        let paths = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let methods = [
                    (&item.get, Method::GET),
                    (&item.put, Method::PUT),
                    (&item.post, Method::POST),
                    (&item.delete, Method::DELETE),
                    (&item.patch, Method::PATCH),
                ]
                .into_iter()
                .filter(|(op, _)| op.is_some())
                .map(|(_, m)| m)
                .collect();
                (segments, methods)
            })
            .collect();
        Self(paths)
    }

    /// The methods `path` takes, when it is a documented path.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<Method> = Vec::new();
        for (segments, methods) in &self.0 {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(s, p)| match s {
                    Segment::Literal(l) => l == p,
                    Segment::Param => !p.is_empty(),
                });
            if matches {
                for m in methods {
                    if !allowed.contains(m) {
                        allowed.push(m.clone());
                    }
                }
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownPaths {
        let doc: OpenApi = serde_json::from_value(serde_json::json!({
            "openapi": "3.1.0",
            "info": { "title": "t", "version": "1" },
            "paths": {
                "/api/agents": { "get": { "responses": {} }, "post": { "responses": {} } },
                "/api/agents/{id}": { "patch": { "responses": {} } },
                "/api/agents/me": { "get": { "responses": {} } },
            }
        }))
        .unwrap();
        KnownPaths::from_document(&doc)
    }

    #[test]
    fn a_known_path_lists_its_methods() {
        let k = known();
        assert_eq!(
            k.allowed("/api/agents"),
            Some(vec![Method::GET, Method::POST])
        );
        assert_eq!(k.allowed("/api/agents/42"), Some(vec![Method::PATCH]));
        // A literal and a template both matching: their methods together.
        assert_eq!(
            k.allowed("/api/agents/me"),
            Some(vec![Method::GET, Method::PATCH])
        );
    }

    #[test]
    fn unknown_paths_are_not_matched() {
        let k = known();
        assert_eq!(k.allowed("/api/agent"), None);
        assert_eq!(k.allowed("/api/agents/"), None);
        assert_eq!(k.allowed("/api/agents/1/x"), None);
    }

    #[test]
    fn inputs_get_the_extractor_statuses() {
        let mut doc: OpenApi = serde_json::from_value(serde_json::json!({
            "openapi": "3.1.0",
            "info": { "title": "t", "version": "1" },
            "paths": {
                "/a/{id}": { "post": {
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "requestBody": { "content": { "application/json": { "schema": { "type": "object" } } } },
                    "responses": { "400": { "description": "mine" } },
                    "security": [{ "session": [] }]
                } },
                "/b": { "get": { "responses": { "200": { "description": "ok" } } } }
            }
        }))
        .unwrap();
        complete_responses(&mut doc);
        let a = doc.paths.paths["/a/{id}"].post.as_ref().unwrap();
        let statuses: Vec<&str> = a.responses.responses.keys().map(String::as_str).collect();
        assert_eq!(statuses, ["400", "401", "413", "415", "503"]);
        let RefOr::T(own) = &a.responses.responses["400"] else {
            panic!()
        };
        assert_eq!(own.description, "mine", "a handler's own entry is kept");
        let b = doc.paths.paths["/b"].get.as_ref().unwrap();
        assert_eq!(b.responses.responses.len(), 1);
    }
}
