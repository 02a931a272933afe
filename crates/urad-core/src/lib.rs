//! Shared vocabulary of urad: the languages the portal speaks, text in both of them, and the
//! kinds of applicants and channels every part of the office talks about.

pub mod content;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A language of the user interface. Czech first, English second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Cs,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Cs, Lang::En];

    /// BCP 47 tag, as used in `lang` attributes and Fluent.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Cs => "cs",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Cs => Lang::En,
            Lang::En => Lang::Cs,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Text that people read, in both languages. Content files must give both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub cs: String,
    pub en: String,
}

impl Text {
    pub fn new(cs: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            cs: cs.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Cs => &self.cs,
            Lang::En => &self.en,
        }
    }
}

/// Error returned when a closed vocabulary value is not one of the allowed ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`; allowed: {allowed}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub allowed: String,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $kind:literal, { $($variant:ident => $code:literal, $cs:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable code used in content files, URLs and the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// Human name in the given language.
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, Lang::Cs) => $cs, ($name::$variant, Lang::En) => $en,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        kind: $kind,
                        value: s.to_owned(),
                        allowed: [$($code),+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary!(
    /// Who may use a service.
    ApplicantType, "applicant type", {
        Citizen => "citizen", "Občan", "Citizen";
        SoleTrader => "sole_trader", "Podnikatel – fyzická osoba", "Sole trader";
        Company => "company", "Právnická osoba", "Company or organisation";
        Municipality => "municipality", "Obec", "Municipality";
    }
);

vocabulary!(
    /// How a service is used: online, only in person, or either.
    Channel, "channel", {
        Online => "online", "Online", "Online";
        InPerson => "in_person", "Pouze osobně", "In person only";
        Both => "both", "Online i osobně", "Online or in person";
    }
);

impl Channel {
    pub fn is_online(self) -> bool {
        matches!(self, Channel::Online | Channel::Both)
    }

    pub fn is_in_person(self) -> bool {
        matches!(self, Channel::InPerson | Channel::Both)
    }
}

/// How a person wants to use a service; the catalogue filter. `Online` matches services that
/// can be used online (also those offering both), `InPerson` those that can be used at the office.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelFilter {
    Online,
    InPerson,
}

impl ChannelFilter {
    pub const ALL: &'static [ChannelFilter] = &[ChannelFilter::Online, ChannelFilter::InPerson];

    pub fn code(self) -> &'static str {
        match self {
            ChannelFilter::Online => "online",
            ChannelFilter::InPerson => "in_person",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (ChannelFilter::Online, Lang::Cs) => "Lze vyřídit online",
            (ChannelFilter::Online, Lang::En) => "Can be done online",
            (ChannelFilter::InPerson, Lang::Cs) => "Vyřizuje se osobně",
            (ChannelFilter::InPerson, Lang::En) => "Done in person",
        }
    }

    pub fn matches(self, channel: Channel) -> bool {
        match self {
            ChannelFilter::Online => channel.is_online(),
            ChannelFilter::InPerson => channel.is_in_person(),
        }
    }
}

impl FromStr for ChannelFilter {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "online" => Ok(ChannelFilter::Online),
            "in_person" => Ok(ChannelFilter::InPerson),
            _ => Err(UnknownValue {
                kind: "channel",
                value: s.to_owned(),
                allowed: "online, in_person".into(),
            }),
        }
    }
}

/// An amount of money in whole Czech crowns. Never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Czk(pub i64);

impl Czk {
    /// Formats with Czech thousands separators (a non-breaking space): `2 000 Kč`.
    pub fn display(self, lang: Lang) -> String {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(match lang {
                    Lang::Cs => '\u{a0}',
                    Lang::En => ',',
                });
            }
            grouped.push(ch);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        match lang {
            Lang::Cs => format!("{sign}{grouped}\u{a0}Kč"),
            Lang::En => format!("CZK\u{a0}{sign}{grouped}"),
        }
    }
}

/// Where "now" comes from. Injected everywhere time matters, so tests move time instead of
/// sleeping. Instants are whole seconds since the Unix epoch, UTC.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn at(now: i64) -> ManualClock {
        ManualClock(std::sync::atomic::AtomicI64::new(now))
    }

    pub fn advance(&self, seconds: i64) {
        self.0
            .fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Bytes as lowercase hexadecimal (digests in receipts, ETags, stored hashes).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn vocabulary_round_trips_and_rejects_unknown() {
        for t in ApplicantType::ALL {
            assert_eq!(t.code().parse::<ApplicantType>().unwrap(), *t);
        }
        let err = "alien".parse::<ApplicantType>().unwrap_err();
        assert_eq!(err.value, "alien");
        assert!(err.allowed.contains("sole_trader"));
        assert!(err.to_string().contains("unknown applicant type `alien`"));
    }

    #[test]
    fn channel_filter_matches_both() {
        assert!(ChannelFilter::Online.matches(Channel::Both));
        assert!(ChannelFilter::InPerson.matches(Channel::Both));
        assert!(!ChannelFilter::Online.matches(Channel::InPerson));
        assert!(!ChannelFilter::InPerson.matches(Channel::Online));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(60);
        assert_eq!(clock.now(), 1_060);
        assert!(SystemClock.now() > 1_700_000_000);
    }

    #[test]
    fn money_is_grouped_per_language() {
        assert_eq!(Czk(2000).display(Lang::Cs), "2\u{a0}000\u{a0}Kč");
        assert_eq!(Czk(1_234_567).display(Lang::En), "CZK\u{a0}1,234,567");
        assert_eq!(Czk(30).display(Lang::Cs), "30\u{a0}Kč");
    }
}
