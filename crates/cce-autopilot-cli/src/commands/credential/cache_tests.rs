//! Unit tests of the credential cache (`cache.rs`).

use super::*;
use std::os::unix::fs::PermissionsExt as _;

fn key() -> CacheKey {
    CacheKey {
        endpoint: "https://cce.cn-north-4.myhuaweicloud.com/".into(),
        region: Some("cn-north-4".into()),
        project: "p".into(),
        cluster: "c".into(),
        access: "internal".into(),
        identity: "ak:AK1".into(),
        duration: 1,
    }
}

fn credential() -> CachedCredential {
    CachedCredential {
        certificate_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
        key_pem: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n".into(),
        not_after: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
            + time::Duration::days(1),
        ca_sha256: Some("ab".repeat(32)),
        kubectl_ca_sha256: None,
        cluster_id: "c-id".into(),
        cluster_name: Some("prod".into()),
    }
}

#[test]
fn every_key_field_changes_the_file_name() {
    let base = key();
    let variants = [
        CacheKey {
            endpoint: "https://other/".into(),
            ..base.clone()
        },
        CacheKey {
            region: None,
            ..base.clone()
        },
        CacheKey {
            project: "q".into(),
            ..base.clone()
        },
        CacheKey {
            cluster: "d".into(),
            ..base.clone()
        },
        CacheKey {
            access: "external".into(),
            ..base.clone()
        },
        CacheKey {
            identity: "ak:AK2".into(),
            ..base.clone()
        },
        CacheKey {
            duration: 2,
            ..base.clone()
        },
    ];
    for variant in variants {
        assert_ne!(variant.stem(), base.stem(), "{variant:?}");
    }
    assert_eq!(base.stem().len(), 64);
    let identity = CacheKey::token_identity("secret-token");
    assert!(identity.starts_with("token:") && !identity.contains("secret-token"));
}

#[test]
fn a_stored_entry_is_found_again_and_only_for_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CredentialCache::new(dir.path().join("a/b"));
    let stored = credential();
    cache.store(&key(), &stored).unwrap();
    match cache.load(&key()) {
        Lookup::Hit(hit) => {
            assert_eq!(hit.certificate_pem, stored.certificate_pem);
            assert_eq!(hit.not_after, stored.not_after);
            assert_eq!(hit.ca_sha256, stored.ca_sha256);
        }
        other => panic!("{other:?}"),
    }
    let other = CacheKey {
        duration: 7,
        ..key()
    };
    assert!(matches!(cache.load(&other), Lookup::Miss));
    std::fs::rename(cache.path_for(&key()), cache.path_for(&other)).unwrap();
    assert!(matches!(cache.load(&other), Lookup::Unusable(r) if r.contains("another key")));
}

#[test]
fn an_edited_or_torn_entry_is_unusable_and_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CredentialCache::new(dir.path());
    cache.store(&key(), &credential()).unwrap();
    let path = cache.path_for(&key());
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("MIIB", "MIIC");
    files::write_file_atomic(&path, text.as_bytes(), 0o600).unwrap();
    assert!(matches!(cache.load(&key()), Lookup::Unusable(r) if r.contains("checksum")));
    files::write_file_atomic(
        &path,
        b"{\"version\": 2, \"key\": \"SECRET-LOOKING\"",
        0o600,
    )
    .unwrap();
    match cache.load(&key()) {
        Lookup::Unusable(reason) => assert!(!reason.contains("SECRET-LOOKING"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_entry_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CredentialCache::new(dir.path());
    let path = cache.store(&key(), &credential()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(cache.load(&key()), Lookup::NotPrivate(r) if r.contains("644")));
}

#[test]
fn the_directory_is_0700_and_entries_0600() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CredentialCache::new(dir.path().join("new"));
    let path = cache.store(&key(), &credential()).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(cache.dir()), 0o700);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_held_lock_makes_others_wait_until_their_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CredentialCache::new(dir.path());
    let held = cache.lock(&key(), Instant::now()).unwrap().expect("free");
    let started = Instant::now();
    let other = cache
        .lock(&key(), Instant::now() + Duration::from_millis(60))
        .unwrap();
    assert!(other.is_none(), "still held");
    assert!(started.elapsed() >= Duration::from_millis(50));
    // Another key's lock is independent.
    let other_key = CacheKey {
        cluster: "d".into(),
        ..key()
    };
    assert!(cache.lock(&other_key, Instant::now()).unwrap().is_some());
    drop(held);
    assert!(cache.lock(&key(), Instant::now()).unwrap().is_some());
}

#[test]
fn clearing_skips_entries_whose_lock_is_held_and_selects_by_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CredentialCache::new(dir.path());
    let other = CacheKey {
        cluster: "other".into(),
        ..key()
    };
    cache.store(&key(), &credential()).unwrap();
    let mut cred = credential();
    cred.cluster_id = "other-id".into();
    cred.cluster_name = None;
    cache.store(&other, &cred).unwrap();
    let held = cache.lock(&key(), Instant::now()).unwrap().unwrap();
    assert!(
        cache.clear(Some("prod")).unwrap().is_empty(),
        "locked: left alone"
    );
    drop(held);
    assert_eq!(cache.clear(Some("prod")).unwrap(), [cache.path_for(&key())]);
    assert!(cache.path_for(&other).exists());
    assert_eq!(cache.clear(None).unwrap().len(), 1);
}

#[test]
fn expired_entries_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CredentialCache::new(dir.path());
    cache.store(&key(), &credential()).unwrap();
    assert!(
        cache
            .prune_expired(OffsetDateTime::now_utc())
            .unwrap()
            .is_empty()
    );
    let later = OffsetDateTime::now_utc() + time::Duration::days(2);
    assert_eq!(cache.prune_expired(later).unwrap().len(), 1);
}

#[test]
fn debug_redacts_the_key() {
    let debug = format!("{:?}", credential());
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
}
