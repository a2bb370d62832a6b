//! Downloading a provider's outputs safely: only from the hosts it serves files from (checked at
//! every redirect), a size cap, and bytes that must be the type they claim (a picture, or a
//! video or sound file).

use reqwest::header::LOCATION;
use reqwest::Url;

use super::{is_loopback, network_error, Refusal};
use crate::media::ImageFormat;
use crate::providers::{ErrorKind, ProviderError};
use crate::secret::Secret;

/// Largest picture we download (a 4K PNG is about 30 MB).
pub const MAX_DOWNLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Largest video or sound we download (ten seconds of 1080p is about 20 MB; the store takes
/// more, from an import).
pub const MAX_CLIP_DOWNLOAD_BYTES: usize = 256 * 1024 * 1024;
const MAX_REDIRECTS: usize = 3;

/// Where a provider's files may be downloaded from: its API host, and the domains (with their
/// subdomains) it serves results from.
#[derive(Debug, Clone)]
pub struct FileHosts {
    api_host: String,
    domains: Vec<String>,
}

impl FileHosts {
    pub fn new(api: &Url, domains: &[&str]) -> Self {
        Self {
            api_host: api.host_str().unwrap_or_default().to_ascii_lowercase(),
            domains: domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
        }
    }

    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url));
        scheme_ok
            && (host == self.api_host
                || self
                    .domains
                    .iter()
                    .any(|d| host == *d || host.ends_with(&format!(".{d}"))))
    }
}

/// Downloads one output: allowed hosts only (checked at every redirect), at most
/// [`MAX_DOWNLOAD_BYTES`] for a picture and [`MAX_CLIP_DOWNLOAD_BYTES`] for a video or sound
/// (declared by its type; else the picture cap), and the bytes must be what they declare.
pub async fn download(
    client: &reqwest::Client,
    provider: &str,
    key: &Secret,
    hosts: &FileHosts,
    url: &str,
    declared_mime: Option<&str>,
) -> Result<Vec<u8>, ProviderError> {
    let bad = |message: String| ProviderError::new(provider, ErrorKind::BadOutput, message);
    let mut url = Url::parse(url).map_err(|e| bad(format!("the output URL is invalid ({e})")))?;
    let mut hops = 0;
    let response = loop {
        if !hosts.allows(&url) {
            return Err(bad(format!(
                "refused to download from {}: not a host {provider} serves files from",
                url.host_str().unwrap_or("an unnamed host")
            )));
        }
        let response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| network_error(provider, key, &e))?;
        if !response.status().is_redirection() {
            break response;
        }
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(bad(format!(
                "the output URL redirected more than {MAX_REDIRECTS} times"
            )));
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| bad("a redirect without a Location".into()))?;
        url = url
            .join(location)
            .map_err(|e| bad(format!("a redirect to an invalid URL ({e})")))?;
    };
    if !response.status().is_success() {
        let refusal = Refusal::read(response, key).await;
        let mut error = refusal.into_error(provider, "downloading the result");
        if error.kind == ErrorKind::NotFound {
            error
                .message
                .push_str("; results expire at the provider, so it may be gone");
        }
        return Err(error);
    }
    // The type the provider declared, else the one the file server sends.
    let served = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let clip = [declared_mime, served.as_deref()]
        .into_iter()
        .flatten()
        .any(|m| m.starts_with("video/") || m.starts_with("audio/"));
    let cap = if clip {
        MAX_CLIP_DOWNLOAD_BYTES
    } else {
        MAX_DOWNLOAD_BYTES
    };
    let too_large = || {
        bad(format!(
            "the output is larger than the {} MB limit",
            cap / (1024 * 1024)
        ))
    };
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    let Some(bytes) = super::read_capped(provider, key, response, cap).await? else {
        return Err(too_large());
    };
    check_output(provider, &bytes, declared_mime)?;
    Ok(bytes)
}

/// The bytes of an output: inline ones as they are, a URL downloaded by [`download`].
pub async fn fetch_output(
    client: &reqwest::Client,
    provider: &str,
    key: &Secret,
    hosts: &FileHosts,
    output: &crate::providers::Output,
) -> Result<Vec<u8>, ProviderError> {
    match output {
        crate::providers::Output::Inline { bytes } => Ok(bytes.clone()),
        crate::providers::Output::Url { url, declared_mime } => {
            download(client, provider, key, hosts, url, declared_mime.as_deref()).await
        }
    }
}

/// The bytes are a picture, a video or a sound we store, of the kind the provider declared (if
/// it did). A clip's container is only sniffed here; the store probes it.
pub fn check_output(
    provider: &str,
    bytes: &[u8],
    declared_mime: Option<&str>,
) -> Result<(), ProviderError> {
    use crate::media::av::Container;
    let Some(container) = Container::sniff(bytes).filter(|_| ImageFormat::sniff(bytes).is_none())
    else {
        return check_image(provider, bytes, declared_mime).map(|_| ());
    };
    let declared = declared_mime.map(|m| m.trim().to_ascii_lowercase());
    if let Some(declared) = declared.filter(|d| d.starts_with("image/")) {
        return Err(ProviderError::new(
            provider,
            ErrorKind::BadOutput,
            format!(
                "the output claims to be {declared} but is a {} file",
                container.ext()
            ),
        ));
    }
    Ok(())
}

/// The bytes are an image we store, and the type the provider declared (if it did).
pub fn check_image(
    provider: &str,
    bytes: &[u8],
    declared_mime: Option<&str>,
) -> Result<ImageFormat, ProviderError> {
    let bad = |message: String| ProviderError::new(provider, ErrorKind::BadOutput, message);
    let format = ImageFormat::sniff(bytes).ok_or_else(|| {
        bad(format!(
            "the output ({} bytes) is not a PNG, JPEG, WebP or OpenEXR image",
            bytes.len()
        ))
    })?;
    if let Some(declared) = declared_mime.map(|m| m.trim().to_ascii_lowercase()) {
        let matches =
            declared == format.mime() || (declared == "image/jpg" && format.mime() == "image/jpeg");
        if declared.starts_with("image/") && !matches {
            return Err(bad(format!(
                "the output claims to be {declared} but is {}",
                format.mime()
            )));
        }
    }
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_hosts_are_the_api_host_and_the_providers_domains() {
        let api = Url::parse("http://127.0.0.1:4000").unwrap();
        let hosts = FileHosts::new(&api, &["fal.media"]);
        let allowed = |u: &str| hosts.allows(&Url::parse(u).unwrap());
        assert!(allowed("http://127.0.0.1:4000/files/x.png"));
        assert!(allowed("https://v3.fal.media/files/x.png"));
        assert!(allowed("https://fal.media/x"));
        assert!(
            !allowed("http://v3.fal.media/x"),
            "plain http off this machine"
        );
        assert!(!allowed("https://evilfal.media/x"));
        assert!(!allowed("https://fal.media.evil.com/x"));
        assert!(!allowed("https://169.254.169.254/latest"));
    }

    #[test]
    fn a_declared_type_must_match_the_bytes() {
        let png = crate::media::png::encode_rgb(1, 1, &[0, 0, 0]).unwrap();
        assert!(check_image("p", &png, Some("image/png")).is_ok());
        assert!(check_image("p", &png, None).is_ok());
        let err = check_image("p", &png, Some("image/jpeg")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadOutput);
        assert!(check_image("p", b"<html>", Some("image/png")).is_err());
    }

    #[test]
    fn a_clip_is_an_output_unless_it_claims_to_be_a_picture() {
        let wav = crate::media::av::encode::wav(&[0; 8], 8000);
        assert!(check_output("p", &wav, Some("audio/wav")).is_ok());
        assert!(check_output("p", &wav, None).is_ok());
        assert!(check_output("p", &wav, Some("image/png")).is_err());
        assert!(check_output("p", b"<html>", Some("video/mp4")).is_err());
    }
}
