//! What `fetch` keeps of each object: the fields the bill, reconciliation and task keys need.
//! Message, thinking and tool content, tool inputs and system prompts are dropped, so an export
//! written by agentmeter never holds a transcript.

use serde_json::{Map, Value};

const EVENT_FIELDS: [&str; 20] = [
    "id",
    "type",
    "processed_at",
    "session_id",
    "session_thread_id",
    "name",
    "tool_use_id",
    "is_error",
    "model_usage",
    "usage",
    "stop_reason",
    "agent_name",
    "model_request_start_id",
    "outcome_id",
    "outcome_evaluation_start_id",
    "iteration",
    "result",
    "server_name",
    "agent",
    "budget",
];

const OBJECT_FIELDS: [&str; 12] = [
    "id",
    "type",
    "session_id",
    "created_at",
    "updated_at",
    "status",
    "title",
    "metadata",
    "agent",
    "usage",
    "stats",
    "parent_thread_id",
];

const AGENT_FIELDS: [&str; 5] = ["type", "id", "name", "version", "model"];

fn keep(v: &Value, fields: &[&str]) -> Value {
    match v.as_object() {
        Some(o) => {
            let mut out = Map::new();
            for f in fields {
                if let Some(x) = o.get(*f) {
                    let x = if *f == "agent" {
                        keep(x, &AGENT_FIELDS)
                    } else {
                        x.clone()
                    };
                    out.insert((*f).to_string(), x);
                }
            }
            Value::Object(out)
        }
        None => v.clone(),
    }
}

/// A session or thread object.
pub fn object(v: &Value) -> Value {
    keep(v, &OBJECT_FIELDS)
}

/// An event.
pub fn event(v: &Value) -> Value {
    keep(v, &EVENT_FIELDS)
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
            json!({"id": "e", "type": "agent.tool_use", "processed_at": "t", "name": "web_search"})
        );
        let s = object(
            &json!({"type": "session", "id": "s", "title": "task", "agent": {"id": "a", "name": "n", "model": {"id": "m"}, "system": "secret"}, "resources": ["x"]}),
        );
        assert_eq!(
            s,
            json!({"id": "s", "type": "session", "title": "task", "agent": {"id": "a", "name": "n", "model": {"id": "m"}}})
        );
    }
}
