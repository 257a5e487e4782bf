//! A throw-away CA and a server certificate for 127.0.0.1 / ::1 (plus any
//! DNS names asked for with `--dns-name`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub(crate) struct Tls {
    pub ca_pem: String,
    pub config: Arc<rustls::ServerConfig>,
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

pub(crate) fn generate(dns_names: &[String]) -> io::Result<Tls> {
    let year = crate::util::current_year();
    let mut serial = [0u8; 16];

    let ca_key = KeyPair::generate().map_err(io_err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(io_err)?;
    ca.distinguished_name.push(DnType::CommonName, "Paytrim Entra Emulator Test CA");
    ca.distinguished_name.push(DnType::OrganizationName, "paytrim-entra-emulator");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    ca.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
    crate::util::random_bytes(&mut serial);
    serial[0] &= 0x7f;
    ca.serial_number = Some(serial.to_vec().into());
    let ca_cert = ca.self_signed(&ca_key).map_err(io_err)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(io_err)?;
    let mut leaf = CertificateParams::new(Vec::<String>::new()).map_err(io_err)?;
    // IP addresses only by default: `https://localhost:PORT` must fail host-name checks.
    leaf.subject_alt_names =
        vec![SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)), SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST))];
    for name in dns_names {
        leaf.subject_alt_names.push(SanType::DnsName(name.as_str().try_into().map_err(io_err)?));
    }
    leaf.distinguished_name.push(DnType::CommonName, "paytrim-entra-emulator");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    leaf.not_after = rcgen::date_time_ymd(year + 1, 12, 31);
    crate::util::random_bytes(&mut serial);
    serial[0] &= 0x7f;
    leaf.serial_number = Some(serial.to_vec().into());
    let leaf_cert = leaf.signed_by(&key, &issuer).map_err(io_err)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io_err)?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone(), CertificateDer::from(ca_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(io_err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls { ca_pem: ca_cert.pem(), config: Arc::new(config) })
}
