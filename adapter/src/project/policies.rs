//! Operation policies of an apictl project (`operations[].operationPolicies` in `api.yaml`),
//! mapped to Turnpike's built-in policies.
//!
//! Where it sits: `api_yaml` calls [`operation_policies`] for each operation; the result rides on
//! the operation's route (`ResourceRoute::policies`) into the snapshot.
//!
//! Names understood (WSO2 APIM 4.x common policies, and Choreo Connect's action names):
//!
//! | WSO2 4.x | Choreo Connect | parameters | built-in |
//! |---|---|---|---|
//! | `addHeader` | `SET_HEADER` | `headerName`, `headerValue` | `Headers(Set)` |
//! | `removeHeader` | `REMOVE_HEADER` | `headerName` | `Headers(Remove)` |
//! | `addQueryParam` | `ADD_QUERY` | `queryParamName`, `queryParamValue` | `Rewrite(AddQuery)` |
//! | `rewriteResourcePath` | `REWRITE_RESOURCE_PATH` | `newResourcePath`, `includeQueryParams` | `Rewrite(ResourcePath)` |
//! | `rewriteResourceMethod` | `REWRITE_RESOURCE_METHOD` | `currentMethod`, `updatedMethod` | `Rewrite(Method)` |
//!
//! Header policies apply in the flow they are listed in (`request` → request headers, `response`
//! → response headers); the rewrites only make sense on requests and are rejected elsewhere.
//! Policies of the `fault` flow, and any other (custom, `Policies/`) policy, are warned about and
//! not applied. Invalid parameters are errors at the parameter's pointer.

use serde_json::Value;
use turnpike_policy::{
    BuiltinPolicy, Direction, HeaderEdit, HeaderMediation, InvalidHeaderPolicy, RequestRewrite,
};

use super::doc::Doc;
use crate::error::LoadError;
use crate::openapi::Method;
use crate::pointer::Pointer;

/// The built-in policy an operation policy name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    AddHeader,
    RemoveHeader,
    AddQuery,
    RewritePath,
    RewriteMethod,
}

impl Builtin {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "addHeader" | "SET_HEADER" => Self::AddHeader,
            "removeHeader" | "REMOVE_HEADER" => Self::RemoveHeader,
            "addQueryParam" | "ADD_QUERY" => Self::AddQuery,
            "rewriteResourcePath" | "REWRITE_RESOURCE_PATH" => Self::RewritePath,
            "rewriteResourceMethod" | "REWRITE_RESOURCE_METHOD" => Self::RewriteMethod,
            _ => return None,
        })
    }
}

/// The built-in policies of one operation's `operationPolicies` (at `p`), request flow first,
/// then response. `custom` lists the policy definition files of the project's `Policies/`.
pub(super) fn operation_policies(
    doc: &mut Doc<'_>,
    value: &Value,
    p: &Pointer,
    verb: Method,
    custom: &[String],
) -> Result<Vec<BuiltinPolicy>, LoadError> {
    let mut out = Vec::new();
    if value.is_null() {
        return Ok(out);
    }
    let map = doc.object(value, p)?;
    for (flow, entries) in map {
        let flow_ptr = p.key(flow);
        let direction = match flow.as_str() {
            "request" => Some(Direction::Request),
            "response" => Some(Direction::Response),
            "fault" => None,
            _ => {
                doc.warn(&flow_ptr, format!("unknown policy flow {flow:?}; ignored"));
                continue;
            }
        };
        let entries = match entries {
            Value::Null => continue,
            Value::Array(items) => items,
            _ => return Err(doc.invalid(&flow_ptr, "expected a list of policies")),
        };
        for (i, entry) in entries.iter().enumerate() {
            let entry_ptr = flow_ptr.index(i);
            let entry = doc.object(entry, &entry_ptr)?;
            let name = doc.required(entry, "policyName", &entry_ptr, "the policy name")?;
            let Some(direction) = direction else {
                doc.warn(
                    &entry_ptr,
                    format!("fault flow policies are not applied yet; {name} ignored"),
                );
                continue;
            };
            let Some(builtin) = Builtin::from_name(&name) else {
                let defined = custom.iter().any(|f| f.starts_with(&name));
                let message = if defined {
                    format!("custom operation policy {name:?} (defined in Policies/) is not supported yet; ignored")
                } else {
                    format!("unknown operation policy {name:?}: not a built-in policy and not defined in Policies/; ignored")
                };
                doc.warn(&entry_ptr.key("policyName"), message);
                continue;
            };
            let params_ptr = entry_ptr.key("parameters");
            let empty = serde_json::Map::new();
            let params = match entry.get("parameters") {
                None | Some(Value::Null) => &empty,
                Some(v) => doc.object(v, &params_ptr)?,
            };
            let at = Where { entry: &entry_ptr, params: &params_ptr };
            out.push(builtin_policy(doc, builtin, &name, direction, params, &at, verb)?);
        }
    }
    Ok(out)
}

/// Pointers of one policy entry and of its `parameters`.
struct Where<'p> {
    entry: &'p Pointer,
    params: &'p Pointer,
}

fn builtin_policy(
    doc: &Doc<'_>,
    builtin: Builtin,
    name: &str,
    direction: Direction,
    params: &serde_json::Map<String, Value>,
    at: &Where<'_>,
    verb: Method,
) -> Result<BuiltinPolicy, LoadError> {
    let p = at.params;
    let header = |edit: HeaderEdit| {
        HeaderMediation::new(direction, vec![edit]).map(BuiltinPolicy::Headers).map_err(|err| {
            let key = match err {
                InvalidHeaderPolicy::Value(_) => "headerValue",
                InvalidHeaderPolicy::Name(_) | InvalidHeaderPolicy::Reserved(_) => "headerName",
            };
            doc.invalid(&p.key(key), err.to_string())
        })
    };
    if direction == Direction::Response
        && matches!(builtin, Builtin::AddQuery | Builtin::RewritePath | Builtin::RewriteMethod)
    {
        return Err(doc.invalid(
            at.entry,
            format!("{name} rewrites the request; it cannot be in the response flow"),
        ));
    }
    match builtin {
        Builtin::AddHeader => {
            let name = doc.required(params, "headerName", p, "the header name")?;
            let value = match params.get("headerValue") {
                None | Some(Value::Null) => {
                    return Err(doc.invalid(&p.key("headerValue"), "missing: the header value"))
                }
                Some(v) => doc.text(v, &p.key("headerValue"))?,
            };
            header(HeaderEdit::Set { name, value })
        }
        Builtin::RemoveHeader => {
            let name = doc.required(params, "headerName", p, "the header name")?;
            header(HeaderEdit::Remove { name })
        }
        Builtin::AddQuery => {
            let name = doc.required(params, "queryParamName", p, "the query parameter name")?;
            let value = doc.optional(params, "queryParamValue", p)?.unwrap_or_default();
            RequestRewrite::AddQuery { name, value }
                .validated()
                .map(BuiltinPolicy::Rewrite)
                .map_err(|err| doc.invalid(&p.key("queryParamName"), err.to_string()))
        }
        Builtin::RewritePath => {
            let path = doc.required(params, "newResourcePath", p, "the new resource path")?;
            let keep_query = doc.flag(params, "includeQueryParams", p, true)?;
            RequestRewrite::ResourcePath { path, keep_query }
                .validated()
                .map(BuiltinPolicy::Rewrite)
                .map_err(|err| doc.invalid(&p.key("newResourcePath"), err.to_string()))
        }
        Builtin::RewriteMethod => {
            if let Some(current) = doc.optional(params, "currentMethod", p)? {
                if !current.eq_ignore_ascii_case(verb.as_str()) {
                    return Err(doc.invalid(
                        &p.key("currentMethod"),
                        format!("{current:?} is not this operation's method ({verb})"),
                    ));
                }
            }
            let method = doc
                .required(params, "updatedMethod", p, "the method to send upstream")?
                .to_ascii_uppercase();
            RequestRewrite::Method { method }
                .validated()
                .map(BuiltinPolicy::Rewrite)
                .map_err(|err| doc.invalid(&p.key("updatedMethod"), err.to_string()))
        }
    }
}
