//! Secret values drawn from the operating system's random source (getrandom), never from a
//! seeded generator: every key, password and token here comes from these functions.

use airflow_kit_core::Error;
use base64::Engine;

/// `count` random bytes from the OS. Fails only when the OS has no random source at all.
pub fn bytes(count: usize) -> Result<Vec<u8>, Error> {
    let mut buffer = vec![0u8; count];
    getrandom::fill(&mut buffer).map_err(|error| {
        Error::external(format!("the operating system's random source failed: {error}"))
            .with_hint("check that /dev/urandom (or the getrandom system call) is available")
    })?;
    Ok(buffer)
}

/// `2 * byte_count` lowercase hex characters, like Python's `secrets.token_hex(byte_count)`.
pub fn hex(byte_count: usize) -> Result<String, Error> {
    Ok(bytes(byte_count)?.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// A Fernet key as Airflow and `cryptography` expect it: URL-safe base64 (with padding) of 32
/// random bytes, 44 characters.
pub fn fernet_key() -> Result<String, Error> {
    Ok(base64::engine::general_purpose::URL_SAFE.encode(bytes(32)?))
}

/// A password of `length` letters and digits. Only alphanumerics, because the chart puts
/// passwords into connection URLs and shell arguments where other characters need escaping.
/// Rejection sampling keeps every character equally likely (62 does not divide 256).
pub fn password(length: usize) -> Result<String, Error> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // 248 = 4 * 62: bytes at or above it would favour the first characters.
    const LIMIT: u8 = 248;
    let mut out = String::with_capacity(length);
    while out.len() < length {
        for byte in bytes(length * 2)? {
            if byte < LIMIT && out.len() < length {
                out.push(char::from(ALPHABET[usize::from(byte % 62)]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_has_the_requested_length_and_alphabet() {
        let value = hex(16).expect("random");
        assert_eq!(value.len(), 32);
        assert!(value.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{value}");
        assert_ne!(value, hex(16).expect("random"), "two draws must differ");
    }

    #[test]
    fn fernet_key_decodes_to_32_bytes() {
        let key = fernet_key().expect("random");
        assert_eq!(key.len(), 44);
        let decoded = base64::engine::general_purpose::URL_SAFE.decode(&key).expect("url-safe base64");
        assert_eq!(decoded.len(), 32);
    }

    #[test]
    fn password_is_alphanumeric() {
        let value = password(24).expect("random");
        assert_eq!(value.len(), 24);
        assert!(value.chars().all(|c| c.is_ascii_alphanumeric()), "{value}");
    }
}
