//! Deadlines counted by Czech rules.
//!
//! A period set in days runs by **§ 40 odst. 1 zákona č. 500/2004 Sb., správní řád**:
//!
//! - (a) the day of the event that starts the period (delivery of a completion request, say) is
//!   not counted; the period begins on the next day;
//! - days are calendar days, working or not;
//! - (c) if the last day falls on a Saturday, a Sunday or a holiday, the last day is the next
//!   working day;
//! - (d) the period is kept if the act is done on its last day, so the deadline is the end of
//!   that day: 24:00 in Prague.
//!
//! "Holiday" means the days of rest of **zákon č. 245/2000 Sb.**, o státních svátcích, o
//! ostatních svátcích, o významných dnech a o dnech pracovního klidu: the state holidays of § 1
//! and the other holidays of § 2, which § 3 makes days of rest. Fixed ones are 1 January,
//! 1 May, 8 May, 5 and 6 July, 28 September, 28 October, 17 November and 24 to 26 December;
//! movable ones are Easter Monday and, since 2016, Good Friday, both from Easter Sunday by the
//! Gregorian computus. They are computed for any year, never listed per year, so no yearly
//! update is due (unless the law changes).
//!
//! Days are those of the office, Europe/Prague, not UTC: an event at 00:30 in Prague on a
//! day in summer is 22:30 UTC of the previous one, and the period must start from the Prague
//! day. Instants in and out are UTC Unix seconds as everywhere in urad; the end of a day is
//! the next Prague midnight, 23:00 UTC in winter and 22:00 UTC in summer, so days are never
//! counted as 86 400 seconds.
//!
//! Periods in weeks, months or years (§ 40 odst. 1 písm. b) are not implemented here.

mod holidays;

pub use holidays::{
    day_off, easter_sunday, is_public_holiday, is_working_day, next_working_day, DayOff, Holiday,
};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Serialize, Serializer};

/// Why a deadline could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    /// § 40 counts from the day after the event, so a period of zero days has no last day; a
    /// zero is most likely a mistake in an agenda's configuration and should surface.
    #[error("a period must be at least one day long")]
    ZeroDays,
    #[error("instant {0} is outside the range of supported dates")]
    InstantOutOfRange(i64),
    #[error(
        "a period of {days} days from instant {from} ends outside the range of supported dates"
    )]
    EndOutOfRange { from: i64, days: u32 },
    #[error("year {0} is outside the range of supported years (-9999 to 9999)")]
    YearOutOfRange(i16),
    /// Falling back to UTC would move every deadline by an hour or two, so refuse instead.
    #[error("the time zone database has no Europe/Prague")]
    NoTimeZone,
}

/// The office's time zone; deadlines run by its calendar days.
pub const OFFICE_TIME_ZONE: &str = "Europe/Prague";

/// The office's time zone, for showing instants and days (deadlines themselves refuse to be
/// counted without it, see [`DeadlineError::NoTimeZone`]); UTC only if the bundled time-zone
/// data lacked it.
pub fn office_time_zone() -> TimeZone {
    TimeZone::get(OFFICE_TIME_ZONE).unwrap_or(TimeZone::UTC)
}

/// A day as stored (`YYYY-MM-DD`, the office's calendar) as people write it: `4. 1. 2027` in
/// Czech; ISO in English.
pub fn day_text(day: &str, lang: urad_core::Lang) -> String {
    let mut parts = day.split('-');
    match (parts.next(), parts.next(), parts.next(), lang) {
        (Some(y), Some(m), Some(d), urad_core::Lang::Cs) => format!(
            "{}. {}. {y}",
            d.trim_start_matches('0'),
            m.trim_start_matches('0')
        ),
        _ => day.to_owned(),
    }
}

/// A deadline: the last day of a period in days and the instant it ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deadline {
    triggered_at: i64,
    days: u32,
    #[serde(serialize_with = "iso_date")]
    last_day: Date,
    ends_at: i64,
    moved: Option<Moved>,
    #[serde(skip)]
    trigger_day: Date,
    #[serde(skip)]
    tz: TimeZone,
}

/// The last day was not a working day, so the deadline moved to the next one (§ 40 odst. 1
/// písm. c). Enough to tell people why: "moved from Saturday 4 April to Tuesday 7 April
/// (Saturday, Sunday, Easter Monday)".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The last day by counting alone.
    #[serde(serialize_with = "iso_date")]
    pub from: Date,
    /// Every day skipped, from `from` on, with its reason; never empty.
    pub skipped: Vec<SkippedDay>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedDay {
    #[serde(serialize_with = "iso_date")]
    pub date: Date,
    pub reason: DayOff,
}

impl Deadline {
    /// The deadline of a period of `days` days started by an event at `from` (UTC Unix
    /// seconds).
    pub fn in_days(from: i64, days: u32) -> Result<Deadline, DeadlineError> {
        if days == 0 {
            return Err(DeadlineError::ZeroDays);
        }
        let tz = TimeZone::get(OFFICE_TIME_ZONE).map_err(|_| DeadlineError::NoTimeZone)?;
        let trigger =
            Timestamp::from_second(from).map_err(|_| DeadlineError::InstantOutOfRange(from))?;
        let trigger_day = trigger.to_zoned(tz.clone()).date();
        let out_of_range = || DeadlineError::EndOutOfRange { from, days };
        // Adding `days` to the event's day lands on the last day: the event's day itself is
        // not counted, the day after is day 1.
        let counted = Span::new()
            .try_days(days)
            .and_then(|span| trigger_day.checked_add(span))
            .map_err(|_| out_of_range())?;
        let last_day = next_working_day(counted);
        let moved = (last_day != counted).then(|| Moved {
            from: counted,
            skipped: skipped_days(counted, last_day),
        });
        let ends_at = start_of(last_day.tomorrow().map_err(|_| out_of_range())?, &tz)
            .ok_or_else(out_of_range)?;
        Ok(Deadline {
            triggered_at: from,
            days,
            last_day,
            ends_at,
            moved,
            trigger_day,
            tz,
        })
    }

    /// The instant of the triggering event, as given.
    pub fn triggered_at(&self) -> i64 {
        self.triggered_at
    }

    /// The length of the period in days, as given.
    pub fn days(&self) -> u32 {
        self.days
    }

    /// The last day of the period in Prague, after any move to a working day.
    pub fn last_day(&self) -> Date {
        self.last_day
    }

    /// How and why the last day moved, if it did.
    pub fn moved(&self) -> Option<&Moved> {
        self.moved.as_ref()
    }

    /// The end of the last day: the next Prague midnight, UTC Unix seconds. An act at this
    /// instant or later is late.
    pub fn ends_at(&self) -> i64 {
        self.ends_at
    }

    pub fn is_overdue(&self, now: i64) -> bool {
        now >= self.ends_at
    }

    /// Whole calendar days in Prague from `now`'s day to the last day: 0 on the last day
    /// itself, negative once it has passed.
    pub fn days_left(&self, now: i64) -> i64 {
        // An instant beyond jiff's range (about ±10 000 years) is taken as the nearest one it
        // has: the answer is absurdly large either way, and this keeps the method total.
        let clamped = now.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let today = Timestamp::from_second(clamped)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.tz.clone())
            .date();
        // Civil days have exactly 24 hours, whatever summer time does to the instants.
        today.duration_until(self.last_day).as_secs() / 86_400
    }

    /// When to remind of the deadline `days_before` days ahead: the start (Prague midnight) of
    /// the day that many days before the last day, UTC Unix seconds.
    ///
    /// A reminder cannot be due before the period started, so when that day would come before
    /// the event, the answer is the event's instant: remind at once.
    pub fn remind_at(&self, days_before: u32) -> i64 {
        let period = self.trigger_day.duration_until(self.last_day).as_secs() / 86_400;
        let back = i64::from(days_before).min(period);
        // Going back at most to the event's day cannot leave the range of dates, and the
        // start of that day is only unrepresentable at the very beginning of jiff's range,
        // where it would precede the event anyway.
        Span::new()
            .try_days(back)
            .and_then(|span| self.last_day.checked_sub(span))
            .ok()
            .and_then(|day| start_of(day, &self.tz))
            .map_or(self.triggered_at, |start| start.max(self.triggered_at))
    }
}

/// The first instant of `date` in `tz`.
fn start_of(date: Date, tz: &TimeZone) -> Option<i64> {
    // `to_zoned` resolves a midnight that a time-zone change skipped to the first instant
    // after it, which is where that day starts. Prague changes at 02:00 and 03:00, never at
    // midnight, but the rule costs nothing.
    date.to_zoned(tz.clone())
        .ok()
        .map(|zoned| zoned.timestamp().as_second())
}

/// The days off from `from` up to, not including, `to`.
fn skipped_days(from: Date, to: Date) -> Vec<SkippedDay> {
    from.series(Span::new().days(1))
        .take_while(|day| *day < to)
        .filter_map(|date| day_off(date).map(|reason| SkippedDay { date, reason }))
        .collect()
}

fn iso_date<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_written_as_people_write_them() {
        assert_eq!(
            super::day_text("2027-01-04", urad_core::Lang::Cs),
            "4. 1. 2027"
        );
        assert_eq!(
            super::day_text("2027-01-04", urad_core::Lang::En),
            "2027-01-04"
        );
    }

    use super::*;
    use jiff::civil::date;
    use urad_core::{Clock, Lang, ManualClock};

    /// Unix seconds of a civil time in Prague.
    fn prague(y: i16, m: i8, d: i8, h: i8, min: i8) -> i64 {
        date(y, m, d)
            .at(h, min, 0, 0)
            .to_zoned(TimeZone::get(OFFICE_TIME_ZONE).unwrap())
            .unwrap()
            .timestamp()
            .as_second()
    }

    /// Unix seconds of a UTC time, by plain arithmetic (no time zone database), as an
    /// independent check of the Prague conversions.
    fn utc(y: i16, m: i8, d: i8, h: i64) -> i64 {
        let days = date(1970, 1, 1).duration_until(date(y, m, d)).as_secs() / 86_400;
        days * 86_400 + h * 3_600
    }

    /// The deadline of `days` days from noon in Prague on the given day.
    fn from_noon(y: i16, m: i8, d: i8, days: u32) -> Deadline {
        Deadline::in_days(prague(y, m, d, 12, 0), days).unwrap()
    }

    #[test]
    fn easter_sunday_for_known_years() {
        let known = [
            (1818, 3, 22),
            (1943, 4, 25),
            (2000, 4, 23),
            (2008, 3, 23),
            (2010, 4, 4),
            (2011, 4, 24),
            (2013, 3, 31),
            (2015, 4, 5),
            (2016, 3, 27),
            (2018, 4, 1),
            (2019, 4, 21),
            (2020, 4, 12),
            (2021, 4, 4),
            (2022, 4, 17),
            (2023, 4, 9),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2285, 3, 22),
        ];
        for (y, m, d) in known {
            assert_eq!(easter_sunday(y).unwrap(), date(y, m, d), "Easter {y}");
            let good_friday = date(y, m, d).checked_sub(Span::new().days(2)).unwrap();
            let easter_monday = date(y, m, d).tomorrow().unwrap();
            assert_eq!(
                is_public_holiday(easter_monday),
                Some(Holiday::EasterMonday),
                "{y}"
            );
            let expected = (y >= 2016).then_some(Holiday::GoodFriday);
            assert_eq!(is_public_holiday(good_friday), expected, "Good Friday {y}");
            // Holy Saturday and Easter Sunday are no holidays of their own.
            assert_eq!(is_public_holiday(date(y, m, d)), None);
            assert_eq!(is_public_holiday(good_friday.tomorrow().unwrap()), None);
        }
    }

    #[test]
    fn good_friday_is_a_holiday_from_2016_only() {
        assert_eq!(is_public_holiday(date(2015, 4, 3)), None);
        assert!(is_working_day(date(2015, 4, 3)));
        assert_eq!(
            is_public_holiday(date(2016, 3, 25)),
            Some(Holiday::GoodFriday)
        );
        assert!(!is_working_day(date(2016, 3, 25)));
    }

    #[test]
    fn easter_is_a_sunday_in_march_or_april_for_every_year() {
        for year in -9999..=9999 {
            let easter = easter_sunday(year).unwrap();
            assert_eq!(easter.weekday(), jiff::civil::Weekday::Sunday, "{year}");
            assert!(
                easter >= date(year, 3, 22) && easter <= date(year, 4, 25),
                "{year}: {easter}"
            );
        }
        assert_eq!(
            easter_sunday(10_000),
            Err(DeadlineError::YearOutOfRange(10_000))
        );
        assert_eq!(
            easter_sunday(i16::MIN),
            Err(DeadlineError::YearOutOfRange(i16::MIN))
        );
    }

    #[test]
    fn every_fixed_holiday_is_recognised() {
        let fixed = [
            ((1, 1), Holiday::NewYear),
            ((5, 1), Holiday::LabourDay),
            ((5, 8), Holiday::VictoryDay),
            ((7, 5), Holiday::CyrilAndMethodius),
            ((7, 6), Holiday::JanHus),
            ((9, 28), Holiday::StatehoodDay),
            ((10, 28), Holiday::IndependenceDay),
            ((11, 17), Holiday::FreedomAndDemocracyDay),
            ((12, 24), Holiday::ChristmasEve),
            ((12, 25), Holiday::ChristmasDay),
            ((12, 26), Holiday::StStephensDay),
        ];
        for year in [2001, 2015, 2026, 2100] {
            for ((m, d), holiday) in fixed {
                assert_eq!(
                    is_public_holiday(date(year, m, d)),
                    Some(holiday),
                    "{year}-{m}-{d}"
                );
                assert!(!is_working_day(date(year, m, d)));
            }
        }
        // Ordinary days, also the neighbours of holidays and days of other calendars.
        for (m, d) in [
            (1, 2),
            (4, 30),
            (5, 9),
            (7, 4),
            (9, 27),
            (11, 16),
            (12, 23),
            (12, 27),
            (12, 31),
        ] {
            assert_eq!(is_public_holiday(date(2026, m, d)), None, "2026-{m}-{d}");
        }
        // Wednesday 11 March 2026: an ordinary working day.
        assert!(is_working_day(date(2026, 3, 11)));
        assert_eq!(day_off(date(2026, 3, 14)), Some(DayOff::Saturday));
        assert_eq!(day_off(date(2026, 3, 15)), Some(DayOff::Sunday));
        // A holiday on a weekend is told as the holiday.
        assert_eq!(
            day_off(date(2026, 12, 26)),
            Some(DayOff::Holiday(Holiday::StStephensDay))
        );
    }

    #[test]
    fn a_year_has_thirteen_days_of_rest_and_twelve_before_2016() {
        for year in 1990..=2300 {
            let mut day = date(year, 1, 1);
            let mut count = 0;
            while day.year() == year {
                count += usize::from(is_public_holiday(day).is_some());
                day = day.tomorrow().unwrap();
            }
            assert_eq!(count, if year >= 2016 { 13 } else { 12 }, "{year}");
        }
    }

    #[test]
    fn holidays_have_both_names() {
        for holiday in Holiday::ALL {
            assert!(!holiday.name_cs().is_empty() && !holiday.name_en().is_empty());
            assert_ne!(holiday.name_cs(), holiday.name_en(), "{holiday:?}");
            assert_eq!(holiday.name(Lang::Cs), holiday.name_cs());
            assert_eq!(holiday.name(Lang::En), holiday.name_en());
        }
        assert_eq!(Holiday::GoodFriday.name_cs(), "Velký pátek");
        assert_eq!(DayOff::Saturday.name(Lang::Cs), "sobota");
        assert_eq!(
            DayOff::Holiday(Holiday::EasterMonday).name(Lang::En),
            "Easter Monday"
        );
    }

    #[test]
    fn next_working_day_skips_weekends_and_holidays() {
        assert_eq!(next_working_day(date(2026, 3, 11)), date(2026, 3, 11));
        assert_eq!(next_working_day(date(2026, 3, 14)), date(2026, 3, 16));
        assert_eq!(next_working_day(date(2026, 12, 24)), date(2026, 12, 28));
        // The end of jiff's range: 31 December 9999 is a Friday, a working day.
        assert_eq!(next_working_day(date(9999, 12, 31)), date(9999, 12, 31));
        assert_eq!(next_working_day(date(9999, 12, 24)), date(9999, 12, 27));
    }

    #[test]
    fn counting_starts_the_day_after_the_event() {
        // Delivered Monday 9 March 2026; 15 days: day 1 is Tuesday 10 March, day 15 Tuesday 24.
        let deadline = from_noon(2026, 3, 9, 15);
        assert_eq!(deadline.last_day(), date(2026, 3, 24));
        assert_eq!(deadline.moved(), None);
        // One day: the next day.
        assert_eq!(from_noon(2026, 3, 9, 1).last_day(), date(2026, 3, 10));
        assert_eq!(Deadline::in_days(0, 0), Err(DeadlineError::ZeroDays));
    }

    #[test]
    fn the_prague_day_of_the_event_counts_not_the_utc_day() {
        // Both instants fall on Tuesday 9 June 2026 in UTC (21:30 and 22:30), but on
        // different days in Prague (summer time, UTC+2).
        let late = prague(2026, 6, 9, 23, 30);
        let early_next = prague(2026, 6, 10, 0, 30);
        assert_eq!(late, utc(2026, 6, 9, 21) + 30 * 60);
        assert_eq!(early_next, utc(2026, 6, 9, 22) + 30 * 60);
        let a = Deadline::in_days(late, 7).unwrap();
        let b = Deadline::in_days(early_next, 7).unwrap();
        assert_eq!(a.last_day(), date(2026, 6, 16));
        assert_eq!(b.last_day(), date(2026, 6, 17));
        assert_eq!(a.ends_at(), utc(2026, 6, 16, 22));
        assert_eq!(b.ends_at(), utc(2026, 6, 17, 22));
        // The same in winter (UTC+1): 23:30 and 00:30 are 22:30 and 23:30 UTC of one day.
        let a = Deadline::in_days(prague(2026, 1, 14, 23, 30), 7).unwrap();
        let b = Deadline::in_days(prague(2026, 1, 15, 0, 30), 7).unwrap();
        assert_eq!(a.last_day(), date(2026, 1, 21));
        assert_eq!(b.last_day(), date(2026, 1, 22));
    }

    #[test]
    fn saturday_and_sunday_move_to_monday() {
        // Delivered Tuesday 3 March 2026: 11 days end on Saturday 14 March.
        let saturday = from_noon(2026, 3, 3, 11);
        assert_eq!(saturday.last_day(), date(2026, 3, 16));
        let moved = saturday.moved().unwrap();
        assert_eq!(moved.from, date(2026, 3, 14));
        assert_eq!(
            moved.skipped,
            vec![
                SkippedDay {
                    date: date(2026, 3, 14),
                    reason: DayOff::Saturday
                },
                SkippedDay {
                    date: date(2026, 3, 15),
                    reason: DayOff::Sunday
                },
            ]
        );
        let sunday = from_noon(2026, 3, 3, 12);
        assert_eq!(sunday.last_day(), date(2026, 3, 16));
        assert_eq!(sunday.moved().unwrap().from, date(2026, 3, 15));
        assert_eq!(sunday.moved().unwrap().skipped.len(), 1);
        assert_eq!(sunday.ends_at(), utc(2026, 3, 16, 23));
    }

    #[test]
    fn easter_2026_moves_good_friday_to_tuesday() {
        // Delivered Friday 20 March 2026: 14 days end on Good Friday, 3 April.
        let deadline = from_noon(2026, 3, 20, 14);
        assert_eq!(deadline.last_day(), date(2026, 4, 7));
        let moved = deadline.moved().unwrap();
        assert_eq!(moved.from, date(2026, 4, 3));
        let reasons: Vec<_> = moved.skipped.iter().map(|s| (s.date, s.reason)).collect();
        assert_eq!(
            reasons,
            [
                (date(2026, 4, 3), DayOff::Holiday(Holiday::GoodFriday)),
                (date(2026, 4, 4), DayOff::Saturday),
                (date(2026, 4, 5), DayOff::Sunday),
                (date(2026, 4, 6), DayOff::Holiday(Holiday::EasterMonday)),
            ]
        );
        // From Saturday 4 April the same Tuesday, for Easter Monday.
        let saturday = from_noon(2026, 3, 20, 15);
        assert_eq!(saturday.last_day(), date(2026, 4, 7));
        assert_eq!(
            saturday.moved().unwrap().skipped.last(),
            Some(&SkippedDay {
                date: date(2026, 4, 6),
                reason: DayOff::Holiday(Holiday::EasterMonday)
            })
        );
        // Summer time already: the end is 22:00 UTC.
        assert_eq!(deadline.ends_at(), utc(2026, 4, 7, 22));
        // In 2015 Good Friday was a working day and stayed the last day.
        let deadline_2015 = from_noon(2015, 3, 20, 14);
        assert_eq!(deadline_2015.last_day(), date(2015, 4, 3));
        assert_eq!(deadline_2015.moved(), None);
    }

    #[test]
    fn christmas_and_the_weekend_chain_up() {
        // Thursday 24 December 2026, then 25, Saturday 26, Sunday 27: Monday 28 December.
        let deadline = from_noon(2026, 12, 14, 10);
        assert_eq!(deadline.moved().unwrap().from, date(2026, 12, 24));
        assert_eq!(deadline.last_day(), date(2026, 12, 28));
        let reasons: Vec<_> = deadline
            .moved()
            .unwrap()
            .skipped
            .iter()
            .map(|s| s.reason)
            .collect();
        assert_eq!(
            reasons,
            [
                DayOff::Holiday(Holiday::ChristmasEve),
                DayOff::Holiday(Holiday::ChristmasDay),
                DayOff::Holiday(Holiday::StStephensDay),
                DayOff::Sunday,
            ]
        );
        // 2027: Friday 24 to Sunday 26 December, Monday 27 is a working day.
        assert_eq!(from_noon(2027, 12, 14, 10).last_day(), date(2027, 12, 27));
        // Over the new year: Thursday 31 December 2026 is a working day, 1 January not.
        assert_eq!(from_noon(2026, 12, 22, 9).last_day(), date(2026, 12, 31));
        assert_eq!(from_noon(2026, 12, 22, 10).last_day(), date(2027, 1, 4));
    }

    #[test]
    fn october_and_november_holidays_move_a_day() {
        // Wednesday 28 October 2026 → Thursday 29.
        let october = from_noon(2026, 10, 18, 10);
        assert_eq!(october.moved().unwrap().from, date(2026, 10, 28));
        assert_eq!(october.last_day(), date(2026, 10, 29));
        assert_eq!(
            october.moved().unwrap().skipped[0].reason,
            DayOff::Holiday(Holiday::IndependenceDay)
        );
        // Tuesday 17 November 2026 → Wednesday 18.
        let november = from_noon(2026, 11, 7, 10);
        assert_eq!(november.moved().unwrap().from, date(2026, 11, 17));
        assert_eq!(november.last_day(), date(2026, 11, 18));
        // Saturday 28 October 2028: the weekend, then Monday 30.
        assert_eq!(from_noon(2028, 10, 18, 10).last_day(), date(2028, 10, 30));
    }

    #[test]
    fn the_end_is_prague_midnight_on_both_sides_of_summer_time() {
        // Summer time begins on Sunday 29 March 2026.
        let before = from_noon(2026, 3, 20, 7); // Friday 27 March, winter time
        assert_eq!(before.last_day(), date(2026, 3, 27));
        assert_eq!(before.ends_at(), utc(2026, 3, 27, 23));
        assert_eq!(before.ends_at(), 1_774_652_400);
        let after = from_noon(2026, 3, 20, 10); // Monday 30 March, summer time
        assert_eq!(after.last_day(), date(2026, 3, 30));
        assert_eq!(after.ends_at(), utc(2026, 3, 30, 22));
        assert_eq!(after.ends_at(), 1_774_908_000);
        // Saturday 28 March ends in winter time but moves across the change to Monday.
        let saturday = from_noon(2026, 3, 20, 8);
        assert_eq!(saturday.last_day(), date(2026, 3, 30));
        assert_eq!(saturday.ends_at(), 1_774_908_000);

        // Summer time ends on Sunday 25 October 2026.
        let before = from_noon(2026, 10, 16, 7); // Friday 23 October, summer time
        assert_eq!(before.ends_at(), utc(2026, 10, 23, 22));
        assert_eq!(before.ends_at(), 1_792_792_800);
        let after = from_noon(2026, 10, 16, 10); // Monday 26 October, winter time
        assert_eq!(after.ends_at(), utc(2026, 10, 26, 23));
        assert_eq!(after.ends_at(), 1_793_055_600);
    }

    #[test]
    fn fifteen_days_across_the_change_still_end_at_prague_midnight() {
        // From Wednesday 18 March 2026 (winter) to Thursday 2 April (summer).
        let trigger = prague(2026, 3, 18, 10, 0);
        let spring = Deadline::in_days(trigger, 15).unwrap();
        assert_eq!(spring.last_day(), date(2026, 4, 2));
        assert_eq!(spring.ends_at(), utc(2026, 4, 2, 22));
        // Counting 15 × 24 hours from the event's midnight would be an hour late.
        let naive = prague(2026, 3, 18, 0, 0) + 16 * 86_400;
        assert_eq!(naive - spring.ends_at(), 3_600);

        // From Thursday 15 October 2026 (summer) to Friday 30 October (winter).
        let autumn = Deadline::in_days(prague(2026, 10, 15, 10, 0), 15).unwrap();
        assert_eq!(autumn.last_day(), date(2026, 10, 30));
        assert_eq!(autumn.ends_at(), utc(2026, 10, 30, 23));
    }

    #[test]
    fn overdue_days_left_and_reminders_follow_the_clock() {
        // Delivered Monday 23 March 2026 at 9:00 (winter time); 10 days end on Thursday
        // 2 April (summer time) at 24:00 = 22:00 UTC.
        let clock = ManualClock::at(prague(2026, 3, 23, 9, 0));
        let deadline = Deadline::in_days(clock.now(), 10).unwrap();
        assert_eq!(deadline.last_day(), date(2026, 4, 2));
        assert_eq!(deadline.days_left(clock.now()), 10);
        assert!(!deadline.is_overdue(clock.now()));

        // Three days ahead: Monday 30 March at 00:00 in Prague, already summer time.
        let reminder = deadline.remind_at(3);
        assert_eq!(reminder, utc(2026, 3, 29, 22));
        assert!(clock.now() < reminder);

        // To Sunday 29 March, 23:59 in Prague: not yet time to remind, 4 days left.
        clock.advance(prague(2026, 3, 29, 23, 59) - clock.now());
        assert!(clock.now() < reminder);
        assert_eq!(deadline.days_left(clock.now()), 4);
        clock.advance(60);
        assert!(clock.now() >= reminder);
        assert_eq!(deadline.days_left(clock.now()), 3);

        // The last day, one second before its end: 0 days left, not overdue.
        clock.advance(deadline.ends_at() - 1 - clock.now());
        assert_eq!(deadline.days_left(clock.now()), 0);
        assert!(!deadline.is_overdue(clock.now()));
        // At 24:00 it is overdue, and a day past.
        clock.advance(1);
        assert!(deadline.is_overdue(clock.now()));
        assert_eq!(deadline.days_left(clock.now()), -1);
        clock.advance(7 * 86_400);
        assert_eq!(deadline.days_left(clock.now()), -8);

        // On the last day itself and days before the period began.
        assert_eq!(deadline.remind_at(0), utc(2026, 4, 1, 22));
        assert_eq!(
            deadline.remind_at(10),
            utc(2026, 3, 22, 23).max(deadline.triggered_at())
        );
        assert_eq!(deadline.remind_at(10), deadline.triggered_at());
        assert_eq!(deadline.remind_at(u32::MAX), deadline.triggered_at());
        // Nine days ahead is the start of Tuesday 24 March, after the event.
        assert_eq!(deadline.remind_at(9), utc(2026, 3, 23, 23));
    }

    #[test]
    fn out_of_range_inputs_are_errors_not_panics() {
        assert_eq!(
            Deadline::in_days(i64::MAX, 1),
            Err(DeadlineError::InstantOutOfRange(i64::MAX))
        );
        assert_eq!(
            Deadline::in_days(i64::MIN, 1),
            Err(DeadlineError::InstantOutOfRange(i64::MIN))
        );
        let now = prague(2026, 3, 23, 9, 0);
        assert_eq!(
            Deadline::in_days(now, u32::MAX),
            Err(DeadlineError::EndOutOfRange {
                from: now,
                days: u32::MAX
            })
        );
        // The last supported moments: the end of the last day must itself be an instant.
        let late = Timestamp::MAX.as_second();
        assert!(matches!(
            Deadline::in_days(late, 1),
            Err(DeadlineError::EndOutOfRange { .. })
        ));
        let early = Deadline::in_days(Timestamp::MIN.as_second(), 1).unwrap();
        assert!(early.remind_at(1) >= early.triggered_at());
        assert!(early.days_left(i64::MAX) < 0);
        assert!(early.days_left(i64::MIN) > 0);
        let error = Deadline::in_days(now, u32::MAX).unwrap_err();
        assert!(error.to_string().contains("4294967295 days"));
    }

    #[test]
    fn serializes_for_the_ui() {
        let deadline = from_noon(2026, 3, 20, 14);
        let json = serde_json::to_value(&deadline).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "triggered_at": prague(2026, 3, 20, 12, 0),
                "days": 14,
                "last_day": "2026-04-07",
                "ends_at": utc(2026, 4, 7, 22),
                "moved": {
                    "from": "2026-04-03",
                    "skipped": [
                        { "date": "2026-04-03", "reason": { "holiday": "good_friday" } },
                        { "date": "2026-04-04", "reason": "saturday" },
                        { "date": "2026-04-05", "reason": "sunday" },
                        { "date": "2026-04-06", "reason": { "holiday": "easter_monday" } },
                    ]
                }
            })
        );
        assert_eq!(
            serde_json::to_value(from_noon(2026, 3, 9, 15)).unwrap()["moved"],
            serde_json::Value::Null
        );
    }
}
