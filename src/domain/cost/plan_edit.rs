//! Editing one field of a plan from a form.
//!
//! A form field holds text. Rather than parse each field a second way, the edit writes the text
//! into the plan's JSON at the field's path and reads the whole plan back through
//! [`ProductionPlan::from_value`], so the form and a plan file obey exactly the same rules, caps
//! and cross-field checks. An edit that breaks any rule returns the error for that field (or the
//! first error, for a cross-field rule) and leaves the plan as it was.

use crate::domain::cost::plan::{
    FieldError, FieldProblem, PlanError, ProductionPlan, Stage, StagePlan, VideoPlan,
};
use serde_json::Value;

/// Returns the plan with the field at `path` (`studios`, `stages[1].output_tokens`,
/// `video.takes_per_shot`) set from `text`, or the error to show at that field.
pub fn with_field(
    plan: &ProductionPlan,
    path: &str,
    text: &str,
) -> Result<ProductionPlan, FieldError> {
    let mut value = serde_json::to_value(plan).map_err(|_| not_found(path))?;
    let slot = slot_at(&mut value, path).ok_or_else(|| not_found(path))?;
    *slot = Value::String(text.trim().to_owned());
    read_back(&value, path)
}

/// Returns the plan with video generation switched on (with the route's defaults) or off.
pub fn with_video(plan: &ProductionPlan, enabled: bool) -> ProductionPlan {
    let mut next = plan.clone();
    next.video = match (enabled, next.video.take()) {
        (true, Some(video)) => Some(video),
        (true, None) => Some(VideoPlan {
            takes_per_shot: 1,
            seconds_per_clip: None,
            resolution: None,
            model: None,
        }),
        (false, _) => None,
    };
    next
}

/// Returns the plan with a zero stage added for every stage it lacks, in the usual order, so
/// a form can show one row per stage. Zero stages cost nothing.
pub fn with_every_stage(plan: &ProductionPlan) -> ProductionPlan {
    let mut next = plan.clone();
    for stage in Stage::TEXT {
        if !next.stages.iter().any(|s| s.stage == stage) {
            next.stages.push(StagePlan {
                stage,
                per: Default::default(),
                input_tokens: 0,
                output_tokens: 0,
                requests: 0,
                task: None,
                model: None,
            });
        }
    }
    next
}

fn read_back(value: &Value, path: &str) -> Result<ProductionPlan, FieldError> {
    match ProductionPlan::from_value(value) {
        Ok(plan) => Ok(plan),
        Err(PlanError::Invalid(errors)) => {
            let own = errors
                .iter()
                .find(|e| e.path == path)
                .or_else(|| errors.first());
            Err(own.cloned().unwrap_or_else(|| not_found(path)))
        }
        Err(_) => Err(not_found(path)),
    }
}

fn not_found(path: &str) -> FieldError {
    FieldError {
        path: path.to_owned(),
        problem: FieldProblem::Missing,
    }
}

/// The JSON slot at a path of `name`, `name.name` and `name[index]` steps; missing object
/// keys are created, missing array items are not.
fn slot_at<'a>(mut value: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    for step in path.split('.') {
        let (name, index) = match step.split_once('[') {
            Some((name, rest)) => (name, Some(rest.strip_suffix(']')?.parse::<usize>().ok()?)),
            None => (step, None),
        };
        let object = value.as_object_mut()?;
        value = object.entry(name.to_owned()).or_insert(Value::Null);
        if value.is_null() && index.is_none() && step != path.rsplit('.').next().unwrap_or("") {
            *value = Value::Object(Default::default());
        }
        if let Some(i) = index {
            value = value.as_array_mut()?.get_mut(i)?;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::plan::seed_inventory_plan;

    fn check(path: &str, text: &str, expect: Result<&str, FieldProblem>) {
        let plan = with_every_stage(&seed_inventory_plan());
        match (with_field(&plan, path, text), expect) {
            (Ok(next), Ok(json_fragment)) => {
                let json = serde_json::to_string(&next).unwrap();
                assert!(json.contains(json_fragment), "{path}={text}: {json}");
            }
            (Err(error), Err(problem)) => {
                assert_eq!(error.path, path, "{path}={text}");
                assert_eq!(error.problem, problem, "{path}={text}");
            }
            (got, want) => panic!("{path}={text}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn counts() {
        check("studios", "7", Ok(r#""studios":7"#));
        check("studios", " 12 ", Ok(r#""studios":12"#));
        check("studios", "-3", Err(FieldProblem::Negative));
        check("studios", "abc", Err(FieldProblem::NotANumber));
        check("studios", "", Err(FieldProblem::Empty));
        check("studios", "2.5", Err(FieldProblem::NotAWholeNumber));
        assert!(matches!(
            with_field(&seed_inventory_plan(), "studios", "99999999999")
                .unwrap_err()
                .problem,
            FieldProblem::TooLarge { .. }
        ));
    }

    #[test]
    fn nested_fields() {
        check(
            "stages[0].output_tokens",
            "900000",
            Ok(r#""output_tokens":900000"#),
        );
        check(
            "stages[0].output_tokens",
            "x",
            Err(FieldProblem::NotANumber),
        );
        check("cache_hit_percent", "35", Ok(r#""cache_hit_percent""#));
        let video = with_video(&seed_inventory_plan(), true);
        let next = with_field(&video, "video.takes_per_shot", "3").unwrap();
        assert_eq!(next.video.unwrap().takes_per_shot, 3);
        assert_eq!(with_video(&next_plan(), false).video, None);
    }

    fn next_plan() -> ProductionPlan {
        with_video(&seed_inventory_plan(), true)
    }

    #[test]
    fn a_failed_edit_leaves_the_plan_alone() {
        let plan = seed_inventory_plan();
        let before = plan.clone();
        assert!(with_field(&plan, "episodes_per_series", "-1").is_err());
        assert_eq!(plan, before);
        assert!(with_field(&plan, "no_such[7].field", "1").is_err());
    }

    #[test]
    fn every_stage_is_added_once_and_costs_nothing_new() {
        let plan = with_every_stage(&seed_inventory_plan());
        assert_eq!(plan.stages.len(), Stage::TEXT.len());
        assert_eq!(with_every_stage(&plan), plan);
    }
}

/// The text a form shows for the field at `path`: numbers and names as written in the plan's
/// JSON, empty when the field is absent.
pub fn field_text(plan: &ProductionPlan, path: &str) -> String {
    let Ok(mut value) = serde_json::to_value(plan) else {
        return String::new();
    };
    match slot_at(&mut value, path) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(Value::Number(number)) => number.to_string(),
        // As JSON text; through the writer the app already uses for plans (Value's `Display`
        // would link a second copy of it).
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod field_text_tests {
    use super::*;
    use crate::domain::cost::plan::seed_inventory_plan;

    #[test]
    fn reads_what_with_field_wrote() {
        let plan = with_every_stage(&seed_inventory_plan());
        assert_eq!(field_text(&plan, "studios"), "15");
        assert_eq!(field_text(&plan, "stages[0].output_tokens"), "800000");
        assert_eq!(field_text(&plan, "period"), "month");
        let next = with_field(&plan, "cache_hit_percent", "12.5").unwrap();
        assert_eq!(field_text(&next, "cache_hit_percent"), "12.5");
        assert_eq!(field_text(&plan, "video.takes_per_shot"), "");
    }
}
