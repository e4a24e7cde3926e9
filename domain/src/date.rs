//! Calendar dates (`YYYY-MM-DD`) as care records use them: a birth date, an
//! inclusion day, a review point's due day. No time zone: a day is the day
//! written down where it happened.
//!
//! Small on purpose (proleptic Gregorian arithmetic in a few lines): it is
//! compiled into the phone's download, and a date crate would weigh more
//! than everything here.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A day that exists in the calendar, between 1900 and 2200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    year: i32,
    month: u32,
    day: u32,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl CalendarDate {
    pub const MIN_YEAR: i32 = 1900;
    pub const MAX_YEAR: i32 = 2200;

    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        ((Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year)
            && (1..=days_in_month(year, month)).contains(&day))
        .then_some(Self { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u32 {
        self.month
    }
    pub fn day(self) -> u32 {
        self.day
    }

    /// Whole years from `birth` to this day: the birthday counts from its
    /// own day. Someone born on 29 February has their birthday on 1 March
    /// in other years (the day after 28 February).
    pub fn years_since(self, birth: CalendarDate) -> i32 {
        let before_birthday = (self.month, self.day) < (birth.month, birth.day);
        self.year - birth.year - i32::from(before_birthday)
    }

    /// The same day `months` later; a day the target month lacks becomes
    /// its last day (31 January + 1 month = 28 or 29 February).
    pub fn add_months(self, months: i32) -> Option<Self> {
        let index = self.year * 12 + (self.month as i32 - 1) + months;
        let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
        Self::new(year, month, self.day.min(days_in_month(year, month)))
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day `days` after the Unix epoch.
    pub fn from_days_since_epoch(days: i64) -> Option<Self> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self::new(i32::try_from(year).ok()?, month, day)
    }

    pub fn add_days(self, days: i64) -> Option<Self> {
        Self::from_days_since_epoch(self.days_since_epoch() + days)
    }

    /// "14/03/1958", as a French reader writes it.
    pub fn french(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }
}

impl FromStr for CalendarDate {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(());
        }
        let digits = |r: std::ops::Range<usize>| {
            s.get(r)
                .filter(|p| p.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|p| p.parse::<u32>().ok())
                .ok_or(())
        };
        let year = i32::try_from(digits(0..4)?).map_err(|_| ())?;
        Self::new(year, digits(5..7)?, digits(8..10)?).ok_or(())
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for CalendarDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CalendarDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom(format!("date invalide (AAAA-MM-JJ) : {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> CalendarDate {
        s.parse().unwrap()
    }

    #[test]
    fn ages_count_from_the_birthday_itself() {
        let birth = d("2011-06-15");
        assert_eq!(d("2026-06-14").years_since(birth), 14);
        assert_eq!(d("2026-06-15").years_since(birth), 15);
        assert_eq!(d("2026-06-16").years_since(birth), 15);
        // Born on 29 February: a year later it is 1 March that counts.
        let leapling = d("2008-02-29");
        assert_eq!(d("2023-02-28").years_since(leapling), 14);
        assert_eq!(d("2023-03-01").years_since(leapling), 15);
        assert_eq!(d("2024-02-29").years_since(leapling), 16);
    }

    #[test]
    fn months_added_keep_the_day_or_end_the_month() {
        assert_eq!(d("2026-01-31").add_months(1), Some(d("2026-02-28")));
        assert_eq!(d("2028-01-31").add_months(1), Some(d("2028-02-29")));
        assert_eq!(d("2026-11-24").add_months(18), Some(d("2028-05-24")));
        assert_eq!(d("2026-03-31").add_months(-1), Some(d("2026-02-28")));
        assert_eq!(d("2200-12-01").add_months(1), None);
    }

    #[test]
    fn days_since_the_epoch_round_trip() {
        assert_eq!(d("1970-01-01").days_since_epoch(), 0);
        assert_eq!(d("2000-03-01").days_since_epoch(), 11_017);
        for s in ["1900-01-01", "1958-03-14", "2024-02-29", "2200-12-31"] {
            let day = d(s);
            assert_eq!(
                CalendarDate::from_days_since_epoch(day.days_since_epoch()),
                Some(day)
            );
        }
        assert_eq!(d("2026-12-31").add_days(1), Some(d("2027-01-01")));
    }

    #[test]
    fn only_days_that_exist_parse_and_they_print_back() {
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-04-31",
            "1899-12-31",
            "26-01-01",
            "",
        ] {
            assert!(bad.parse::<CalendarDate>().is_err(), "{bad}");
        }
        assert_eq!(d("2026-11-24").to_string(), "2026-11-24");
        assert_eq!(d("1958-03-14").french(), "14/03/1958");
        let json = serde_json::to_string(&d("2024-02-29")).unwrap();
        assert_eq!(json, "\"2024-02-29\"");
        assert!(serde_json::from_str::<CalendarDate>("\"2023-02-29\"").is_err());
    }
}
