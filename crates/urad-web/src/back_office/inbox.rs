//! The inbox

use super::*;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/urad", get(|s, q| inbox(s, q, Lang::Cs)))
        .route("/en/office", get(|s, q| inbox(s, q, Lang::En)))
}

#[derive(Deserialize, Default)]
struct InboxQuery {
    #[serde(default)]
    agenda: String,
    #[serde(default)]
    state: String,
    /// `me`, `none` or empty (anybody).
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    overdue: String,
}

struct CaseRow {
    href: String,
    reference: String,
    agenda: String,
    state: String,
    received: String,
    due: String,
    overdue: bool,
    assignee: String,
}

#[derive(Template)]
#[template(path = "back_office/inbox.html")]
struct InboxPage {
    layout: Layout,
    action: String,
    agendas: Vec<Choice>,
    states: Vec<Choice>,
    assignees: Vec<Choice>,
    overdue_only: bool,
    counts: Vec<(String, i64)>,
    overdue: i64,
    rows: Vec<CaseRow>,
    links: Vec<OfficeLink>,
}

async fn inbox(State(state): State<AppState>, Query(q): Query<InboxQuery>, lang: Lang) -> Answer {
    let here = paths::inbox(lang);
    let (_, staff) = staff_member(&state, lang, here)?;
    let office = office(&state, lang)?;
    let tr = Tr::new(lang);
    let filter = InboxFilter {
        agenda: (!q.agenda.is_empty()).then(|| q.agenda.clone()),
        state: (!q.state.is_empty()).then(|| q.state.clone()),
        assignee: match q.assignee.as_str() {
            "me" => Some(staff.person_id.clone()),
            "none" => Some(String::new()),
            _ => None,
        },
        overdue_only: q.overdue == "1",
        open_only: false,
    };
    let found = cases::inbox(&state.db, state.clock.as_ref(), &staff, &filter, 200)
        .await
        .map_err(|e| failed(&state, lang, &HeaderMap::new(), &e))?;
    let now = state.clock.now();
    let mut states: Vec<Choice> = Vec::new();
    for agenda in staff.agendas() {
        for s in &office.workflow(agenda).states {
            if !states.iter().any(|c| c.value == s.key) {
                states.push(Choice {
                    value: s.key.clone(),
                    label: s.name.get(lang).to_owned(),
                    selected: q.state == s.key,
                });
            }
        }
    }
    let counts = found
        .counts
        .iter()
        .map(|(s, n)| {
            let label = states
                .iter()
                .find(|c| &c.value == s)
                .map_or_else(|| s.clone(), |c| c.label.clone());
            (label, *n)
        })
        .collect();
    let page = InboxPage {
        layout: layout(
            &state,
            lang,
            tr.ts("office-inbox-title"),
            paths::inbox(lang.other()).into(),
        ),
        action: here.into(),
        agendas: staff
            .agendas()
            .into_iter()
            .map(|a| Choice {
                value: a.to_owned(),
                label: agenda_name(&state, a, lang),
                selected: q.agenda == a,
            })
            .collect(),
        states,
        assignees: [
            ("", "office-anybody"),
            ("me", "office-me"),
            ("none", "office-nobody"),
        ]
        .into_iter()
        .map(|(v, k)| Choice {
            value: v.into(),
            label: tr.ts(k),
            selected: q.assignee == v,
        })
        .collect(),
        overdue_only: filter.overdue_only,
        counts,
        overdue: found.overdue,
        rows: found
            .cases
            .iter()
            .map(|c| CaseRow {
                href: paths::case(lang, &c.id),
                reference: c.reference.clone(),
                agenda: agenda_name(&state, &c.agenda, lang),
                state: state_name(&office, c, lang),
                received: prague_time(c.opened_at, lang),
                due: day_text(&c.due_last_day, lang),
                overdue: c.is_overdue(now),
                assignee: match &c.assignee_id {
                    Some(a) if *a == staff.person_id => tr.ts("office-me"),
                    Some(_) => tr.ts("office-someone"),
                    None => tr.ts("office-nobody"),
                },
            })
            .collect(),
        links: office_links(&staff, lang),
    };
    Ok(no_store(render(StatusCode::OK, &page)))
}
