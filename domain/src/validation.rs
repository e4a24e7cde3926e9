//! Rules every kind of record shares: free text, dates, times and numbers
//! that every peer can read back exactly.
//!
//! A value that one peer accepts and another cannot store or read stops sync
//! for everyone who receives it (a time of 2^63 ms cannot be a JavaScript
//! number; a NUL cannot be stored in PostgreSQL text). These rules keep such
//! values out at the edge, on the device and on the server alike.

use crate::FieldError;

/// The largest integer a JavaScript number (and so the browser's IndexedDB
/// and JSON.parse) holds exactly: 2^53 − 1. Every integer of the protocol
/// stays at or below it (I-JSON, RFC 7493).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// 2020-01-01T00:00:00Z: nothing in Parcours can have happened before.
pub const EARLIEST_MS: i64 = 1_577_836_800_000;

/// How far ahead of the server's clock a device's clock may be. Phones drift
/// and time zones get mis-set; a day covers both without letting a record
/// claim to come from next year.
pub const MAX_CLOCK_SKEW_MS: i64 = 24 * 3600 * 1000;

/// A moment recorded on a device: after 2020, and not beyond `now` plus the
/// allowed skew.
pub fn check_time(field: &str, ms: i64, now_ms: i64) -> Result<(), FieldError> {
    if ms < EARLIEST_MS {
        return Err(FieldError::new(field, "Date antérieure à 2020 : invalide."));
    }
    if ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(FieldError::new(
            field,
            "Date dans le futur : vérifiez l'heure de l'appareil.",
        ));
    }
    Ok(())
}

/// A counter or id that must survive a trip through JavaScript.
pub fn check_safe_integer(field: &str, value: u64) -> Result<(), FieldError> {
    if value > MAX_SAFE_INTEGER {
        return Err(FieldError::new(
            field,
            format!("Nombre trop grand (au plus {MAX_SAFE_INTEGER})."),
        ));
    }
    Ok(())
}

/// A signed counter or time that must survive a trip through JavaScript.
pub fn check_safe_i64(field: &str, value: i64) -> Result<(), FieldError> {
    check_safe_integer(field, value.unsigned_abs())
}

/// Free text: at most `max` characters (not bytes), and no control
/// characters other than tab and line breaks (a NUL cannot be stored in
/// PostgreSQL; the others are invisible and come only from broken pastes).
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("Ce champ ne peut dépasser {max} caractères."),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(FieldError::new(
            field,
            "Ce texte contient un caractère de contrôle invisible : retapez-le.",
        ));
    }
    Ok(())
}

/// `YYYY-MM-DD`, a day that exists in the calendar (no 31 April, 29 February
/// only in leap years), between 1900 and 2200.
pub fn is_calendar_date(s: &str) -> bool {
    s.parse::<crate::date::CalendarDate>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;

    #[test]
    fn times_must_fall_between_2020_and_a_day_ahead_of_now() {
        assert!(check_time("t", NOW, NOW).is_ok());
        assert!(check_time("t", EARLIEST_MS, NOW).is_ok());
        assert!(check_time("t", NOW + MAX_CLOCK_SKEW_MS, NOW).is_ok());
        for bad in [0, EARLIEST_MS - 1, NOW + MAX_CLOCK_SKEW_MS + 1, i64::MAX] {
            assert_eq!(check_time("t", bad, NOW).unwrap_err().field, "t", "{bad}");
        }
        // A clock at the very end of time must not overflow the bound.
        assert!(check_time("t", i64::MAX, i64::MAX).is_ok());
    }

    #[test]
    fn integers_stay_within_what_javascript_holds_exactly() {
        assert!(check_safe_integer("n", MAX_SAFE_INTEGER).is_ok());
        assert!(check_safe_integer("n", MAX_SAFE_INTEGER + 1).is_err());
        assert!(check_safe_integer("n", u64::MAX).is_err());
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_are_kept() {
        assert!(check_text("note", "Ligne 1\nLigne 2\r\n\tfin", 100).is_ok());
        for bad in ["a\u{0}b", "\u{1b}[31m", "x\u{7f}", "\u{85}"] {
            assert_eq!(check_text("note", bad, 100).unwrap_err().field, "note");
        }
        assert!(check_text("note", &"é".repeat(10), 10).is_ok());
        assert!(check_text("note", &"é".repeat(11), 10).is_err());
    }

    #[test]
    fn only_days_that_exist_are_dates() {
        for good in [
            "2026-02-28",
            "2024-02-29",
            "2000-02-29",
            "2026-12-31",
            "2026-04-30",
        ] {
            assert!(is_calendar_date(good), "{good}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-02-31",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-1-01",
            "+026-01-01",
            "2026-01-+1",
            "1899-12-31",
            "",
        ] {
            assert!(!is_calendar_date(bad), "{bad}");
        }
    }
}
