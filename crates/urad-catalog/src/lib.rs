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
    /// Service indexes sorted by name, per language (`Lang::Cs`, `Lang::En`).
    alphabetical: [Vec<usize>; 2],
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

/// The services that match a query, best first; mark matches with [`Found::hit`].
pub struct Found<'a> {
    pub services: Vec<&'a Service>,
    terms: Vec<String>,
    index: &'a SearchIndex,
}

impl<'a> Found<'a> {
    /// The service with the words that matched the search marked in its name and summary.
    pub fn hit(&self, service: &'a Service, lang: Lang) -> Hit<'a> {
        Hit {
            service,
            name: self.index.highlight(service.name.get(lang), &self.terms),
            summary: self.index.highlight(service.summary.get(lang), &self.terms),
        }
    }
}

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
        let alphabetical = Lang::ALL.map(|lang| {
            let mut order: Vec<usize> = (0..data.services.len()).collect();
            order.sort_by_cached_key(|&i| sort_key(data.services[i].name.get(lang)));
            order
        });
        Ok(Catalog {
            office: data.office,
            agendas: data.agendas,
            situations: data.situations,
            services: data.services,
            by_slug,
            popular,
            alphabetical,
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
    pub fn find(&self, filters: &Filters, lang: Lang) -> Found<'_> {
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
        let services = if filters.q.is_some() {
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
            let order = &self.alphabetical[match lang {
                Lang::Cs => 0,
                Lang::En => 1,
            }];
            order
                .iter()
                .map(|&i| &self.services[i])
                .filter(|s| keep(s))
                .collect()
        };
        Found {
            services,
            terms,
            index: &self.index,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::LazyLock;

    static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
        let dir = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test"))
            .join("../../content");
        Catalog::new(ContentSource::read_dir(&dir).unwrap().validate().unwrap()).unwrap()
    });

    fn first(q: &str) -> String {
        let f = Filters {
            q: Some(q.into()),
            ..Filters::default()
        };
        CATALOG
            .find(&f, Lang::Cs)
            .services
            .first()
            .map(|s| s.slug.clone())
            .unwrap_or_default()
    }

    #[test]
    fn search_finds_services_by_their_names_in_any_spelling() {
        assert_eq!(first("Kotlíková dotace"), "kotlikova-dotace");
        assert_eq!(first("kotlikova dotace"), "kotlikova-dotace");
        assert_eq!(first("KOTLIKOVA"), "kotlikova-dotace");
        assert_eq!(first("kotlikva dotace"), "kotlikova-dotace"); // a typo
        assert_eq!(first("kotlikove dotaci"), "kotlikova-dotace"); // inflected
        assert_eq!(first("boiler grant"), "kotlikova-dotace"); // English
        assert_eq!(first("verejna sbirka"), "verejna-sbirka");
        assert_eq!(first("zapisovy listek"), "zapisovy-listek");
        assert_eq!(first("overeni podpisu"), "overeni-podpisu");
        assert_eq!(first("statni obcanstvi"), "statni-obcanstvi");
        assert_eq!(first("obcanstvy"), "statni-obcanstvi");
        assert_eq!(first("stanice technicke kontroly"), "osvedceni-stk");
        assert_eq!(first("qqqqqqqq"), "");
    }

    #[test]
    fn short_words_do_not_exclude_results() {
        // "o" and "na" are in no service name; they must not empty the result.
        assert_eq!(first("žádost o kotlíkovou dotaci"), "kotlikova-dotace");
    }

    #[test]
    fn matches_are_marked_in_the_original_spelling() {
        let f = Filters {
            q: Some("kotlikova".into()),
            ..Filters::default()
        };
        let found = CATALOG.find(&f, Lang::Cs);
        let hit = found.hit(found.services[0], Lang::Cs);
        let marked: Vec<&str> = hit
            .name
            .iter()
            .filter(|f| f.mark)
            .map(|f| f.text.as_str())
            .collect();
        assert_eq!(marked, vec!["Kotlíková"]);
        let text: String = hit.name.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(text, "Kotlíková dotace");
    }

    #[test]
    fn filters_narrow_and_combine() {
        let all = CATALOG.find(&Filters::default(), Lang::Cs).services.len();
        assert_eq!(all, CATALOG.services().len());
        let f = Filters {
            applicant: Some(ApplicantType::Municipality),
            channel: Some(ChannelFilter::Online),
            ..Filters::default()
        };
        let hits = CATALOG.find(&f, Lang::Cs).services;
        assert!(!hits.is_empty() && hits.len() < all);
        for h in &hits {
            assert!(h.applicant_types.contains(&ApplicantType::Municipality));
            assert!(h.channel.is_online());
        }
        let f = Filters {
            situation: Some("grants-and-funding".into()),
            q: Some("dotace".into()),
            ..Filters::default()
        };
        for h in CATALOG.find(&f, Lang::Cs).services {
            assert!(h.life_situations.iter().any(|s| s == "grants-and-funding"));
        }
    }

    #[test]
    fn catalogue_is_sorted_alphabetically_with_czech_letters_in_place() {
        let names: Vec<String> = CATALOG
            .find(&Filters::default(), Lang::Cs)
            .services
            .iter()
            .map(|s| sort_key(&s.name.cs))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(sort_key("Čistota") < sort_key("Dotace"));
    }

    #[test]
    fn filter_parameters_are_validated() {
        let ok = CATALOG
            .parse_filters([
                ("applicant", "company"),
                ("channel", "in_person"),
                ("agenda", "health"),
                ("q", "  x  "),
                ("utm_source", "news"),
            ])
            .unwrap();
        assert_eq!(ok.applicant, Some(ApplicantType::Company));
        assert_eq!(ok.q.as_deref(), Some("x"));
        assert_eq!(
            CATALOG.parse_filters([("applicant", "")]).unwrap(),
            Filters::default()
        );
        assert_eq!(
            CATALOG.parse_filters([("applicant", "alien")]),
            Err(FilterError::Applicant("alien".into()))
        );
        assert_eq!(
            CATALOG.parse_filters([("situation", "x")]),
            Err(FilterError::Situation("x".into()))
        );
        assert_eq!(
            CATALOG.parse_filters([("agenda", "x")]),
            Err(FilterError::Agenda("x".into()))
        );
        assert_eq!(
            CATALOG.parse_filters([("channel", "both")]),
            Err(FilterError::Channel("both".into()))
        );
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert!(matches!(
            CATALOG.parse_filters([("q", long.as_str())]),
            Err(FilterError::QueryTooLong { .. })
        ));
    }
}
