//! Who in the office may see and do what. Staff roles come from the `groups` claim of the
//! office's staff identity provider (through the identity gateway, like every sign-in):
//!
//! | group | role |
//! | --- | --- |
//! | `registry_clerk` | keeps the registry journal: sees everything received (its metadata), reassigns it to an agenda; does not read case files |
//! | `official:<agenda>` | handles the cases of that agenda |
//! | `agenda_lead:<agenda>` | as an official of that agenda, and watches its load, deadlines and records |
//! | `administrator` | runs the platform: the records hand-off queue and the audit log, not case contents |
//!
//! Every check is made here, on the server, for every resource; pages and the API only ask.
//! Nobody reaches personal data by role alone: an official reads a case because it belongs to
//! one of their agendas, and every such read is recorded in the access log.

use serde::{Deserialize, Serialize};

/// A staff role, without its agenda (as workflows name who may take a transition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    RegistryClerk,
    Official,
    AgendaLead,
    Administrator,
}

impl StaffRole {
    pub fn code(self) -> &'static str {
        match self {
            StaffRole::RegistryClerk => "registry_clerk",
            StaffRole::Official => "official",
            StaffRole::AgendaLead => "agenda_lead",
            StaffRole::Administrator => "administrator",
        }
    }
}

/// One grant of a role, to an agenda where the role has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    RegistryClerk,
    Official(String),
    AgendaLead(String),
    Administrator,
}

impl Grant {
    /// Reads one group name; groups that are not the office's roles are ignored (a staff
    /// provider lists many).
    pub fn from_group(group: &str) -> Option<Grant> {
        let agenda = |a: &str| {
            (!a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
            .then(|| a.to_owned())
        };
        match group.split_once(':') {
            None if group == "registry_clerk" => Some(Grant::RegistryClerk),
            None if group == "administrator" => Some(Grant::Administrator),
            Some(("official", a)) => agenda(a).map(Grant::Official),
            Some(("agenda_lead", a)) => agenda(a).map(Grant::AgendaLead),
            _ => None,
        }
    }

    pub fn role(&self) -> StaffRole {
        match self {
            Grant::RegistryClerk => StaffRole::RegistryClerk,
            Grant::Official(_) => StaffRole::Official,
            Grant::AgendaLead(_) => StaffRole::AgendaLead,
            Grant::Administrator => StaffRole::Administrator,
        }
    }
}

/// A signed-in member of staff and their grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub person_id: String,
    /// As the identity gives it; shown to citizens whose data they read.
    pub name: String,
    pub grants: Vec<Grant>,
}

/// What someone wants to reach.
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    /// The registry journal: everything received, with its metadata.
    RegistryJournal,
    /// A case file of an agenda, with the applicant's data and documents.
    Case { agenda: &'a str },
    /// A submission as received, with its data and attachments.
    Submission { agenda: &'a str },
    /// An agenda's dashboard: counts and deadlines, no personal data.
    Dashboard { agenda: &'a str },
    /// The access log of everybody.
    AuditLog,
    /// The queue of hand-offs to the records-management system.
    RecordsQueue,
    /// The outgoing e-mail: addresses and texts of notices to citizens.
    MailQueue,
}

/// What they want to do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Change: move a case, add a note, assign, reassign, request completion, decide.
    Change,
}

impl Staff {
    /// The staff member behind a session's claims, when any of its groups is an office role.
    pub fn from_claims(person_id: &str, claims: &serde_json::Value) -> Option<Staff> {
        let grants: Vec<Grant> = claims
            .get("groups")
            .and_then(|g| g.as_array())
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str())
            .filter_map(Grant::from_group)
            .collect();
        let text = |k: &str| claims.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let name = match text("name") {
            "" => format!("{} {}", text("given_name"), text("family_name"))
                .trim()
                .to_owned(),
            name => name.to_owned(),
        };
        (!grants.is_empty()).then(|| Staff {
            person_id: person_id.to_owned(),
            name,
            grants,
        })
    }

    fn has(&self, wanted: impl Fn(&Grant) -> bool) -> bool {
        self.grants.iter().any(wanted)
    }

    /// The agendas whose cases this person handles (as official or lead).
    pub fn agendas(&self) -> Vec<&str> {
        let mut agendas: Vec<&str> = self
            .grants
            .iter()
            .filter_map(|g| match g {
                Grant::Official(a) | Grant::AgendaLead(a) => Some(a.as_str()),
                _ => None,
            })
            .collect();
        agendas.sort_unstable();
        agendas.dedup();
        agendas
    }

    /// The roles this person holds in `agenda` (for a workflow's transitions).
    pub fn roles_in(&self, agenda: &str) -> Vec<StaffRole> {
        self.grants
            .iter()
            .filter(|g| match g {
                Grant::Official(a) | Grant::AgendaLead(a) => a == agenda,
                _ => false,
            })
            .map(Grant::role)
            .collect()
    }

    /// The role to record for an act in `agenda`: the strongest held there.
    pub fn role_code_in(&self, agenda: &str) -> &'static str {
        let roles = self.roles_in(agenda);
        if roles.contains(&StaffRole::AgendaLead) {
            StaffRole::AgendaLead.code()
        } else if roles.contains(&StaffRole::Official) {
            StaffRole::Official.code()
        } else {
            self.grants.first().map_or("staff", |g| g.role().code())
        }
    }

    pub fn may(&self, access: Access, resource: Resource<'_>) -> bool {
        let handles = |agenda: &str| {
            self.has(|g| matches!(g, Grant::Official(a) | Grant::AgendaLead(a) if a == agenda))
        };
        match resource {
            // The clerk keeps it (reassigning is a change of the journal entry).
            Resource::RegistryJournal => self.has(|g| *g == Grant::RegistryClerk),
            Resource::Case { agenda } | Resource::Submission { agenda } => handles(agenda),
            Resource::Dashboard { agenda } => {
                access == Access::Read
                    && self.has(|g| matches!(g, Grant::AgendaLead(a) if a == agenda))
            }
            Resource::AuditLog => {
                access == Access::Read && self.has(|g| *g == Grant::Administrator)
            }
            Resource::RecordsQueue => {
                self.has(|g| matches!(g, Grant::Administrator | Grant::AgendaLead(_)))
            }
            // Personal data of everybody's notices: the administrator alone.
            Resource::MailQueue => self.has(|g| *g == Grant::Administrator),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn staff(groups: &[&str]) -> Staff {
        Staff::from_claims("p", &json!({ "groups": groups })).unwrap()
    }

    #[test]
    fn groups_become_grants_and_foreign_groups_are_ignored() {
        let s = staff(&[
            "official:grants",
            "agenda_lead:health",
            "vpn-users",
            "official:",
        ]);
        assert_eq!(
            s.grants,
            [
                Grant::Official("grants".into()),
                Grant::AgendaLead("health".into())
            ]
        );
        assert_eq!(s.agendas(), ["grants", "health"]);
        assert_eq!(s.roles_in("health"), [StaffRole::AgendaLead]);
        assert!(Staff::from_claims("p", &json!({ "groups": ["vpn-users"] })).is_none());
        assert!(Staff::from_claims("p", &json!({})).is_none());
        assert!(Grant::from_group("official:Grants").is_none());
        assert!(Grant::from_group("official:../x").is_none());
    }

    /// Every role against every kind of resource, in its own agenda and another's.
    #[test]
    fn the_access_matrix_holds_for_every_role_and_resource() {
        use Access::{Change as C, Read as R};
        let clerk = staff(&["registry_clerk"]);
        let official = staff(&["official:grants"]);
        let lead = staff(&["agenda_lead:grants"]);
        let admin = staff(&["administrator"]);
        let own = "grants";
        let other = "health";
        #[rustfmt::skip]
        let matrix: &[(&str, Resource, [bool; 8])] = &[
            // resource                                  clerk R/C   official R/C  lead R/C     admin R/C
            ("journal",         Resource::RegistryJournal,         [true, true,  false, false, false, false, false, false]),
            ("own case",        Resource::Case { agenda: own },    [false, false, true, true,  true, true,   false, false]),
            ("other's case",    Resource::Case { agenda: other },  [false, false, false, false, false, false, false, false]),
            ("own submission",  Resource::Submission { agenda: own },   [false, false, true, true, true, true, false, false]),
            ("other's submission", Resource::Submission { agenda: other }, [false, false, false, false, false, false, false, false]),
            ("own dashboard",   Resource::Dashboard { agenda: own },    [false, false, false, false, true, false, false, false]),
            ("other dashboard", Resource::Dashboard { agenda: other },  [false, false, false, false, false, false, false, false]),
            ("audit log",       Resource::AuditLog,                [false, false, false, false, false, false, true, false]),
            ("records queue",   Resource::RecordsQueue,            [false, false, false, false, true, true,   true, true]),
            ("mail queue",      Resource::MailQueue,               [false, false, false, false, false, false, true, true]),
        ];
        for (name, resource, expected) in matrix {
            for (i, who) in [&clerk, &official, &lead, &admin].into_iter().enumerate() {
                for (j, access) in [R, C].into_iter().enumerate() {
                    assert_eq!(
                        who.may(access, *resource),
                        expected[i * 2 + j],
                        "{:?} {access:?} {name}",
                        who.grants
                    );
                }
            }
        }
    }
}
