//! Aurora PostgreSQL Serverless v2: engine version, capacity range, auto-pause, backups.
//!
//! The rule chosen for capacity: ACUs in 0.5 steps; `min_acu = 0` (auto-pause) only on versions
//! that support it (16.3, 15.7, 14.12, 13.15 and later); `max_acu` above 128 only on versions
//! that scale to 256 (16.1, 15.5, 14.10, 13.13 and later), never above 256.

use super::Findings;
use crate::stack::Database;

/// (major, first minor supporting Serverless v2, auto-pause, 256 ACU).
const VERSIONS: &[(u32, u32, u32, u32)] = &[
    (13, 6, 15, 13),
    (14, 3, 12, 10),
    (15, 2, 7, 5),
    (16, 1, 3, 1),
    (17, 4, 4, 4),
];

/// What a version supports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Support {
    pub auto_pause: bool,
    pub max_acu: f64,
}

/// Parses `MAJOR.MINOR` and says what it supports, or why it cannot run Serverless v2.
pub fn support(version: &str) -> Result<Support, String> {
    let parsed = version
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)));
    let Some((major, minor)) = parsed else {
        return Err(format!(
            "`{version}` is not an Aurora PostgreSQL version like `16.6`"
        ));
    };
    let Some(&(_, first, pause, big)) = VERSIONS.iter().find(|(m, ..)| *m == major) else {
        return Err(format!(
            "Aurora PostgreSQL {major} does not run Serverless v2: use 13.6+, 14.3+, 15.2+, 16.1+ \
             or 17.4+"
        ));
    };
    if minor < first {
        return Err(format!(
            "Serverless v2 needs Aurora PostgreSQL {major}.{first} or later"
        ));
    }
    Ok(Support {
        auto_pause: minor >= pause,
        max_acu: if minor >= big { 256.0 } else { 128.0 },
    })
}

fn is_half_step(acu: f64) -> bool {
    (acu * 2.0).fract() == 0.0
}

pub fn check(db: &Database, findings: &mut Findings) {
    let support = match support(&db.engine_version) {
        Ok(support) => Some(support),
        Err(message) => {
            findings.add("database.engine_version", message);
            None
        }
    };
    let version = ["database.engine_version"];
    for (path, acu) in [
        ("database.min_acu", db.min_acu),
        ("database.max_acu", db.max_acu),
    ] {
        if !is_half_step(acu) || !(0.0..=256.0).contains(&acu) {
            findings.add(
                path,
                format!("{acu} ACU: capacity goes from 0 to 256 in steps of 0.5"),
            );
        }
    }
    if db.min_acu > db.max_acu {
        let message = format!("min {} is above max {}", db.min_acu, db.max_acu);
        findings.add_reading("database.min_acu", &["database.max_acu"], message);
    }
    if db.max_acu < 1.0 {
        findings.add(
            "database.max_acu",
            "the maximum capacity must be at least 1 ACU",
        );
    }
    if let Some(support) = support {
        if db.min_acu == 0.0 && !support.auto_pause {
            findings.add_reading(
                "database.min_acu",
                &version,
                format!(
                    "0 ACU (auto-pause) needs Aurora PostgreSQL 16.3, 15.7, 14.12, 13.15 or later, \
                     not {}; use 0.5",
                    db.engine_version
                ),
            );
        }
        if db.max_acu > support.max_acu && db.max_acu <= 256.0 {
            findings.add_reading(
                "database.max_acu",
                &version,
                format!(
                    "Aurora PostgreSQL {} scales to {} ACU at most",
                    db.engine_version, support.max_acu
                ),
            );
        }
    }
    check_pause_and_backups(db, findings);
}

fn check_pause_and_backups(db: &Database, findings: &mut Findings) {
    match db.auto_pause_seconds {
        Some(_) if db.min_acu != 0.0 => findings.add_reading(
            "database.auto_pause_seconds",
            &["database.min_acu"],
            "auto-pause only applies with min_acu = 0",
        ),
        Some(seconds) if !(300..=86_400).contains(&seconds) => findings.add(
            "database.auto_pause_seconds",
            format!("{seconds} s: auto-pause takes 300 to 86400 seconds"),
        ),
        _ => {}
    }
    if !(1..=35).contains(&db.backup_retention_days) {
        findings.add(
            "database.backup_retention_days",
            format!(
                "{} days: Aurora keeps backups 1 to 35 days",
                db.backup_retention_days
            ),
        );
    }
}
