//! eIDAS levels of assurance, as the ID token's `acr` carries them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How sure the office is of who someone is. Ordered: `Low < Substantial < High`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loa {
    Low,
    Substantial,
    High,
}

impl Loa {
    pub const ALL: [Loa; 3] = [Loa::Low, Loa::Substantial, Loa::High];

    pub fn code(self) -> &'static str {
        match self {
            Loa::Low => "low",
            Loa::Substantial => "substantial",
            Loa::High => "high",
        }
    }

    /// The `acr` value: the eIDAS URI.
    pub fn uri(self) -> &'static str {
        match self {
            Loa::Low => "http://eidas.europa.eu/LoA/low",
            Loa::Substantial => "http://eidas.europa.eu/LoA/substantial",
            Loa::High => "http://eidas.europa.eu/LoA/high",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Loa> {
        Loa::ALL.into_iter().find(|l| l.uri() == uri)
    }
}

impl fmt::Display for Loa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Loa {
    type Err = String;
    fn from_str(s: &str) -> Result<Loa, String> {
        Loa::ALL.into_iter().find(|l| l.code() == s).ok_or_else(|| {
            format!("unknown level of assurance `{s}`; use low, substantial or high")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_round_trip() {
        assert!(Loa::Low < Loa::Substantial && Loa::Substantial < Loa::High);
        for l in Loa::ALL {
            assert_eq!(Loa::from_uri(l.uri()), Some(l));
            assert_eq!(l.code().parse::<Loa>(), Ok(l));
        }
        assert_eq!(
            Loa::from_uri("http://eidas.europa.eu/LoA/NotNotified/high"),
            None
        );
        assert!("medium".parse::<Loa>().is_err());
    }
}
