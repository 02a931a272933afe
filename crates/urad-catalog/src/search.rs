//! Full-text search over the catalogue with tantivy. Text is lower-cased and folded to ASCII
//! (so "kotlikova" finds "Kotlíková"), and every query word also matches by prefix within a
//! small edit distance, which forgives typos and Czech inflection ("dotaci" finds "dotace").

use crate::model::Service;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, TantivyDocument, Term};

const ANALYZER: &str = "folded";
/// Longer queries are cut: nobody types more, and it bounds the cost of a query.
pub const MAX_QUERY_WORDS: usize = 12;

/// A piece of text, marked when it matched the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    pub text: String,
    pub mark: bool,
}

pub struct SearchIndex {
    reader: IndexReader,
    analyzer: TextAnalyzer,
    slug: Field,
    /// Fields with their boost, and whether a word may match them by prefix and with typos.
    /// Keywords match exactly only: each fuzzy field costs an automaton per query word.
    fields: [(Field, f32, bool); 3],
}

impl SearchIndex {
    /// Builds an in-memory index of the services (both languages).
    pub fn build(services: &[Service]) -> tantivy::Result<SearchIndex> {
        let mut builder = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let slug = builder.add_text_field("slug", STRING | STORED);
        let name = builder.add_text_field("name", text.clone());
        let keywords = builder.add_text_field("keywords", text.clone());
        let body = builder.add_text_field("body", text);
        let index = Index::create_in_ram(builder.build());
        let analyzer = analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());

        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        for s in services {
            writer.add_document(doc!(
                slug => s.slug.as_str(),
                name => format!("{}\n{}", s.name.cs, s.name.en),
                keywords => s.keywords.join("\n"),
                body => format!(
                    "{}\n{}\n{}\n{}",
                    s.summary.cs, s.summary.en, s.description.cs, s.description.en
                ),
            ))?;
        }
        writer.commit()?;
        drop(writer);
        let reader = index.reader()?;
        Ok(SearchIndex {
            reader,
            analyzer,
            slug,
            fields: [(name, 4.0, true), (keywords, 2.0, false), (body, 1.0, true)],
        })
    }

    /// The query's words as the index sees them (folded), at most [`MAX_QUERY_WORDS`].
    pub fn terms(&self, query: &str) -> Vec<String> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(query);
        let mut terms = Vec::new();
        while let Some(token) = stream.next() {
            if terms.len() == MAX_QUERY_WORDS {
                break;
            }
            if !terms.contains(&token.text) {
                terms.push(token.text.clone());
            }
        }
        terms
    }

    /// Slugs of the services matching all significant words of the query, best first.
    pub fn search(&self, terms: &[String], limit: usize) -> tantivy::Result<Vec<(String, f32)>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in terms {
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, boost, fuzzy) in self.fields {
                let term = Term::from_field_text(field, word);
                alternatives.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                        boost * 2.0,
                    )),
                ));
                if fuzzy && significant(word) {
                    alternatives.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new_prefix(term, edit_distance(word), true)),
                            boost,
                        )),
                    ));
                }
            }
            // Short words ("o", "na", "ve") only help ranking; every longer word must match.
            let occur = if significant(word) {
                Occur::Must
            } else {
                Occur::Should
            };
            clauses.push((occur, Box::new(BooleanQuery::new(alternatives))));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address)?;
            if let Some(slug) = document.get_first(self.slug).and_then(|v| v.as_str()) {
                hits.push((slug.to_owned(), score));
            }
        }
        Ok(hits)
    }

    /// Splits `text` into fragments, marking the words that match the query's terms the way
    /// the search does (exactly, by prefix, or within the edit distance).
    pub fn highlight(&self, text: &str, terms: &[String]) -> Vec<Fragment> {
        let mut fragments = Vec::new();
        if terms.is_empty() {
            fragments.push(Fragment {
                text: text.to_owned(),
                mark: false,
            });
            return fragments;
        }
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(text);
        let mut last = 0;
        while let Some(token) = stream.next() {
            if token.offset_from < last || !terms.iter().any(|t| word_matches(t, &token.text)) {
                continue;
            }
            if token.offset_from > last {
                fragments.push(Fragment {
                    text: text[last..token.offset_from].to_owned(),
                    mark: false,
                });
            }
            fragments.push(Fragment {
                text: text[token.offset_from..token.offset_to].to_owned(),
                mark: true,
            });
            last = token.offset_to;
        }
        if last < text.len() {
            fragments.push(Fragment {
                text: text[last..].to_owned(),
                mark: false,
            });
        }
        fragments
    }
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

fn significant(word: &str) -> bool {
    word.chars().count() >= 3
}

/// How many typos a word may have: none in short words, more in long ones.
fn edit_distance(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=8 => 1,
        _ => 2,
    }
}

fn word_matches(query: &str, word: &str) -> bool {
    if word == query || (significant(query) && word.starts_with(query)) {
        return true;
    }
    let distance = usize::from(edit_distance(query));
    if distance == 0 {
        return false;
    }
    // Like the prefix fuzzy query: the word or one of its prefixes is near enough.
    let chars: Vec<char> = word.chars().collect();
    let n = query.chars().count();
    (n.saturating_sub(distance)..=(n + distance).min(chars.len())).any(|len| {
        let prefix: String = chars[..len].iter().collect();
        strsim::damerau_levenshtein(query, &prefix) <= distance
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_like_the_index() {
        assert!(word_matches("kotlikova", "kotlikova"));
        assert!(word_matches("kotlikva", "kotlikova"));
        assert!(word_matches("dotaci", "dotace"));
        assert!(word_matches("kotl", "kotlikova"));
        assert!(!word_matches("kotlikova", "kultura"));
        assert!(!word_matches("stk", "sbirka"));
    }
}
