//! What `fetch` keeps of each object: the fields the bill, reconciliation and task keys need.
//! Message, thinking and tool content, tool inputs and system prompts are dropped, so an export
//! written by agentmeter never holds a transcript.

use serde_json::{Map, Value};

/// What a whitelisted field may hold. Whatever a shape does not name is dropped, at any
/// depth: an object where a scalar belongs, a list where an object belongs, an unnamed key.
enum Shape {
    /// A string, number, boolean or null.
    Scalar,
    /// An object with these fields.
    Fields(&'static [(&'static str, Shape)]),
    /// A scalar, or an object with these fields (`agent.model`: a bare id or `{id, ...}`).
    ScalarOr(&'static [(&'static str, Shape)]),
    /// An object of user-named keys with scalar values (`metadata`).
    Labels,
    /// A list of objects with these fields.
    ListOf(&'static [(&'static str, Shape)]),
}

use Shape::*;

const MONEY: &[(&str, Shape)] = &[("amount", Scalar), ("currency", Scalar)];

/// A session's spending limit (managed-agents-api.md §2.4), on the object and on events.
const BUDGET: &[(&str, Shape)] = &[("type", Scalar), ("max_list_cost", Fields(MONEY))];

const CACHE_CREATION: &[(&str, Shape)] = &[
    ("ephemeral_5m_input_tokens", Scalar),
    ("ephemeral_1h_input_tokens", Scalar),
];

const SERVER_TOOL_USE: &[(&str, Shape)] = &[
    ("web_search_requests", Scalar),
    ("web_fetch_requests", Scalar),
];

/// One inference of a request (`usage.iterations`, the advisor tool).
const ITERATION: &[(&str, Shape)] = &[
    ("type", Scalar),
    ("model", Scalar),
    ("input_tokens", Scalar),
    ("output_tokens", Scalar),
    ("cache_creation_input_tokens", Scalar),
    ("cache_read_input_tokens", Scalar),
    ("cache_creation", Fields(CACHE_CREATION)),
    ("server_tool_use", Fields(SERVER_TOOL_USE)),
];

const USAGE: &[(&str, Shape)] = &[
    ("input_tokens", Scalar),
    ("output_tokens", Scalar),
    ("cache_creation_input_tokens", Scalar),
    ("cache_read_input_tokens", Scalar),
    ("cache_creation", Fields(CACHE_CREATION)),
    ("server_tool_use", Fields(SERVER_TOOL_USE)),
    ("active_seconds", Scalar),
    ("list_cost", Fields(MONEY)),
    ("speed", Scalar),
    ("inference_geo", Scalar),
    ("service_tier", Scalar),
    ("iterations", ListOf(ITERATION)),
];

const AGENT: &[(&str, Shape)] = &[
    ("type", Scalar),
    ("id", Scalar),
    ("name", Scalar),
    ("version", Scalar),
    (
        "model",
        ScalarOr(&[("id", Scalar), ("speed", Scalar), ("inference_geo", Scalar)]),
    ),
];

const EVENT: &[(&str, Shape)] = &[
    ("id", Scalar),
    ("type", Scalar),
    ("processed_at", Scalar),
    ("session_id", Scalar),
    ("session_thread_id", Scalar),
    ("name", Scalar),
    ("tool_use_id", Scalar),
    ("is_error", Scalar),
    ("model_usage", Fields(USAGE)),
    ("usage", Fields(USAGE)),
    ("stop_reason", Fields(&[("type", Scalar)])),
    ("agent_name", Scalar),
    ("model_request_start_id", Scalar),
    ("outcome_id", Scalar),
    ("outcome_evaluation_start_id", Scalar),
    ("iteration", Scalar),
    ("result", Scalar),
    ("server_name", Scalar),
    ("agent", Fields(AGENT)),
    ("budget", Fields(BUDGET)),
];

const OBJECT: &[(&str, Shape)] = &[
    ("id", Scalar),
    ("type", Scalar),
    ("session_id", Scalar),
    ("created_at", Scalar),
    ("updated_at", Scalar),
    ("status", Scalar),
    ("title", Scalar),
    ("metadata", Labels),
    ("agent", Fields(AGENT)),
    ("usage", Fields(USAGE)),
    ("budget", Fields(BUDGET)),
    (
        "stats",
        Fields(&[
            ("active_seconds", Scalar),
            ("duration_seconds", Scalar),
            ("startup_seconds", Scalar),
        ]),
    ),
    ("parent_thread_id", Scalar),
];

fn scalar(v: &Value) -> bool {
    !(v.is_object() || v.is_array())
}

fn fields(o: &Map<String, Value>, fields: &[(&str, Shape)]) -> Value {
    let mut out = Map::new();
    for (name, shape) in fields {
        if let Some(x) = o.get(*name).and_then(|x| keep(x, shape)) {
            out.insert((*name).to_string(), x);
        }
    }
    Value::Object(out)
}

/// `v` as far as `shape` names it; `None` when nothing of it fits.
fn keep(v: &Value, shape: &Shape) -> Option<Value> {
    match (shape, v) {
        (Scalar | ScalarOr(_), v) if scalar(v) => Some(v.clone()),
        (Fields(f) | ScalarOr(f), Value::Object(o)) => Some(fields(o, f)),
        (Labels, Value::Object(o)) => Some(Value::Object(
            o.iter()
                .filter(|(_, x)| scalar(x))
                .map(|(k, x)| (k.clone(), x.clone()))
                .collect(),
        )),
        (ListOf(f), Value::Array(items)) => Some(Value::Array(
            items
                .iter()
                .filter_map(Value::as_object)
                .map(|o| fields(o, f))
                .collect(),
        )),
        // `null` stays what it says (no usage, no agent).
        (_, Value::Null) => Some(Value::Null),
        _ => None,
    }
}

/// A session or thread object; `None` when `v` is not an object at all.
pub fn object(v: &Value) -> Option<Value> {
    v.as_object().map(|o| fields(o, OBJECT))
}

/// An event; `None` when `v` is not an object at all (a bare string or list in a page).
pub fn event(v: &Value) -> Option<Value> {
    v.as_object().map(|o| fields(o, EVENT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_inputs_and_system_prompts_are_dropped() {
        let e = event(
            &json!({"id": "e", "type": "agent.tool_use", "processed_at": "t", "name": "web_search", "input": {"query": "secret"}, "content": ["secret"]}),
        );
        assert_eq!(
            e,
            Some(
                json!({"id": "e", "type": "agent.tool_use", "processed_at": "t", "name": "web_search"})
            )
        );
        let s = object(
            &json!({"type": "session", "id": "s", "title": "task", "agent": {"id": "a", "name": "n", "model": {"id": "m"}, "system": "secret"}, "resources": ["x"]}),
        );
        assert_eq!(
            s,
            Some(
                json!({"id": "s", "type": "session", "title": "task", "agent": {"id": "a", "name": "n", "model": {"id": "m"}}})
            )
        );
    }

    #[test]
    fn content_hidden_at_any_depth_is_dropped() {
        // Objects where scalars belong, lists where objects belong, unnamed keys inside
        // named objects, non-objects in a list of iterations, and the top level itself.
        let e = event(&json!({
            "id": "e", "type": "span.model_request_end", "processed_at": "t",
            "name": {"text": "secret"},
            "is_error": ["secret"],
            "model_usage": {"input_tokens": 5, "note": "secret", "cache_creation": {"ephemeral_5m_input_tokens": 1, "x": "secret"},
                            "iterations": [{"type": "message", "input_tokens": 2, "content": "secret"}, "secret", ["secret"]],
                            "list_cost": "secret"},
            "stop_reason": {"type": "end_turn", "message": "secret"},
            "agent": {"name": "n", "model": {"id": "m", "system": "secret"}, "tools": ["secret"]},
            "usage": "secret"
        }))
        .unwrap();
        assert_eq!(
            e,
            json!({"id": "e", "type": "span.model_request_end", "processed_at": "t",
                   "model_usage": {"input_tokens": 5, "cache_creation": {"ephemeral_5m_input_tokens": 1},
                                   "iterations": [{"type": "message", "input_tokens": 2}]},
                   "stop_reason": {"type": "end_turn"},
                   "agent": {"name": "n", "model": {"id": "m"}}})
        );
        assert!(!e.to_string().contains("secret"));
        let s = object(&json!({"id": "s", "type": "session", "metadata": {"project": "shop", "notes": {"x": "secret"}, "list": ["secret"]}, "agent": "secret"})).unwrap();
        assert_eq!(
            s,
            json!({"id": "s", "type": "session", "metadata": {"project": "shop"}})
        );
        for bare in [json!("secret"), json!(["secret"]), json!(7), Value::Null] {
            assert_eq!(event(&bare), None);
            assert_eq!(object(&bare), None);
        }
        // A bare model id stays (the advisor's `agent.model`).
        let t = object(&json!({"id": "t", "agent": {"type": "advisor", "model": "claude-opus-5"}}));
        assert_eq!(
            t,
            Some(json!({"id": "t", "agent": {"type": "advisor", "model": "claude-opus-5"}}))
        );
    }
}
