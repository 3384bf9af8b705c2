//! Plans as Terraform users read them (`+`, `~`, `-/+`, `-`, a summary line), or as JSON.

use std::fmt::Write;

use super::diff::{Action, Change, Note, Plan, PlannedAction};
use super::resource::Attr;

/// The plan as text: one block per resource that changes, then the summary line.
pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.has_changes() {
        out.push_str("No changes. The stack matches its configuration.\n");
        render_notes(&mut out, plan);
        return out;
    }
    out.push_str(
        "Legend: + create, ~ update in place, -/+ replace (destroy then create), - destroy\n\n",
    );
    for entry in &plan.actions {
        render_entry(&mut out, entry);
    }
    if render_notes(&mut out, plan) {
        out.push('\n');
    }
    let (add, change, destroy) = plan.summary();
    let _ = writeln!(
        out,
        "Plan: {add} to add, {change} to change, {destroy} to destroy."
    );
    out
}

/// The plan as pretty JSON; secrets hold no value to leak, so nothing is redacted twice.
pub fn render_json(plan: &Plan) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(plan)
}

fn render_entry(out: &mut String, entry: &PlannedAction) {
    let (sign, verb) = match &entry.action {
        Action::NoOp | Action::Noted { .. } => return,
        Action::Create => ("+", "will be created"),
        Action::Update { .. } => ("~", "will be updated in place"),
        Action::Replace { .. } => ("-/+", "must be replaced"),
        Action::Delete => ("-", "will be destroyed"),
    };
    let _ = writeln!(out, "  # {} ({:?}) {verb}", entry.logical, entry.kind);
    let _ = writeln!(out, "  {sign} {} {{", entry.logical);
    match &entry.action {
        Action::Create => attrs(out, "+", entry),
        Action::Delete => attrs(out, "-", entry),
        Action::Update { changes, .. } | Action::Replace { changes, .. } => {
            for change in changes {
                render_change(out, change);
            }
        }
        Action::NoOp | Action::Noted { .. } => {}
    }
    out.push_str("    }\n\n");
}

/// One line per value another resource owns; whether there was any.
fn render_notes(out: &mut String, plan: &Plan) -> bool {
    let mut any = false;
    for entry in &plan.actions {
        let (Action::Noted { notes } | Action::Update { notes, .. }) = &entry.action else {
            continue;
        };
        for note in notes {
            let _ = writeln!(out, "{}", note_line(plan, &entry.logical, note));
            any = true;
        }
    }
    any
}

/// E.g. `Note: service.gateway.desired_count is 4 (the stack's 2 applies on create only),
/// owned by scaling.target.`, plus what AWS does with it when it lies outside the owner's range
/// (RegisterScalableTarget moves an active resource's capacity into the range it registers).
fn note_line(plan: &Plan, logical: &str, note: &Note) -> String {
    let mut line = format!(
        "Note: {logical}.{} is {} (the stack's {} applies on create only), owned by {}.",
        note.attr,
        value_text(&note.current),
        value_text(&note.configured),
        note.owner
    );
    let owner = plan.get(&note.owner).map(|o| &o.attrs);
    let bound = |key: &str| match owner.and_then(|attrs| attrs.get(key)) {
        Some(Attr::Int(n)) => Some(*n),
        _ => None,
    };
    if let (Attr::Int(now), Some(min), Some(max)) =
        (&note.current, bound("min_capacity"), bound("max_capacity"))
    {
        if !(min..=max).contains(now) {
            let _ = write!(
                line,
                " Outside {min}..{max}: AWS moves it into that range when the range is registered."
            );
        }
    }
    line
}

fn attrs(out: &mut String, sign: &str, entry: &PlannedAction) {
    for (key, value) in &entry.attrs {
        let _ = writeln!(out, "      {sign} {key} = {}", value_text(value));
    }
}

fn render_change(out: &mut String, change: &Change) {
    let forces = if change.forces {
        " # forces replacement"
    } else {
        ""
    };
    let line = match (&change.before, &change.after) {
        (Some(before), Some(after)) => format!(
            "~ {} = {} -> {}",
            change.attr,
            value_text(before),
            value_text(after)
        ),
        (None, Some(after)) => format!("+ {} = {}", change.attr, value_text(after)),
        (Some(before), None) => format!("- {} = {}", change.attr, value_text(before)),
        (None, None) => format!("~ {}", change.attr),
    };
    let _ = writeln!(out, "      {line}{forces}");
}

/// One value on one line; secrets never show, references show as known after apply.
pub fn value_text(value: &Attr) -> String {
    match value {
        Attr::Str(text) => format!("{text:?}"),
        Attr::Int(n) => n.to_string(),
        Attr::Float(f) => f.to_string(),
        Attr::Bool(b) => b.to_string(),
        Attr::Secret(_) => "(sensitive value)".to_string(),
        Attr::Ref(r) => format!("(known after apply: {}.{})", r.logical, r.attr),
        Attr::List(items) => {
            let items: Vec<String> = items.iter().map(value_text).collect();
            format!("[{}]", items.join(", "))
        }
        Attr::Map(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", value_text(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}
