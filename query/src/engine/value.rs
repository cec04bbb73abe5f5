//! The values a query produces, and its errors.

use model::Labels;

/// One float at one time (ms since the epoch): a point of a range-vector or matrix series.
/// The same type as a stored sample, so selected data needs no conversion.
pub type Point = model::Sample;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels (the metric name already removed where PromQL drops it).
    pub metric: Labels,
    /// Evaluation time, ms.
    pub t: i64,
    /// The value.
    pub v: f64,
}

/// A series of a matrix: a range vector's raw samples, or a range query's steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub metric: Labels,
    /// Points in ascending time order.
    pub points: Vec<Point>,
}

/// The result of a query, as Prometheus's API types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `scalar`: one float at the evaluation time.
    Scalar {
        /// Evaluation time, ms.
        t: i64,
        /// The value.
        v: f64,
    },
    /// `string`: a string literal.
    String {
        /// Evaluation time, ms.
        t: i64,
        /// The string.
        v: String,
    },
    /// `vector`: an instant vector (instant queries). Sorted by labels unless the query
    /// orders it (`sort`, `topk`, ...).
    Vector(Vec<Sample>),
    /// `matrix`: a range vector (instant query of `x[5m]`) or the result of a range query;
    /// sorted by labels.
    Matrix(Vec<Series>),
}

impl Value {
    /// Prometheus's `resultType` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// A successful query: its value and the annotations Prometheus would return with it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The value.
    pub value: Value,
    /// `PromQL warning: ...` texts, de-duplicated, in the order found.
    pub warnings: Vec<String>,
    /// `PromQL info: ...` texts, de-duplicated, in the order found.
    pub infos: Vec<String>,
}

/// The class of a query error; it decides the API's `errorType` and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The query or its parameters are malformed (HTTP 400, `bad_data`).
    BadData,
    /// Evaluation failed, e.g. duplicate series or too many samples (HTTP 422, `execution`).
    Execution,
    /// The query ran past its timeout (HTTP 503, `timeout`).
    Timeout,
    /// The query was cancelled (HTTP 499, `canceled`, as Prometheus answers a client that
    /// went away).
    Canceled,
    /// Reading storage failed (HTTP 500, `internal`).
    Internal,
}

impl ErrorKind {
    /// Prometheus's `errorType` string.
    pub fn error_type(self) -> &'static str {
        match self {
            ErrorKind::BadData => "bad_data",
            ErrorKind::Execution => "execution",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Canceled => "canceled",
            ErrorKind::Internal => "internal",
        }
    }

    /// The HTTP status code Prometheus's API answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadData => 400,
            ErrorKind::Execution => 422,
            ErrorKind::Timeout => 503,
            ErrorKind::Canceled => 499,
            ErrorKind::Internal => 500,
        }
    }
}

/// A failed query: its class and Prometheus's message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// The class.
    pub kind: ErrorKind,
    /// The message, worded as Prometheus words it.
    pub message: String,
}

impl QueryError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// An evaluation error.
    pub(crate) fn exec(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Execution, message)
    }

    /// The error when a query holds more than `--query.max-samples` samples at once.
    pub(crate) fn too_many_samples() -> Self {
        Self::exec("query processing would load too many samples into memory in query execution")
    }

    /// The error when a query runs past its timeout.
    pub(crate) fn timeout() -> Self {
        Self::new(
            ErrorKind::Timeout,
            "query timed out in expression evaluation",
        )
    }

    /// A storage failure.
    pub(crate) fn storage(err: &model::Error) -> Self {
        Self::new(ErrorKind::Internal, err.to_string())
    }
}
