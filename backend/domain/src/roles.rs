//! Professions, registers, membership roles and engagement types: closed sets
//! from the domain, each with a stable snake_case code used in the database and API.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $code)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { kind: stringify!($name), code: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

/// A code that is not one of the known values of a closed set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code {code:?}")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub code: String,
}

code_enum! {
    /// What a care worker does (see docs: roles and registrations).
    Profession {
        Gp => "gp",
        NursePractitioner => "nurse_practitioner",
        PhysicianAssistant => "physician_assistant",
        PohS => "poh_s",
        PohGgz => "poh_ggz",
        Assistant => "assistant",
        TriageAssistant => "triage_assistant",
        PracticeManager => "practice_manager",
    }
}

impl Profession {
    /// Registers whose entry a person of this profession must hold before deployment.
    pub fn required_registers(self) -> &'static [Register] {
        match self {
            Profession::Gp => &[Register::Big],
            Profession::NursePractitioner | Profession::PhysicianAssistant => &[Register::Big],
            Profession::PohGgz => &[Register::KwaliteitsregisterPohGgz],
            Profession::PohS | Profession::Assistant | Profession::TriageAssistant | Profession::PracticeManager => &[],
        }
    }
}

code_enum! {
    /// Public registers a registration can live in.
    Register {
        Big => "big",
        KnmgGp => "knmg_gp",
        KwaliteitsregisterPohGgz => "kwaliteitsregister_poh_ggz",
        Nvvpo => "nvvpo",
        Kabiz => "kabiz",
        Nvda => "nvda",
    }
}

code_enum! {
    /// Where a registration stands. Only `verified` counts for matching; an
    /// outage of the register leaves it `pending`, never `verified`.
    RegistrationStatus {
        Pending => "pending",
        Verified => "verified",
        Suspended => "suspended",
        Expired => "expired",
        Rejected => "rejected",
    }
}

code_enum! {
    /// What a membership lets a user do, and where.
    MembershipRole {
        Worker => "worker",
        PracticeManager => "practice_manager",
        Coordinator => "coordinator",
        Admin => "admin",
    }
}

code_enum! {
    /// How a person is engaged for a shift.
    EngagementType {
        Freelance => "freelance",
        Secondment => "secondment",
        TemporaryEmployment => "temporary_employment",
        Exchange => "exchange",
    }
}

code_enum! {
    /// Who employs a worker: themselves (freelance), a practice, or the RHO pool.
    EmployerKind {
        SelfEmployed => "self",
        Practice => "practice",
        RhoPool => "rho_pool",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_from_str_and_serde() {
        for p in Profession::ALL {
            assert_eq!(p.code().parse::<Profession>().unwrap(), *p);
            let json = serde_json::to_string(p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.code()));
        }
        for r in MembershipRole::ALL {
            assert_eq!(r.code().parse::<MembershipRole>().unwrap(), *r);
        }
        assert_eq!(EmployerKind::SelfEmployed.code(), "self");
        assert_eq!(serde_json::to_string(&EmployerKind::SelfEmployed).unwrap(), "\"self\"");
    }

    #[test]
    fn unknown_codes_are_refused() {
        let err = "surgeon".parse::<Profession>().unwrap_err();
        assert_eq!(err.kind, "Profession");
    }

    #[test]
    fn gps_need_a_big_registration() {
        assert_eq!(Profession::Gp.required_registers(), &[Register::Big]);
        assert!(Profession::Assistant.required_registers().is_empty());
    }
}
