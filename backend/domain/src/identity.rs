//! Identifiers people type in: e-mail addresses, Dutch postcodes, BIG numbers.
//! Each newtype can only be built through its parser, so a value inside the
//! system is always well-formed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a typed-in identifier was refused. The variant names become stable API codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a valid e-mail address")]
    InvalidEmail,
    #[error("not a valid Dutch postcode (expected e.g. 1811 AB)")]
    InvalidPostcode,
    #[error("a BIG number has exactly 11 digits")]
    InvalidBigNumber,
    #[error("unknown language (expected nl or en)")]
    InvalidLanguage,
}

impl ParseError {
    /// Stable snake_case code for API error responses.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::InvalidEmail => "invalid_email",
            ParseError::InvalidPostcode => "invalid_postcode",
            ParseError::InvalidBigNumber => "invalid_big_number",
            ParseError::InvalidLanguage => "invalid_language",
        }
    }
}

/// A lower-cased e-mail address with one `@`, a non-empty local part and a
/// dotted domain. Deliberately modest: the only real check is a mail that arrives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() || s.len() > Self::MAX_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ParseError::InvalidEmail);
        }
        let (local, domain) = s.split_once('@').ok_or(ParseError::InvalidEmail)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(ParseError::InvalidEmail);
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A Dutch postcode in its canonical form `1234 AB`. Accepts `1234ab`,
/// `1234 ab` and surrounding spaces. The first digit is never 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = compact.as_bytes();
        if bytes.len() != 6 {
            return Err(ParseError::InvalidPostcode);
        }
        let digits_ok = bytes[0] != b'0' && bytes[..4].iter().all(u8::is_ascii_digit);
        let letters_ok = bytes[4..].iter().all(u8::is_ascii_alphabetic);
        if !digits_ok || !letters_ok {
            return Err(ParseError::InvalidPostcode);
        }
        Ok(Postcode(format!("{} {}", &compact[..4], compact[4..].to_ascii_uppercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Postcode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Postcode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A number in the Dutch BIG register: exactly 11 digits. The format is all we
/// can check offline; validity on a date comes from the register (CIBG).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BigNumber(String);

impl BigNumber {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(BigNumber(s.to_owned()))
        } else {
            Err(ParseError::InvalidBigNumber)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last three digits hidden, for screens and logs.
    pub fn masked(&self) -> String {
        format!("********{}", &self.0[8..])
    }
}

impl fmt::Display for BigNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// The language of mails and pages. Dutch unless the person chose English.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Nl,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw {
            "nl" => Ok(Language::Nl),
            "en" => Ok(Language::En),
            _ => Err(ParseError::InvalidLanguage),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn postcode_is_canonicalised() {
        assert_eq!(Postcode::parse(" 1781ab ").unwrap().as_str(), "1781 AB");
        assert_eq!(Postcode::parse("2011 HX").unwrap().as_str(), "2011 HX");
    }

    #[test]
    fn postcode_rejects_bad_shapes() {
        for bad in ["0123 AB", "123 AB", "1234 A1", "12345 AB", "", "ABCD 12"] {
            assert_eq!(Postcode::parse(bad), Err(ParseError::InvalidPostcode), "{bad}");
        }
    }

    #[test]
    fn email_is_lowercased_and_checked() {
        assert_eq!(Email::parse(" Anna@Praktijk.NL ").unwrap().as_str(), "anna@praktijk.nl");
        for bad in ["", "no-at", "a@b", "a@@b.nl", "@b.nl", "a@.nl", "a@b..nl", "a b@c.nl"] {
            assert_eq!(Email::parse(bad), Err(ParseError::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn big_number_needs_eleven_digits_and_masks() {
        let n = BigNumber::parse("19012345601").unwrap();
        assert_eq!(n.masked(), "********601");
        assert_eq!(n.to_string(), "********601", "Display must never show the whole number");
        for bad in ["1901234560", "190123456012", "1901234560a", ""] {
            assert_eq!(BigNumber::parse(bad), Err(ParseError::InvalidBigNumber), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_eleven_digits_parse(n in 0u64..100_000_000_000u64) {
            let s = format!("{n:011}");
            let parsed = BigNumber::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }

        #[test]
        fn postcode_parse_is_idempotent(d in 1000u32..10000, a in "[a-zA-Z]{2}") {
            let p = Postcode::parse(&format!("{d}{a}")).unwrap();
            prop_assert_eq!(Postcode::parse(p.as_str()).unwrap(), p);
        }
    }
}
