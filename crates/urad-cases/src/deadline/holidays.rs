//! The Czech calendar of days of rest (zákon č. 245/2000 Sb.), computed, not listed.

use jiff::civil::{Date, Weekday};
use serde::Serialize;
use urad_core::Lang;

use super::DeadlineError;

/// A public holiday or other day of rest under zákon č. 245/2000 Sb. (§ 1 státní svátky,
/// § 2 ostatní svátky; § 3 makes both days of rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    /// 1 January: both a state holiday (§ 1) and New Year's Day (§ 2).
    NewYear,
    /// Friday before Easter Sunday; a day of rest only from 2016 on.
    GoodFriday,
    /// Monday after Easter Sunday.
    EasterMonday,
    /// 1 May.
    LabourDay,
    /// 8 May.
    VictoryDay,
    /// 5 July.
    CyrilAndMethodius,
    /// 6 July.
    JanHus,
    /// 28 September.
    StatehoodDay,
    /// 28 October.
    IndependenceDay,
    /// 17 November.
    FreedomAndDemocracyDay,
    /// 24 December.
    ChristmasEve,
    /// 25 December.
    ChristmasDay,
    /// 26 December.
    StStephensDay,
}

impl Holiday {
    pub const ALL: &'static [Holiday] = &[
        Holiday::NewYear,
        Holiday::GoodFriday,
        Holiday::EasterMonday,
        Holiday::LabourDay,
        Holiday::VictoryDay,
        Holiday::CyrilAndMethodius,
        Holiday::JanHus,
        Holiday::StatehoodDay,
        Holiday::IndependenceDay,
        Holiday::FreedomAndDemocracyDay,
        Holiday::ChristmasEve,
        Holiday::ChristmasDay,
        Holiday::StStephensDay,
    ];

    /// The name as the law gives it.
    pub fn name_cs(self) -> &'static str {
        match self {
            Holiday::NewYear => "Den obnovy samostatného českého státu, Nový rok",
            Holiday::GoodFriday => "Velký pátek",
            Holiday::EasterMonday => "Velikonoční pondělí",
            Holiday::LabourDay => "Svátek práce",
            Holiday::VictoryDay => "Den vítězství",
            Holiday::CyrilAndMethodius => "Den slovanských věrozvěstů Cyrila a Metoděje",
            Holiday::JanHus => "Den upálení mistra Jana Husa",
            Holiday::StatehoodDay => "Den české státnosti",
            Holiday::IndependenceDay => "Den vzniku samostatného československého státu",
            Holiday::FreedomAndDemocracyDay => {
                "Den boje za svobodu a demokracii a Mezinárodní den studentstva"
            }
            Holiday::ChristmasEve => "Štědrý den",
            Holiday::ChristmasDay => "1. svátek vánoční",
            Holiday::StStephensDay => "2. svátek vánoční",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Holiday::NewYear => "Restoration Day of the Independent Czech State, New Year's Day",
            Holiday::GoodFriday => "Good Friday",
            Holiday::EasterMonday => "Easter Monday",
            Holiday::LabourDay => "Labour Day",
            Holiday::VictoryDay => "Victory Day",
            Holiday::CyrilAndMethodius => "Saints Cyril and Methodius Day",
            Holiday::JanHus => "Jan Hus Day",
            Holiday::StatehoodDay => "Czech Statehood Day",
            Holiday::IndependenceDay => "Independent Czechoslovak State Day",
            Holiday::FreedomAndDemocracyDay => {
                "Struggle for Freedom and Democracy Day and International Students' Day"
            }
            Holiday::ChristmasEve => "Christmas Eve",
            Holiday::ChristmasDay => "Christmas Day",
            Holiday::StStephensDay => "St Stephen's Day",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Cs => self.name_cs(),
            Lang::En => self.name_en(),
        }
    }
}

/// Why a day is not a working day: what a moved deadline skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOff {
    Saturday,
    Sunday,
    Holiday(Holiday),
}

impl DayOff {
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (DayOff::Saturday, Lang::Cs) => "sobota",
            (DayOff::Saturday, Lang::En) => "Saturday",
            (DayOff::Sunday, Lang::Cs) => "neděle",
            (DayOff::Sunday, Lang::En) => "Sunday",
            (DayOff::Holiday(h), lang) => h.name(lang),
        }
    }
}

/// The first year in which Good Friday was a day of rest: the amendment of § 2 of zákon
/// č. 245/2000 Sb. took effect in December 2015, so 25 March 2016 was the first one.
const GOOD_FRIDAY_SINCE: i16 = 2016;

/// The holiday falling on `date`, if any.
///
/// The calendar is the one in force now, applied to every year, except that Good Friday counts
/// only from 2016. It is not a historical record before the law took effect (9 August 2000);
/// deadlines of the office never fall there.
pub fn is_public_holiday(date: Date) -> Option<Holiday> {
    let fixed = match (date.month(), date.day()) {
        (1, 1) => Some(Holiday::NewYear),
        (5, 1) => Some(Holiday::LabourDay),
        (5, 8) => Some(Holiday::VictoryDay),
        (7, 5) => Some(Holiday::CyrilAndMethodius),
        (7, 6) => Some(Holiday::JanHus),
        (9, 28) => Some(Holiday::StatehoodDay),
        (10, 28) => Some(Holiday::IndependenceDay),
        (11, 17) => Some(Holiday::FreedomAndDemocracyDay),
        (12, 24) => Some(Holiday::ChristmasEve),
        (12, 25) => Some(Holiday::ChristmasDay),
        (12, 26) => Some(Holiday::StStephensDay),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    // Only March and April can hold Good Friday (20 March at the earliest) or Easter Monday
    // (26 April at the latest); the computus is not worth running for other months.
    if !matches!(date.month(), 3 | 4) {
        return None;
    }
    // Day-of-year arithmetic stays inside the year (Easter is never near its ends), so it
    // cannot leave the range of dates the way adding days to a `Date` formally could.
    let easter = easter_day_of_year(date.year());
    let day = date.day_of_year();
    if day == easter + 1 {
        Some(Holiday::EasterMonday)
    } else if day == easter - 2 && date.year() >= GOOD_FRIDAY_SINCE {
        Some(Holiday::GoodFriday)
    } else {
        None
    }
}

/// Why `date` is not a working day, or `None` if it is one. A holiday on a weekend is reported
/// as the holiday: that is the more telling reason.
pub fn day_off(date: Date) -> Option<DayOff> {
    if let Some(holiday) = is_public_holiday(date) {
        return Some(DayOff::Holiday(holiday));
    }
    match date.weekday() {
        Weekday::Saturday => Some(DayOff::Saturday),
        Weekday::Sunday => Some(DayOff::Sunday),
        _ => None,
    }
}

/// Neither a Saturday, a Sunday nor a day of rest.
pub fn is_working_day(date: Date) -> bool {
    day_off(date).is_none()
}

/// `date` itself if it is a working day, else the next one.
pub fn next_working_day(date: Date) -> Date {
    let mut day = date;
    while !is_working_day(day) {
        // The last representable date, 31 December 9999, is a Friday and no holiday, so the
        // loop always stops before running out of dates; the fallback only keeps this total.
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => return day,
        }
    }
    day
}

/// Easter Sunday of `year` by the Gregorian computus (proleptic before 1583).
///
/// Errors for years outside jiff's range, -9999 to 9999.
pub fn easter_sunday(year: i16) -> Result<Date, DeadlineError> {
    let (month, day) = easter_month_day(year);
    Date::new(year, month, day).map_err(|_| DeadlineError::YearOutOfRange(year))
}

/// Easter Sunday as the day of the year (1 = 1 January).
fn easter_day_of_year(year: i16) -> i16 {
    let (month, day) = easter_month_day(year);
    let leap = year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
    // 31 days of January plus February's 28 or 29 come before 1 March.
    let before_march = 59 + i16::from(leap);
    let before_month = if month == 3 { 0 } else { 31 };
    before_march + before_month + i16::from(day)
}

/// The anonymous Gregorian algorithm (Meeus/Jones/Butcher). Euclidean division keeps every
/// intermediate non-negative, so the result is a day in March or April for any year, negative
/// ones included.
fn easter_month_day(year: i16) -> (i8, i8) {
    let y = i32::from(year);
    let golden = y.rem_euclid(19);
    let century = y.div_euclid(100);
    let year_of_century = y.rem_euclid(100);
    let (leap_centuries, century_rest) = (century.div_euclid(4), century.rem_euclid(4));
    let moon_correction = (century + 8).div_euclid(25);
    let lunar = (century - moon_correction + 1).div_euclid(3);
    let epact = (19 * golden + century - leap_centuries - lunar + 15).rem_euclid(30);
    let (leap_years, year_rest) = (year_of_century.div_euclid(4), year_of_century.rem_euclid(4));
    let to_sunday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest).rem_euclid(7);
    let exception = (golden + 11 * epact + 22 * to_sunday) / 451;
    let n = epact + to_sunday - 7 * exception + 114;
    // n lies in 107..=149, so the month is 3 or 4 and the day 1..=31: both fit in i8.
    ((n / 31) as i8, (n % 31 + 1) as i8)
}
