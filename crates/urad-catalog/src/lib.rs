//! The service catalogue: every service of the office, what it is, who may use it, how.
//!
//! Services are written as content files (`content/`), validated by [`content`], stored by
//! [`store`] and served from an immutable in-memory [`Catalog`] with a full-text index.

pub mod content;
pub mod model;
pub mod search;
pub mod store;

pub use content::{ContentError, ContentErrors, ContentSource};
pub use model::*;
pub use search::{Fragment, SearchIndex};

use std::collections::HashMap;
use urad_core::{ApplicantType, ChannelFilter, Lang};

/// A loaded catalogue with its search index. Immutable; rebuilt when the content changes.
pub struct Catalog {
    pub office: Office,
    pub agendas: Vec<Agenda>,
    pub situations: Vec<LifeSituation>,
    services: Vec<Service>,
    by_slug: HashMap<String, usize>,
    /// Service indexes sorted by popularity, most used first.
    popular: Vec<usize>,
    index: SearchIndex,
}

/// What a person asked the catalogue for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub q: Option<String>,
    pub applicant: Option<ApplicantType>,
    pub situation: Option<String>,
    pub agenda: Option<String>,
    pub channel: Option<ChannelFilter>,
}

/// Why a catalogue query was refused; shown to people in their language by the web layer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown applicant type `{0}`")]
    Applicant(String),
    #[error("unknown life situation `{0}`")]
    Situation(String),
    #[error("unknown agenda `{0}`")]
    Agenda(String),
    #[error("unknown channel `{0}`")]
    Channel(String),
    #[error("the search text is longer than {max} characters")]
    QueryTooLong { max: usize },
}

pub const MAX_QUERY_CHARS: usize = 200;

/// One service in a result list, with the parts that matched the search marked.
pub struct Hit<'a> {
    pub service: &'a Service,
    pub name: Vec<Fragment>,
    pub summary: Vec<Fragment>,
}

impl Catalog {
    pub fn new(data: CatalogData) -> tantivy::Result<Catalog> {
        let index = SearchIndex::build(&data.services)?;
        let by_slug = data
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.slug.clone(), i))
            .collect();
        let mut popular: Vec<usize> = (0..data.services.len()).collect();
        popular.sort_by_key(|&i| std::cmp::Reverse(data.services[i].popularity));
        Ok(Catalog {
            office: data.office,
            agendas: data.agendas,
            situations: data.situations,
            services: data.services,
            by_slug,
            popular,
            index,
        })
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn service(&self, slug: &str) -> Option<&Service> {
        self.by_slug.get(slug).map(|&i| &self.services[i])
    }

    pub fn agenda(&self, key: &str) -> Option<&Agenda> {
        self.agendas.iter().find(|a| a.key == key)
    }

    pub fn situation(&self, key: &str) -> Option<&LifeSituation> {
        self.situations.iter().find(|s| s.key == key)
    }

    /// The most used services.
    pub fn popular(&self, n: usize) -> impl Iterator<Item = &Service> {
        self.popular.iter().take(n).map(|&i| &self.services[i])
    }

    /// Reads filters from query parameters (`q`, `applicant`, `situation`, `agenda`,
    /// `channel`); empty values mean "any", other parameters are left to the caller.
    pub fn parse_filters<'a>(
        &self,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Filters, FilterError> {
        let mut f = Filters::default();
        for (key, value) in params {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "q" => {
                    if value.chars().count() > MAX_QUERY_CHARS {
                        return Err(FilterError::QueryTooLong {
                            max: MAX_QUERY_CHARS,
                        });
                    }
                    f.q = Some(value.to_owned());
                }
                "applicant" => {
                    f.applicant = Some(
                        value
                            .parse()
                            .map_err(|_| FilterError::Applicant(value.to_owned()))?,
                    )
                }
                "situation" => {
                    self.situation(value)
                        .ok_or_else(|| FilterError::Situation(value.to_owned()))?;
                    f.situation = Some(value.to_owned());
                }
                "agenda" => {
                    self.agenda(value)
                        .ok_or_else(|| FilterError::Agenda(value.to_owned()))?;
                    f.agenda = Some(value.to_owned());
                }
                "channel" => {
                    f.channel = Some(
                        value
                            .parse()
                            .map_err(|_| FilterError::Channel(value.to_owned()))?,
                    )
                }
                _ => {}
            }
        }
        Ok(f)
    }

    /// Services matching the filters: by relevance when there is a search text, otherwise
    /// alphabetically by name in the given language.
    pub fn find(&self, filters: &Filters, lang: Lang) -> Vec<Hit<'_>> {
        let keep = |s: &Service| {
            filters
                .applicant
                .is_none_or(|a| s.applicant_types.contains(&a))
                && filters
                    .situation
                    .as_ref()
                    .is_none_or(|k| s.life_situations.contains(k))
                && filters.agenda.as_ref().is_none_or(|k| &s.agenda == k)
                && filters.channel.is_none_or(|c| c.matches(s.channel))
        };
        let terms = filters
            .q
            .as_deref()
            .map(|q| self.index.terms(q))
            .unwrap_or_default();
        let services: Vec<&Service> = if filters.q.is_some() {
            match self.index.search(&terms, self.services.len().max(1)) {
                Ok(hits) => hits
                    .iter()
                    .filter_map(|(slug, _)| self.service(slug))
                    .filter(|s| keep(s))
                    .collect(),
                Err(e) => {
                    tracing::error!(error = %e, "search failed");
                    Vec::new()
                }
            }
        } else {
            let mut all: Vec<&Service> = self.services.iter().filter(|s| keep(s)).collect();
            all.sort_by_cached_key(|s| sort_key(s.name.get(lang)));
            all
        };
        services
            .into_iter()
            .map(|service| Hit {
                service,
                name: self.index.highlight(service.name.get(lang), &terms),
                summary: self.index.highlight(service.summary.get(lang), &terms),
            })
            .collect()
    }
}

/// Sorting key that puts "Č" next to "C" rather than after "Z".
fn sort_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for ch in name.chars().flat_map(char::to_lowercase) {
        key.push(match ch {
            'á' => 'a',
            'č' => 'c',
            'ď' => 'd',
            'é' | 'ě' => 'e',
            'í' => 'i',
            'ň' => 'n',
            'ó' => 'o',
            'ř' => 'r',
            'š' => 's',
            'ť' => 't',
            'ú' | 'ů' => 'u',
            'ý' => 'y',
            'ž' => 'z',
            other => other,
        });
    }
    key
}
