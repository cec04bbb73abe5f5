//! The one fact promlet needs from a client certificate that rustls already verified: its
//! subject's common name (CN), which kube-apiserver's front proxy presents and which
//! `requestheader-allowed-names` restricts. A minimal DER reader, not a certificate parser:
//! it trusts the structure only as far as rustls has checked it and answers `None` for
//! anything unexpected.

/// One DER element: its tag, its contents, and what follows it.
struct Element<'a> {
    tag: u8,
    contents: &'a [u8],
    rest: &'a [u8],
}

/// Reads one element (definite lengths only, as DER requires).
fn element(input: &[u8]) -> Option<Element<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    let (&first, after_len) = after_tag.split_first()?;
    let (len, body) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || after_len.len() < n {
            return None;
        }
        let len = after_len[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &after_len[n..])
    };
    if body.len() < len {
        return None;
    }
    Some(Element {
        tag,
        contents: &body[..len],
        rest: &body[len..],
    })
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
/// `[0] EXPLICIT` version of a v3 certificate.
const VERSION_TAG: u8 = 0xa0;
/// The OID 2.5.4.3 (commonName), DER-encoded contents.
const COMMON_NAME: [u8; 3] = [0x55, 0x04, 0x03];

/// The subject's common name of a DER X.509 certificate (the last CN when there are
/// several, as Go's `pkix.Name` keeps it); `None` when it has none or cannot be read.
pub fn subject_common_name(cert_der: &[u8]) -> Option<String> {
    let cert = element(cert_der).filter(|e| e.tag == SEQUENCE)?;
    let tbs = element(cert.contents).filter(|e| e.tag == SEQUENCE)?;
    let mut fields = tbs.contents;
    if element(fields)?.tag == VERSION_TAG {
        fields = element(fields)?.rest;
    }
    // serialNumber, signature, issuer, validity, then subject.
    for _ in 0..4 {
        fields = element(fields)?.rest;
    }
    let subject = element(fields).filter(|e| e.tag == SEQUENCE)?;
    common_name_of(subject.contents)
}

/// The last commonName in a Name's RDN sequence.
fn common_name_of(mut rdns: &[u8]) -> Option<String> {
    let mut found = None;
    while !rdns.is_empty() {
        let set = element(rdns).filter(|e| e.tag == SET)?;
        let mut attributes = set.contents;
        while !attributes.is_empty() {
            let pair = element(attributes).filter(|e| e.tag == SEQUENCE)?;
            let oid = element(pair.contents).filter(|e| e.tag == OID)?;
            if oid.contents == COMMON_NAME {
                let value = element(oid.rest)?;
                found = Some(String::from_utf8_lossy(value.contents).into_owned());
            }
            attributes = pair.rest;
        }
        rdns = set.rest;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with(names: &[(rcgen::DnType, &str)]) -> Vec<u8> {
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        let mut dn = rcgen::DistinguishedName::new();
        for (ty, value) in names {
            dn.push(ty.clone(), *value);
        }
        params.distinguished_name = dn;
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    #[test]
    fn reads_the_subject_common_name() {
        let der = cert_with(&[
            (rcgen::DnType::OrganizationName, "system:masters"),
            (rcgen::DnType::CommonName, "front-proxy-client"),
        ]);
        assert_eq!(
            subject_common_name(&der).as_deref(),
            Some("front-proxy-client")
        );
    }

    #[test]
    fn a_certificate_without_common_name_has_none() {
        let der = cert_with(&[(rcgen::DnType::OrganizationName, "only-an-org")]);
        assert_eq!(subject_common_name(&der), None);
    }

    #[test]
    fn long_names_use_multi_byte_lengths() {
        let long = "n".repeat(300);
        let der = cert_with(&[(rcgen::DnType::CommonName, long.as_str())]);
        assert_eq!(subject_common_name(&der), Some(long));
    }

    #[test]
    fn truncated_or_garbage_input_is_none_not_a_panic() {
        let der = cert_with(&[(rcgen::DnType::CommonName, "x")]);
        for cut in 0..der.len() {
            let _ = subject_common_name(&der[..cut]);
        }
        assert_eq!(
            subject_common_name(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(subject_common_name(b""), None);
    }
}
