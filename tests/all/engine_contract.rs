//! The `steps` exports meet the rules by which Obelisk accepts an activity's functions, so a
//! change that would make the engine skip a step fails here: every function returns a
//! `result` whose error is a `variant` with a payload-free `execution-failed` case (or no
//! error, or a `string`), no resource appears anywhere in a signature, and no name ends with
//! a suffix the engine reserves for its own generated functions.

use crate::common::*;
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};

const STEPS: &str = "intelepeer:smartcommunicator/steps@0.3.0";
const SYNC: &str = "intelepeer:smartcommunicator/sync@0.3.0";
const ENTRA: &str = "intelepeer:smartcommunicator/entra@0.3.0";
const RESERVED_SUFFIXES: [&str; 5] = ["-submit", "-await-next", "-schedule", "-stub", "-get"];

/// Where a resource occurs inside `ty`, as a path of field and case names.
fn resource_in(ty: &Type, path: &str) -> Option<String> {
    let inner = |ty: &Type, step: &str| resource_in(ty, &format!("{path}{step}"));
    match ty {
        Type::Own(_) | Type::Borrow(_) => Some(path.to_string()),
        Type::List(list) => inner(&list.ty(), "[]"),
        Type::Option(option) => inner(&option.ty(), "?"),
        Type::Result(result) => result
            .ok()
            .and_then(|ok| inner(&ok, ".ok"))
            .or_else(|| result.err().and_then(|err| inner(&err, ".err"))),
        Type::Record(record) => record
            .fields()
            .find_map(|field| inner(&field.ty, &format!(".{}", field.name))),
        Type::Variant(variant) => variant.cases().find_map(|case| {
            case.ty
                .and_then(|ty| inner(&ty, &format!(".{}", case.name)))
        }),
        Type::Tuple(tuple) => tuple.types().find_map(|ty| inner(&ty, ".item")),
        _ => None,
    }
}

/// Why Obelisk would not accept `func` as an activity, if it would not.
fn obelisk_refusal(name: &str, func: &ComponentFunc) -> Option<String> {
    if let Some(suffix) = RESERVED_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Some(format!("the name ends with the reserved suffix {suffix}"));
    }
    for (param, ty) in func.params() {
        if let Some(path) = resource_in(&ty, param) {
            return Some(format!("a resource in parameter {path}"));
        }
    }
    let results: Vec<Type> = func.results().collect();
    let [Type::Result(result)] = results.as_slice() else {
        return Some("it does not return a single result".into());
    };
    if let Some(path) = resource_in(&results[0], "return") {
        return Some(format!("a resource in {path}"));
    }
    match result.err() {
        None | Some(Type::String) => None,
        Some(Type::Variant(variant)) => {
            let accepted = variant
                .cases()
                .any(|case| case.name == "execution-failed" && case.ty.is_none());
            (!accepted).then(|| "its error variant has no payload-free execution-failed".into())
        }
        Some(other) => Some(format!("its error is a {other:?}, not a variant")),
    }
}

/// The functions of an exported interface, each with Obelisk's reason to refuse it, if any.
fn checked_functions(interface: &str) -> (Vec<String>, Vec<String>) {
    let runtime = runtime();
    let component_type = runtime.component().component_type();
    let engine = runtime.engine();
    let export = component_type
        .get_export(engine, interface)
        .unwrap_or_else(|| panic!("the component exports {interface}"));
    let ComponentItem::ComponentInstance(instance) = export.ty else {
        panic!("{interface} is not an instance");
    };
    let mut checked = Vec::new();
    let mut refused = Vec::new();
    for (name, export) in instance.exports(engine) {
        if let ComponentItem::ComponentFunc(func) = export.ty {
            if let Some(why) = obelisk_refusal(name, &func) {
                refused.push(format!("{name}: {why}"));
            }
            checked.push(name.to_string());
        }
    }
    checked.sort();
    (checked, refused)
}

/// The operations of the client face (`agents`, `inboxes`, `numbers`), read from the built
/// component: the steps are to offer each of them under the same name.
fn client_face_operations() -> Vec<String> {
    let mut operations: Vec<String> = runtime()
        .exported_functions()
        .into_iter()
        .filter(|(interface, _)| {
            ["agents", "inboxes", "numbers"]
                .iter()
                .any(|area| interface.starts_with(&format!("intelepeer:smartcommunicator/{area}@")))
        })
        .flat_map(|(_, functions)| functions)
        .collect();
    operations.sort();
    operations
}

#[test]
fn every_step_meets_obelisks_rules_for_activities() {
    let (checked, refused) = checked_functions(STEPS);
    assert!(refused.is_empty(), "{refused:#?}");
    let operations = client_face_operations();
    assert_eq!(
        operations.len(),
        10,
        "the reference's 7 agent, 2 inbox and 1 number operations: {operations:?}"
    );
    assert_eq!(
        checked, operations,
        "a step for every operation, and no other"
    );
}

#[test]
fn both_sync_steps_meet_obelisks_rules_for_activities() {
    let (checked, refused) = checked_functions(SYNC);
    assert!(refused.is_empty(), "{refused:#?}");
    assert_eq!(checked, ["apply", "plan"]);
}

#[test]
fn the_graph_reader_meets_obelisks_rules_for_activities() {
    // The shipped nightly workflow runs it as an activity.
    let (checked, refused) = checked_functions(ENTRA);
    assert!(refused.is_empty(), "{refused:#?}");
    assert_eq!(checked, ["read-group"]);
}

#[test]
fn the_rules_refuse_what_obelisk_refuses() {
    // The resource functions of `agents` take a `borrow<client>` and return the plain
    // `error` variant: both are reasons Obelisk would skip them, and the check says so.
    let runtime = runtime();
    let component_type = runtime.component().component_type();
    let engine = runtime.engine();
    let agents = component_type
        .get_export(engine, "intelepeer:smartcommunicator/agents@0.3.0")
        .expect("the component exports the agents interface");
    let ComponentItem::ComponentInstance(instance) = agents.ty else {
        panic!("agents is not an instance");
    };
    let (name, export) = instance
        .exports(engine)
        .find(|(name, _)| *name == "get-agent")
        .expect("agents exports get-agent");
    let ComponentItem::ComponentFunc(func) = export.ty else {
        panic!("get-agent is not a function");
    };
    assert_eq!(
        obelisk_refusal(name, &func).as_deref(),
        Some("a resource in parameter client")
    );
    // A step whose name ends in a suffix the engine generates for itself is refused too.
    let steps = component_type
        .get_export(engine, STEPS)
        .expect("the component exports the steps interface");
    let ComponentItem::ComponentInstance(steps) = steps.ty else {
        panic!("{STEPS} is not an instance");
    };
    let (_, export) = steps
        .exports(engine)
        .find(|(name, _)| *name == "list-numbers")
        .expect("steps exports list-numbers");
    let ComponentItem::ComponentFunc(func) = export.ty else {
        panic!("list-numbers is not a function");
    };
    assert_eq!(
        obelisk_refusal("list-numbers-submit", &func).as_deref(),
        Some("the name ends with the reserved suffix -submit")
    );
}
