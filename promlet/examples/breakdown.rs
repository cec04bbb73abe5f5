use collector::exposition::{Entry, Format, Parser};
use model::Sample;
use std::collections::BTreeMap;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let mut series: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for e in Parser::new(&text, Format::OpenMetrics) {
        if let Entry::Sample(s) = e.unwrap() {
            let key = format!(
                "{}{:?}",
                s.name,
                s.labels
                    .iter()
                    .filter(|(n, _)| *n != "instance" && *n != "cpu")
                    .collect::<Vec<_>>()
            );
            series
                .entry(format!("{key}#{:?}", s.labels))
                .or_default()
                .push(Sample::new(s.timestamp_ms.unwrap(), s.value));
        }
    }
    let mut by_name: BTreeMap<String, (u64, u64, String)> = BTreeMap::new();
    let (mut tb, mut ts_n) = (0u64, 0u64);
    for (k, v) in &series {
        let name = k.split('#').next().unwrap().to_string();
        for c in v.chunks(240) {
            let mut out = Vec::new();
            chunkenc::encode_sealed(c, &mut out);
            let m = chunkenc::sealed_modes(&out).unwrap();
            let e = by_name.entry(name.clone()).or_default();
            e.0 += out.len() as u64;
            e.1 += c.len() as u64;
            e.2 = format!("{:?}/{:?}", m.ts, m.values);
            tb += out.len() as u64;
            ts_n += c.len() as u64;
        }
    }
    let mut rows: Vec<_> = by_name.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.0));
    println!("total {:.3} B/sample", tb as f64 / ts_n as f64);
    for (n, (b, s, m)) in rows.iter().take(25) {
        println!(
            "{:>7.3} B/s {:>6.1}% {:50} {}",
            *b as f64 / *s as f64,
            100.0 * *b as f64 / tb as f64,
            n,
            m
        );
    }
}
