//! Just enough of the TZif format (RFC 8536) to tell a zone's abbreviation and UTC offset at
//! one instant, as Go's `time.Now().Zone()` does for `node_time_zone_offset_seconds`.
//!
//! The transition table decides; after the last transition the footer's POSIX TZ string is
//! used when it has no daylight-saving rule (`UTC0`, `<+03>-3`, `JST-9`), otherwise the last
//! transition's type stands (exact for zone files built with `zic -b fat`, which list
//! transitions up to 2037).

/// `(abbreviation, offset east of UTC in seconds)` at `unix_seconds`; `None` when the data
/// is not TZif.
pub(crate) fn zone_at(data: &[u8], unix_seconds: i64) -> Option<(String, i64)> {
    let v1 = Header::parse(data)?;
    let (h, body, time_size) = if v1.version >= b'2' {
        let rest = data.get(44 + v1.v1_len()?..)?;
        (Header::parse(rest)?, rest.get(44..)?, 8)
    } else {
        (v1, data.get(44..)?, 4)
    };
    let table = Table::parse(&h, body, time_size)?;
    let footer = body
        .get(h.data_len(time_size)?..)
        .and_then(|f| std::str::from_utf8(f).ok())
        .map(|f| f.trim_matches('\n'))
        .unwrap_or("");
    let last = table.times.last().copied();
    if last.is_none_or(|t| unix_seconds >= t)
        && let Some(z) = fixed_footer(footer)
    {
        return Some(z);
    }
    let idx = match table.times.iter().rposition(|&t| t <= unix_seconds) {
        Some(i) => usize::from(*table.indices.get(i)?),
        None => 0,
    };
    table.zone(idx)
}

struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

impl Header {
    fn parse(d: &[u8]) -> Option<Self> {
        if d.get(..4)? != b"TZif" {
            return None;
        }
        let n = |i: usize| -> Option<usize> {
            let b: [u8; 4] = d.get(20 + 4 * i..24 + 4 * i)?.try_into().ok()?;
            usize::try_from(u32::from_be_bytes(b)).ok()
        };
        Some(Self {
            version: *d.get(4)?,
            isutcnt: n(0)?,
            isstdcnt: n(1)?,
            leapcnt: n(2)?,
            timecnt: n(3)?,
            typecnt: n(4)?,
            charcnt: n(5)?,
        })
    }

    /// Length of the data block after this header, with `time_size`-byte times.
    fn data_len(&self, time_size: usize) -> Option<usize> {
        let times = self.timecnt.checked_mul(time_size + 1)?;
        let leaps = self.leapcnt.checked_mul(time_size + 4)?;
        times
            .checked_add(self.typecnt.checked_mul(6)?)?
            .checked_add(self.charcnt)?
            .checked_add(leaps)?
            .checked_add(self.isstdcnt)?
            .checked_add(self.isutcnt)
    }

    fn v1_len(&self) -> Option<usize> {
        self.data_len(4)
    }
}

struct Table<'a> {
    times: Vec<i64>,
    indices: &'a [u8],
    types: &'a [u8],
    chars: &'a [u8],
}

impl<'a> Table<'a> {
    fn parse(h: &Header, body: &'a [u8], time_size: usize) -> Option<Self> {
        let times_len = h.timecnt.checked_mul(time_size)?;
        let times = body
            .get(..times_len)?
            .chunks_exact(time_size)
            .map(|c| match c.len() {
                8 => c.try_into().ok().map(i64::from_be_bytes),
                _ => c.try_into().ok().map(|b| i64::from(i32::from_be_bytes(b))),
            })
            .collect::<Option<Vec<i64>>>()?;
        let indices = body.get(times_len..times_len + h.timecnt)?;
        let types_at = times_len + h.timecnt;
        let types = body.get(types_at..types_at + h.typecnt * 6)?;
        let chars_at = types_at + h.typecnt * 6;
        let chars = body.get(chars_at..chars_at + h.charcnt)?;
        Some(Self {
            times,
            indices,
            types,
            chars,
        })
    }

    fn zone(&self, idx: usize) -> Option<(String, i64)> {
        let t = self.types.get(idx * 6..idx * 6 + 6)?;
        let off = i32::from_be_bytes(t.get(..4)?.try_into().ok()?);
        let start = usize::from(t[5]);
        let name = self.chars.get(start..)?;
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        let name = String::from_utf8_lossy(&name[..end]).into_owned();
        Some((name, i64::from(off)))
    }
}

/// A footer without a daylight-saving part: `NAME[+-]hh[:mm[:ss]]`, the name possibly in
/// `<...>`; the offset in a POSIX TZ string is west of UTC, so it is negated.
fn fixed_footer(footer: &str) -> Option<(String, i64)> {
    let (name, rest) = if let Some(r) = footer.strip_prefix('<') {
        let end = r.find('>')?;
        (&r[..end], &r[end + 1..])
    } else {
        let end = footer.find(|c: char| !c.is_ascii_alphabetic())?;
        (&footer[..end], &footer[end..])
    };
    if name.is_empty() {
        return None;
    }
    let (sign, rest) = match rest.as_bytes().first()? {
        b'-' => (-1, &rest[1..]),
        b'+' => (1, &rest[1..]),
        _ => (1, rest),
    };
    let mut secs = 0i64;
    for (i, part) in rest.split(':').enumerate() {
        if i > 2 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None; // a DST rule follows, or garbage
        }
        secs += part.parse::<i64>().ok()? * [3600, 60, 1][i];
    }
    Some((name.to_string(), -sign * secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footers() {
        assert_eq!(fixed_footer("UTC0"), Some(("UTC".into(), 0)));
        assert_eq!(fixed_footer("<+03>-3"), Some(("+03".into(), 10800)));
        assert_eq!(fixed_footer("EST5"), Some(("EST".into(), -18000)));
        assert_eq!(fixed_footer("IST-5:30"), Some(("IST".into(), 19800)));
        assert_eq!(fixed_footer("CET-1CEST,M3.5.0,M10.5.0/3"), None);
        assert_eq!(fixed_footer(""), None);
    }

    #[test]
    fn reads_the_machines_zone_file_when_there() {
        if let Ok(data) = std::fs::read("/usr/share/zoneinfo/Europe/Paris") {
            // 2021-01-15 and 2021-07-15.
            assert_eq!(zone_at(&data, 1_610_668_800), Some(("CET".into(), 3600)));
            assert_eq!(zone_at(&data, 1_626_307_200), Some(("CEST".into(), 7200)));
        }
        assert_eq!(zone_at(b"nope", 0), None);
    }
}
