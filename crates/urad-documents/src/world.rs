//! The Typst world a document is compiled in: the content's templates, the data of one
//! document as a virtual JSON file, and the fonts built into the binary. Nothing else: no
//! packages, no network, no file system, no clock.

use std::collections::HashMap;
use std::sync::LazyLock;
use typst::diag::{FileError, FileResult, PackageError};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// Where a template finds its data: `json("/data.json")`.
pub const DATA_PATH: &str = "/data.json";

/// What every compilation shares, built once per process: the standard library and the fonts.
pub(crate) struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

/// Parsing the fonts takes a few milliseconds; it is done on the first document.
pub(crate) static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Shared {
        // No `sys.inputs`: the data is a file, so that the library (and what Typst memoizes
        // about it) is the same for every document.
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// The file id of a path in the (virtual) project.
pub(crate) fn file_id(path: &str) -> Option<FileId> {
    VirtualPath::new(path)
        .ok()
        .map(|p| RootedPath::new(VirtualRoot::Project, p).intern())
}

/// The id of the data file.
pub(crate) fn data_id() -> FileId {
    static ID: LazyLock<FileId> =
        LazyLock::new(|| file_id(DATA_PATH).expect("the data path is a valid virtual path"));
    *ID
}

/// One template source as the world serves it, with its name for error messages.
#[derive(Clone)]
pub(crate) struct TemplateSource {
    /// As shown in errors: `content/documents/receipt.typ`.
    pub name: String,
    pub source: Source,
}

/// The world of one compilation.
pub(crate) struct DocumentWorld<'a> {
    pub sources: &'a HashMap<FileId, TemplateSource>,
    pub main: FileId,
    pub data: Bytes,
}

impl World for DocumentWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &SHARED.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &SHARED.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        match self.sources.get(&id) {
            Some(t) => Ok(t.source.clone()),
            None if id == data_id() => Err(FileError::NotSource),
            None => Err(not_found(id)),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == data_id() {
            return Ok(self.data.clone());
        }
        match self.sources.get(&id) {
            Some(t) => Ok(Bytes::from_string(t.source.clone())),
            None => Err(not_found(id)),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        SHARED.fonts.get(index).cloned()
    }

    /// Documents carry their dates in their data; there is no ambient clock, so that the
    /// same data always gives the same document.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    match id.root() {
        VirtualRoot::Package(package) => FileError::Package(PackageError::Other(Some(
            format!("{package}: documents cannot use packages; put what they need in content/documents/")
                .into(),
        ))),
        VirtualRoot::Project => FileError::NotFound(id.vpath().get_without_slash().into()),
    }
}
