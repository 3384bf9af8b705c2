use super::*;
use serde_json::json;

#[test]
fn timestamps_are_rfc3164() {
    let cases = [
        (0, "Jan  1 00:00:00"),
        (1_700_000_000, "Nov 14 22:13:20"),
        (951_782_400, "Feb 29 00:00:00"), // 2000 was a leap year
        (1_709_251_199, "Feb 29 23:59:59"),
        (1_735_689_599, "Dec 31 23:59:59"),
    ];
    for (secs, want) in cases {
        assert_eq!(timestamp(secs), want, "{secs}");
    }
}

#[test]
fn a_datagram_carries_facility_and_severity_in_its_pri() {
    let datagram = format_datagram(1, 6, 1_700_000_000, "node1", "{\"a\":1}");
    assert_eq!(datagram, "<14>Nov 14 22:13:20 node1 kong: {\"a\":1}");
    assert!(format_datagram(23, 0, 0, "h", "m").starts_with("<184>"));
}

#[test]
fn severities_follow_the_response_class() {
    let sinks = LogSinks::default();
    let config = json!({
        "successful_severity": "notice",
        "client_errors_severity": "warning",
        "server_errors_severity": "crit",
        "facility": "local3",
    });
    let syslog = Syslog::from_config(&config, &sinks).unwrap();
    let cases = [(200, 5), (302, 5), (404, 4), (499, 4), (500, 2), (503, 2)];
    for (status, severity) in cases {
        assert_eq!(syslog.severity(status), severity, "{status}");
    }
    assert_eq!(syslog.facility, 19);
}

#[test]
fn configs_are_checked() {
    let sinks = LogSinks::default();
    let cases = [
        (json!({}), None),
        (json!({"log_level": "debug", "facility": "auth"}), None),
        (json!({"log_level": "loud"}), Some("config.log_level")),
        (json!({"facility": "USER"}), Some("config.facility")),
        (
            json!({"server_errors_severity": "error"}),
            Some("config.server_errors_severity"),
        ),
        (
            json!({"custom_fields_by_lua": {"x": "y"}}),
            Some("config.custom_fields_by_lua"),
        ),
        (json!({"socket_path": ""}), Some("config.socket_path")),
    ];
    for (config, field) in cases {
        match (Syslog::from_config(&config, &sinks), field) {
            (Ok(_), None) => {}
            (Err(errors), Some(field)) => {
                assert!(
                    errors.iter().any(|(f, _)| f == field),
                    "{config}: {errors:?}"
                )
            }
            (other, _) => panic!("{config}: {other:?}"),
        }
    }
}

#[test]
fn datagrams_reach_the_socket_and_an_absent_one_is_counted() {
    let dir = std::env::temp_dir().join(format!("gw-syslog-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.sock");
    let receiver = UnixDatagram::bind(&path).unwrap();
    let sinks = LogSinks::default();
    let config = json!({"socket_path": path.to_str().unwrap()});
    let syslog = Syslog::from_config(&config, &sinks).unwrap();
    syslog.send(b"<14>hello");
    let mut buf = [0u8; 64];
    let n = receiver.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"<14>hello");

    drop(receiver);
    std::fs::remove_file(&path).unwrap();
    syslog.send(b"lost");
    syslog.send(b"lost");
    assert_eq!(syslog.dropped.count(), 2);
    assert!(syslog.warned_absent.load(Ordering::Relaxed));
    let _ = std::fs::remove_dir_all(&dir);
}
