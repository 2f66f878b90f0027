//! `Info`: constant labels that describe the target, with the value 1
//! (`OpenMetrics`' `info` type), and the build-info helper.

use std::borrow::Cow;
use std::fmt;

use crate::error::{Error, ErrorKind};
use crate::expose::{FamilyDesc, Kind, Names, SeriesLabels, Sink, Value};
use crate::metric::{Meta, Metric, seal};
use crate::name;

/// One series of constant labels with the value 1, such as a build's
/// version and revision.
///
/// The name ends in `_info`. `OpenMetrics` writes it as family `x` of type
/// `info` with the sample `x_info`; the text format 0.0.4, which has no info
/// type, as the gauge `x_info` (as `client_python` does). Labels are set at
/// construction and never change.
///
/// # Examples
///
/// ```
/// let registry = bareprom::Registry::new();
/// let info = bareprom::Info::new("app_runtime_info", "Runtime facts.", &[("arch", "x86_64")])?;
/// registry.register_arc(std::sync::Arc::new(info))?;
/// assert_eq!(
///     registry.render(),
///     "# HELP app_runtime_info Runtime facts.\n\
///      ## TYPE app_runtime_info gauge\n\
///      app_runtime_info{arch=\"x86_64\"} 1\n"
/// );
/// let mut body = Vec::new();
/// registry.encode_openmetrics(&mut body);
/// assert_eq!(
///     String::from_utf8(body).unwrap(),
///     "# HELP app_runtime Runtime facts.\n\
///      ## TYPE app_runtime info\n\
///      app_runtime_info{arch=\"x86_64\"} 1\n\
///      ## EOF\n"
/// );
/// # Ok::<(), bareprom::Error>(())
/// ```
pub struct Info {
    meta: Meta,
    names: Vec<String>,
    values: Vec<String>,
}

impl Info {
    /// An info metric named `name` (ending in `_info`) with these labels.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`] if `name` is invalid or does not end
    /// in `_info`; [`InvalidLabelName`](ErrorKind::InvalidLabelName),
    /// [`ReservedLabelName`](ErrorKind::ReservedLabelName) or
    /// [`DuplicateLabelName`](ErrorKind::DuplicateLabelName) for the labels.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = bareprom::Info::new("app_runtime", "Runtime facts.", &[]).unwrap_err();
    /// assert_eq!(err.kind(), bareprom::ErrorKind::InvalidMetricName);
    /// ```
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        labels: &[(&str, &str)],
    ) -> Result<Info, Error> {
        let meta = Meta::try_new(name.into(), help.into())?;
        if meta.name.len() <= "_info".len() || !meta.name.ends_with("_info") {
            return Err(Error::new(ErrorKind::InvalidMetricName, &meta.name)
                .with_detail("an info metric's name ends in \"_info\"".to_owned()));
        }
        let names: Vec<&str> = labels.iter().map(|(n, _)| *n).collect();
        name::check_label_names(&names, false)?;
        Ok(Info {
            meta,
            names: names.into_iter().map(str::to_owned).collect(),
            values: labels.iter().map(|(_, v)| (*v).to_owned()).collect(),
        })
    }

    /// The build-info metric `client_golang` users know: `<app>_build_info`
    /// with the labels `version` and `revision`, value 1.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidMetricName`] if `app` does not make a valid name.
    ///
    /// # Examples
    ///
    /// ```
    /// let registry = bareprom::Registry::new();
    /// let info = bareprom::Info::build("app", env!("CARGO_PKG_VERSION"), "4f2a9c1")?;
    /// registry.register_arc(std::sync::Arc::new(info))?;
    /// assert!(registry.render().contains("app_build_info{version=\"0.1.0\",revision=\"4f2a9c1\"} 1\n"));
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn build(app: &str, version: &str, revision: &str) -> Result<Info, Error> {
        Info::new(
            format!("{app}_build_info"),
            "Build information: the version and revision this binary was built from.",
            &[("version", version), ("revision", revision)],
        )
    }

    /// The metric's name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(bareprom::Info::build("app", "1.0.0", "abc")?.name(), "app_build_info");
    /// # Ok::<(), bareprom::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.meta.name
    }
}

impl fmt::Debug for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Info")
            .field("name", &self.meta.name)
            .field("labels", &self.names.iter().zip(&self.values).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Metric for Info {}
impl seal::Encode for Info {
    fn describe(&self, i: usize) -> Option<FamilyDesc<'_>> {
        (i == 0).then(|| self.meta.desc(Kind::Info, Names::Strings(&self.names)))
    }

    fn expose(&self, _: usize, sink: &mut dyn Sink) {
        let labels = if self.values.is_empty() {
            SeriesLabels::None
        } else {
            SeriesLabels::Raw(&self.values)
        };
        sink.series(labels, Value::U64(1));
    }
}
