//! User-interface texts in Czech and English, from Fluent files in `locales/`.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;
use urad_core::Lang;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "cs",
        // No Unicode isolation marks around arguments: they end up in <title> and attributes.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static IDS: LazyLock<[LanguageIdentifier; 2]> = LazyLock::new(|| {
    [
        "cs".parse().expect("valid language id"),
        "en".parse().expect("valid language id"),
    ]
});

fn id(lang: Lang) -> &'static LanguageIdentifier {
    &IDS[match lang {
        Lang::Cs => 0,
        Lang::En => 1,
    }]
}

/// The messages without arguments, resolved once per language: pages use dozens of them per
/// request, and formatting each through Fluent every time cost more than rendering the page.
static PLAIN: LazyLock<[HashMap<&'static str, &'static str>; 2]> = LazyLock::new(|| {
    let resolve = |lang: Lang, file: &'static str| {
        message_ids(file)
            .filter_map(|key| {
                let text = LOCALES.try_lookup(id(lang), key)?;
                Some((key, &*Box::leak(text.into_boxed_str())))
            })
            .collect()
    };
    [
        resolve(Lang::Cs, include_str!("../locales/cs/main.ftl")),
        resolve(Lang::En, include_str!("../locales/en/main.ftl")),
    ]
});

/// Message ids defined in a Fluent file (lines `id = …` at the start of a line).
fn message_ids(file: &'static str) -> impl Iterator<Item = &'static str> {
    file.lines()
        .filter(|l| !l.starts_with([' ', '#', '-', '\t', '*', '[', '}']) && l.contains(" ="))
        .filter_map(|l| l.split(" =").next())
        .map(str::trim)
}

/// Translator for one request's language; templates call `tr.t("message-id")`.
#[derive(Clone, Copy, Debug)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The message `key`; a missing message shows its id (and a test catches it).
    pub fn t<'k>(&self, key: &'k str) -> &'k str {
        let index = match self.lang {
            Lang::Cs => 0,
            Lang::En => 1,
        };
        PLAIN[index].get(key).copied().unwrap_or_else(|| {
            tracing::warn!(key, lang = %self.lang, "missing translation");
            key
        })
    }

    /// The message `key` as an owned string.
    pub fn ts(&self, key: &str) -> String {
        self.t(key).to_owned()
    }

    /// The message `key` with two arguments.
    pub fn t2(
        &self,
        key: &str,
        a: &str,
        a_value: impl Into<FluentArg>,
        b: &str,
        b_value: impl Into<FluentArg>,
    ) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Owned(a.to_owned()), a_value.into().0);
        args.insert(Cow::Owned(b.to_owned()), b_value.into().0);
        LOCALES
            .try_lookup_with_args(id(self.lang), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &str, value: impl Into<FluentArg>) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Owned(name.to_owned()), value.into().0);
        LOCALES
            .try_lookup_with_args(id(self.lang), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }
}

/// A value passed to a Fluent message: numbers pick the plural form.
pub struct FluentArg(FluentValue<'static>);

impl From<usize> for FluentArg {
    fn from(n: usize) -> Self {
        FluentArg(FluentValue::from(n))
    }
}

impl From<&usize> for FluentArg {
    fn from(n: &usize) -> Self {
        FluentArg(FluentValue::from(*n))
    }
}

impl From<i64> for FluentArg {
    fn from(n: i64) -> Self {
        FluentArg(FluentValue::from(n))
    }
}

impl From<u32> for FluentArg {
    fn from(n: u32) -> Self {
        FluentArg(FluentValue::from(n))
    }
}

impl From<&str> for FluentArg {
    fn from(s: &str) -> Self {
        FluentArg(FluentValue::from(s.to_owned()))
    }
}

impl From<String> for FluentArg {
    fn from(s: String) -> Self {
        FluentArg(FluentValue::from(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(file: &'static str) -> BTreeSet<&'static str> {
        message_ids(file).collect()
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let cs = ids(include_str!("../locales/cs/main.ftl"));
        let en = ids(include_str!("../locales/en/main.ftl"));
        assert!(cs.len() > 20, "{cs:?}");
        let only_cs: Vec<_> = cs.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&cs).collect();
        assert!(
            only_cs.is_empty() && only_en.is_empty(),
            "only in cs: {only_cs:?}; only in en: {only_en:?}"
        );
    }

    #[test]
    fn plain_messages_are_resolved_once_and_found() {
        assert_eq!(Tr::new(Lang::Cs).t("skip-link"), "Přejít na obsah");
        assert_eq!(Tr::new(Lang::En).t("skip-link"), "Skip to main content");
        assert_eq!(Tr::new(Lang::En).t("no-such-message"), "no-such-message");
    }

    #[test]
    fn czech_plurals_follow_czech_rules() {
        let tr = Tr::new(Lang::Cs);
        assert_eq!(tr.t1("result-count", "count", 1usize), "Nalezena 1 služba");
        assert_eq!(tr.t1("result-count", "count", 3usize), "Nalezeny 3 služby");
        assert_eq!(tr.t1("result-count", "count", 5usize), "Nalezeno 5 služeb");
        assert_eq!(
            Tr::new(Lang::En).t1("result-count", "count", 1usize),
            "1 service found"
        );
        assert_eq!(
            Tr::new(Lang::En).t1("result-count", "count", 7usize),
            "7 services found"
        );
    }
}
