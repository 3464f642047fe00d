//! The host keys GitHub, GitLab and Bitbucket publish (shared/reference/host-keys.md), and the
//! keys they rotated away from, which must be refused by name.

/// One provider's published keys, and the host names that serve them.
#[derive(Debug)]
pub struct Provider {
    pub name: &'static str,
    /// Host names (lowercase) that answer with these keys. GitHub's port-443 endpoint
    /// `ssh.github.com` serves the same keys as `github.com`.
    pub hosts: &'static [&'static str],
    pub keys: &'static [PublishedKey],
}

/// A published key: its type, SHA256 fingerprint and the base64 key itself.
#[derive(Debug)]
pub struct PublishedKey {
    pub key_type: &'static str,
    pub fingerprint: &'static str,
    pub base64: &'static str,
}

/// A key a provider replaced. Anything still carrying it breaks with "REMOTE HOST
/// IDENTIFICATION HAS CHANGED", so it is refused wherever it turns up.
#[derive(Debug)]
pub struct RotatedKey {
    pub fingerprint: &'static str,
    pub description: &'static str,
}

pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "GitHub",
        hosts: &["github.com", "ssh.github.com"],
        keys: &[
            PublishedKey {
                key_type: "ssh-ed25519",
                fingerprint: "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
                base64: "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            },
            PublishedKey {
                key_type: "ecdsa-sha2-nistp256",
                fingerprint: "SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM",
                base64: "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
            },
            PublishedKey {
                key_type: "ssh-rsa",
                fingerprint: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
                base64: "AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk=",
            },
        ],
    },
    Provider {
        name: "GitLab",
        hosts: &["gitlab.com"],
        keys: &[
            PublishedKey {
                key_type: "ssh-ed25519",
                fingerprint: "SHA256:eUXGGm1YGsMAS7vkcx6JOJdOGHPem5gQp4taiCfCLB8",
                base64: "AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf",
            },
            PublishedKey {
                key_type: "ssh-rsa",
                fingerprint: "SHA256:ROQFvPThGrW4RuWLoL9tq9I9zJ42fK4XywyRtbOz/EQ",
                base64: "AAAAB3NzaC1yc2EAAAADAQABAAABAQCsj2bNKTBSpIYDEGk9KxsGh3mySTRgMtXL583qmBpzeQ+jqCMRgBqB98u3z++J1sKlXHWfM9dyhSevkMwSbhoR8XIq/U0tCNyokEi/ueaBMCvbcTHhO7FcwzY92WK4Yt0aGROY5qX2UKSeOvuP4D6TPqKF1onrSzH9bx9XUf2lEdWT/ia1NEKjunUqu1xOB/StKDHMoX4/OKyIzuS0q/T1zOATthvasJFoPrAjkohTyaDUz2LN5JoH839hViyEG82yB+MjcFV5MU3N1l1QL3cVUCh93xSaua1N85qivl+siMkPGbO5xR/En4iEY6K2XPASUEMaieWVNTRCtJ4S8H+9",
            },
            PublishedKey {
                key_type: "ecdsa-sha2-nistp256",
                fingerprint: "SHA256:HbW3g8zUjNSksFbqTiUWPWg2Bq1x8xdGUrliXFzSnUw",
                base64: "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFSMqzJeV9rUzU4kWitGjeR4PWSa29SPqJ1fVkhtj3Hw9xjLVXVYrU9QlYWrOLXBpQ6KWjbjTDTdDkoohFzgbEY=",
            },
        ],
    },
    Provider {
        name: "Bitbucket",
        hosts: &["bitbucket.org"],
        keys: &[
            PublishedKey {
                key_type: "ecdsa-sha2-nistp256",
                fingerprint: "SHA256:FC73VB6C4OQLSCrjEayhMp9UMxS97caD/Yyi2bhW/J0",
                base64: "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPIQmuzMBuKdWeF4+a2sjSSpBK0iqitSQ+5BM9KhpexuGt20JpTVM7u5BDZngncgrqDMbWdxMWWOGtZ9UgbqgZE=",
            },
            PublishedKey {
                key_type: "ssh-ed25519",
                fingerprint: "SHA256:ybgmFkzwOSotHTHLJgHO0QN8L0xErw6vd0VhFA9m3SM",
                base64: "AAAAC3NzaC1lZDI1NTE5AAAAIIazEu89wgQZ4bqs3d63QSMzYVa0MuJ2e2gKTKqu+UUO",
            },
            PublishedKey {
                key_type: "ssh-rsa",
                fingerprint: "SHA256:46OSHA1Rmj8E8ERTC6xkNcmGOw9oFxYr0WF6zWW8l1E",
                base64: "AAAAB3NzaC1yc2EAAAADAQABAAABgQDQeJzhupRu0u0cdegZIa8e86EG2qOCsIsD1Xw0xSeiPDlCr7kq97NLmMbpKTX6Esc30NuoqEEHCuc7yWtwp8dI76EEEB1VqY9QJq6vk+aySyboD5QF61I/1WeTwu+deCbgKMGbUijeXhtfbxSxm6JwGrXrhBdofTsbKRUsrN1WoNgUa8uqN1Vx6WAJw1JHPhglEGGHea6QICwJOAr/6mrui/oB7pkaWKHj3z7d1IC4KWLtY47elvjbaTlkN04Kc/5LFEirorGYVbt15kAUlqGM65pk6ZBxtaO3+30LVlORZkxOh+LKL/BvbZ/iRNhItLqNyieoQj/uh/7Iv4uyH/cV/0b4WDSd3DptigWq84lJubb9t/DnZlrJazxyDCulTmKdOR7vs9gMTo+uoIrPSb8ScTtvw65+odKAlBj59dhnVp9zd7QUojOpXlL62Aw56U4oO+FALuevvMjiWeavKhJqlR7i5n9srYcrNV7ttmDw7kf/97P5zauIhxcjX+xHv4M=",
            },
        ],
    },
];

pub const ROTATED: &[RotatedKey] = &[
    RotatedKey {
        fingerprint: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
        description: "GitHub's old 2048-bit RSA host key, rotated on 2023-03-24 after its private half was exposed",
    },
    RotatedKey {
        fingerprint: "SHA256:zzXQOXSRBEiUtuE8AikJYKwbHaxvSc0ojez9YXaGp1A",
        description: "Bitbucket's old 2048-bit RSA host key, rotated on 2023-06-20",
    },
    RotatedKey {
        fingerprint: "SHA256:br9IjFspm1vxR3iA35FWE+4VTyz1hYVLIE2t1/CeyWQ",
        description: "GitHub's retired DSA host key (GitHub no longer serves ssh-dss)",
    },
];

/// The provider whose keys a host name serves (case-insensitive), if it is one we know.
pub fn provider_for_host(host: &str) -> Option<&'static Provider> {
    let host = host.to_ascii_lowercase();
    PROVIDERS.iter().find(|provider| provider.hosts.contains(&host.as_str()))
}

/// The provider that publishes this fingerprint, whatever the host.
pub fn provider_publishing(fingerprint: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|provider| provider.keys.iter().any(|key| key.fingerprint == fingerprint))
}

/// The rotation this fingerprint belongs to, if it is a replaced key.
pub fn rotated(fingerprint: &str) -> Option<&'static RotatedKey> {
    ROTATED.iter().find(|key| key.fingerprint == fingerprint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_key_has_the_published_fingerprint() {
        for provider in PROVIDERS {
            for key in provider.keys {
                let parsed = crate::entry::parse_key(key.key_type, key.base64).expect("published key parses");
                assert_eq!(parsed.fingerprint, key.fingerprint, "{} {}", provider.name, key.key_type);
            }
        }
    }

    #[test]
    fn hosts_map_to_providers() {
        assert_eq!(provider_for_host("GitHub.com").map(|p| p.name), Some("GitHub"));
        assert_eq!(provider_for_host("ssh.github.com").map(|p| p.name), Some("GitHub"));
        assert_eq!(provider_for_host("bitbucket.org").map(|p| p.name), Some("Bitbucket"));
        assert!(provider_for_host("git.example.com").is_none());
    }
}
