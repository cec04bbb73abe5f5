//! The PromQL function table: argument types, variadic count and return type.

use crate::parser::ast::ValueType::{self, Matrix as M, Scalar as S, String as Str, Vector as V};

/// A PromQL function's signature.
#[derive(Debug, PartialEq, Eq)]
pub struct Function {
    /// The name as written in queries (case-sensitive).
    pub name: &'static str,
    /// Expected argument types; with `variadic != 0` the last one may repeat or be omitted.
    pub arg_types: &'static [ValueType],
    /// 0: exactly `arg_types.len()` arguments; n > 0: up to n optional trailing arguments
    /// (the minimum is `arg_types.len() - 1`); -1: unbounded repetition of the last type.
    pub variadic: i32,
    /// The type of the result.
    pub return_type: ValueType,
}

/// Shorthand for table rows.
const fn f(
    name: &'static str,
    arg_types: &'static [ValueType],
    variadic: i32,
    ret: ValueType,
) -> Function {
    Function {
        name,
        arg_types,
        variadic,
        return_type: ret,
    }
}

/// Every function Prometheus 3.x knows, including experimental ones.
pub static FUNCTIONS: &[Function] = &[
    f("abs", &[V], 0, V),
    f("absent", &[V], 0, V),
    f("absent_over_time", &[M], 0, V),
    f("acos", &[V], 0, V),
    f("acosh", &[V], 0, V),
    f("asin", &[V], 0, V),
    f("asinh", &[V], 0, V),
    f("atan", &[V], 0, V),
    f("atanh", &[V], 0, V),
    f("avg_over_time", &[M], 0, V),
    f("ceil", &[V], 0, V),
    f("changes", &[M], 0, V),
    f("clamp", &[V, S, S], 0, V),
    f("clamp_max", &[V, S], 0, V),
    f("clamp_min", &[V, S], 0, V),
    f("cos", &[V], 0, V),
    f("cosh", &[V], 0, V),
    f("count_over_time", &[M], 0, V),
    f("days_in_month", &[V], 1, V),
    f("day_of_month", &[V], 1, V),
    f("day_of_week", &[V], 1, V),
    f("day_of_year", &[V], 1, V),
    f("deg", &[V], 0, V),
    f("delta", &[M], 0, V),
    f("deriv", &[M], 0, V),
    f("double_exponential_smoothing", &[M, S, S], 0, V),
    f("exp", &[V], 0, V),
    f("first_over_time", &[M], 0, V),
    f("floor", &[V], 0, V),
    f("histogram_avg", &[V], 0, V),
    f("histogram_count", &[V], 0, V),
    f("histogram_fraction", &[S, S, V], 0, V),
    f("histogram_quantile", &[S, V], 0, V),
    f("histogram_quantiles", &[V, Str, S], -1, V),
    f("histogram_stddev", &[V], 0, V),
    f("histogram_stdvar", &[V], 0, V),
    f("histogram_sum", &[V], 0, V),
    f("holt_winters", &[M, S, S], 0, V),
    f("hour", &[V], 1, V),
    f("idelta", &[M], 0, V),
    f("increase", &[M], 0, V),
    f("info", &[V, V], 1, V),
    f("irate", &[M], 0, V),
    f("label_join", &[V, Str, Str, Str], -1, V),
    f("label_replace", &[V, Str, Str, Str, Str], 0, V),
    f("last_over_time", &[M], 0, V),
    f("ln", &[V], 0, V),
    f("log10", &[V], 0, V),
    f("log2", &[V], 0, V),
    f("mad_over_time", &[M], 0, V),
    f("max_over_time", &[M], 0, V),
    f("min_over_time", &[M], 0, V),
    f("minute", &[V], 1, V),
    f("month", &[V], 1, V),
    f("pi", &[], 0, S),
    f("min_of", &[S, S], 0, S),
    f("max_of", &[S, S], 0, S),
    f("step", &[], 0, S),
    f("range", &[], 0, S),
    f("start", &[], 0, S),
    f("end", &[], 0, S),
    f("predict_linear", &[M, S], 0, V),
    f("present_over_time", &[M], 0, V),
    f("quantile_over_time", &[S, M], 0, V),
    f("rad", &[V], 0, V),
    f("rate", &[M], 0, V),
    f("resets", &[M], 0, V),
    f("round", &[V, S], 1, V),
    f("scalar", &[V], 0, S),
    f("sgn", &[V], 0, V),
    f("sin", &[V], 0, V),
    f("sinh", &[V], 0, V),
    f("sort", &[V], 0, V),
    f("sort_by_label", &[V, Str], -1, V),
    f("sort_by_label_desc", &[V, Str], -1, V),
    f("sort_desc", &[V], 0, V),
    f("sqrt", &[V], 0, V),
    f("start_timestamp", &[V], 0, V),
    f("stddev_over_time", &[M], 0, V),
    f("stdvar_over_time", &[M], 0, V),
    f("sum_over_time", &[M], 0, V),
    f("tan", &[V], 0, V),
    f("tanh", &[V], 0, V),
    f("time", &[], 0, S),
    f("timestamp", &[V], 0, V),
    f("ts_of_first_over_time", &[M], 0, V),
    f("ts_of_last_over_time", &[M], 0, V),
    f("ts_of_max_over_time", &[M], 0, V),
    f("ts_of_min_over_time", &[M], 0, V),
    f("vector", &[S], 0, V),
    f("year", &[V], 1, V),
];

/// Looks a function up by its exact name.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

impl Function {
    /// The smallest number of arguments accepted.
    pub fn min_args(&self) -> usize {
        if self.variadic == 0 {
            self.arg_types.len()
        } else {
            self.arg_types.len().saturating_sub(1)
        }
    }

    /// The largest number of arguments accepted (`None`: unbounded).
    pub fn max_args(&self) -> Option<usize> {
        match usize::try_from(self.variadic) {
            Ok(0) => Some(self.arg_types.len()),
            Ok(n) => Some(self.min_args() + n),
            Err(_) => None,
        }
    }

    /// The expected type of the argument at `index` (the last type repeats).
    pub fn arg_type(&self, index: usize) -> ValueType {
        let last = self.arg_types.len().saturating_sub(1);
        self.arg_types
            .get(index.min(last))
            .copied()
            .unwrap_or(ValueType::Vector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arity() {
        let r = function("round").expect("round");
        assert_eq!((r.min_args(), r.max_args()), (1, Some(2)));
        let j = function("label_join").expect("label_join");
        assert_eq!((j.min_args(), j.max_args()), (3, None));
        let d = function("day_of_month").expect("dom");
        assert_eq!((d.min_args(), d.max_args()), (0, Some(1)));
        assert!(function("Rate").is_none());
    }
}
