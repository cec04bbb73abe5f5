//! Drawing a chart: 10 series × 1000 points as PNG and SVG (issue 7's target: a PNG in at
//! most 20 ms). `cargo bench -p exporter --bench graph`.

use criterion::{Criterion, criterion_group, criterion_main};
use exporter::graph::{Chart, Format, Series, Unit, render};

fn chart() -> Chart {
    let series = (0..10)
        .map(|s| Series {
            name: format!("instance=\"node-{s}\""),
            points: (0..1000)
                .map(|i| {
                    let t = 1_790_000_000_000 + i * 15_000;
                    let v = (f64::from(s) + 1.0) * (1.0 + (i as f64 / 50.0).sin());
                    (t, v)
                })
                .collect(),
            step: false,
        })
        .collect();
    Chart {
        title: "10 series × 1000 points".into(),
        y_unit: Unit::Plain,
        series,
        width: 1000,
        height: 500,
    }
}

fn bench(c: &mut Criterion) {
    let chart = chart();
    c.bench_function("png_10x1000", |b| {
        b.iter(|| render(&chart, Format::Png).map(|v| v.len()))
    });
    c.bench_function("svg_10x1000", |b| {
        b.iter(|| render(&chart, Format::Svg).map(|v| v.len()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
