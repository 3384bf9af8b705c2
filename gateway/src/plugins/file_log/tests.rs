use super::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "gateway-file-log-{name}-{}-{:x}.log",
        std::process::id(),
        rand::random::<u64>()
    ))
}

/// Wait until the file holds `n` lines (the writer is asynchronous).
fn lines_of(path: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= n || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn configs_are_checked() {
    let sinks = LogSinks::default();
    let writers = Writers::default();
    let cases = [
        (json!({"path": "/tmp/x.log"}), None),
        (json!({"path": "/tmp/x.log", "reopen": true}), None),
        (
            json!({"path": "/tmp/x.log", "custom_fields_by_lua": null}),
            None,
        ),
        (json!({}), Some("config.path")),
        (json!({"path": ""}), Some("config.path")),
        (
            json!({"path": "/tmp/x.log", "custom_fields_by_lua": {"a": "return 1"}}),
            Some("config.custom_fields_by_lua"),
        ),
        (
            json!({"path": "/tmp/x.log", "nope": 1}),
            Some("config.nope"),
        ),
    ];
    for (config, field) in cases {
        let result = FileLog::from_config(&config, &sinks, &writers);
        match field {
            None => assert!(result.is_ok(), "{config}: {result:?}"),
            Some(field) => {
                let errors = result.expect_err(&config.to_string());
                assert!(
                    errors.iter().any(|(f, _)| f == field),
                    "{config}: {errors:?}"
                );
            }
        }
    }
}

#[test]
fn building_a_handler_starts_nothing_and_instances_share_a_writer() {
    let sinks = LogSinks::default();
    let writers = Writers::default();
    let path = temp_path("shared");
    let config = json!({"path": path.to_str().unwrap()});
    let a = FileLog::from_config(&config, &sinks, &writers).unwrap();
    let b = FileLog::from_config(&config, &sinks, &writers).unwrap();
    assert!(Arc::ptr_eq(&a.writer, &b.writer));
    assert!(
        a.writer.queue.get().is_none(),
        "no thread before the first line"
    );
    assert!(!path.exists(), "no file before the first line");
}

#[test]
fn lines_are_appended_in_order() {
    let sinks = LogSinks::default();
    let writers = Writers::default();
    let path = temp_path("order");
    std::fs::write(&path, "existing\n").unwrap();
    let writer = writers.writer(path.clone(), false, &sinks);
    for i in 0..50 {
        writer.send(format!("{{\"n\":{i}}}\n"));
    }
    let lines = lines_of(&path, 51);
    assert_eq!(lines.len(), 51);
    assert_eq!(lines[0], "existing");
    assert_eq!(lines[50], "{\"n\":49}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn reopen_follows_a_rotated_file() {
    let sinks = LogSinks::default();
    let writers = Writers::default();
    let path = temp_path("rotate");
    let rotated = path.with_extension("log.1");
    let writer = writers.writer(path.clone(), true, &sinks);
    writer.send("before\n".into());
    assert_eq!(lines_of(&path, 1), ["before"]);
    std::fs::rename(&path, &rotated).unwrap();
    writer.send("after\n".into());
    assert_eq!(lines_of(&path, 1), ["after"], "a new file at the path");
    assert_eq!(lines_of(&rotated, 1), ["before"]);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&rotated);
}

#[test]
fn an_unwritable_path_counts_drops_and_never_panics() {
    let sinks = LogSinks::default();
    let writers = Writers::default();
    let path = PathBuf::from("/nonexistent-dir/for/sure/x.log");
    let writer = writers.writer(path, false, &sinks);
    writer.send("lost\n".into());
    let deadline = Instant::now() + Duration::from_secs(5);
    while writer.dropped.count() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(writer.dropped.count(), 1);
    assert_eq!(sinks.dropped_total(), 1);
}
