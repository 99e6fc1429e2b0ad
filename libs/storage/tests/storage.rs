//! Object storage against a real directory, and an S3 endpoint that never answers.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use platform_storage::{ObjectStorage, StorageError, StorageSettings};

fn local() -> (ObjectStorage, std::path::PathBuf) {
    let root = std::env::temp_dir().join(platform_testkit::unique("storage-test-"));
    let storage = ObjectStorage::connect(&StorageSettings::local(&root)).unwrap();
    (storage, root)
}

#[tokio::test]
async fn an_object_written_in_parts_reads_back_whole_and_streamed() {
    let (storage, root) = local();
    let mut upload = storage.upload("originals/m1").await.unwrap();
    let parts: Vec<Bytes> = (0u8..5).map(|i| Bytes::from(vec![i; 300_000])).collect();
    for part in &parts {
        upload.write(part.clone()).await.unwrap();
    }
    assert!(
        matches!(
            storage.get("originals/m1").await,
            Err(StorageError::NotFound { .. })
        ),
        "nothing is visible before finish"
    );
    upload.finish().await.unwrap();

    let whole = storage.get("originals/m1").await.unwrap();
    assert_eq!(whole, parts.concat());
    let (size, mut stream) = storage.get_stream("originals/m1").await.unwrap();
    assert_eq!(size, 1_500_000);
    let mut streamed = Vec::new();
    while let Some(chunk) = stream.next().await {
        streamed.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(streamed, whole);
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn put_replaces_list_sorts_and_delete_is_idempotent() {
    let (storage, root) = local();
    storage
        .put("variants/m1/b.jpg", Bytes::from_static(b"one"))
        .await
        .unwrap();
    storage
        .put("variants/m1/a.jpg", Bytes::from_static(b"x"))
        .await
        .unwrap();
    storage
        .put("variants/m1/b.jpg", Bytes::from_static(b"two"))
        .await
        .unwrap();
    assert_eq!(
        storage.list("variants/m1").await.unwrap(),
        ["variants/m1/a.jpg", "variants/m1/b.jpg"]
    );
    assert_eq!(storage.get("variants/m1/b.jpg").await.unwrap(), "two");
    storage.delete("variants/m1/a.jpg").await.unwrap();
    storage.delete("variants/m1/a.jpg").await.unwrap();
    assert!(matches!(
        storage.get("variants/m1/a.jpg").await,
        Err(StorageError::NotFound { key }) if key == "variants/m1/a.jpg"
    ));
    storage.check().await.unwrap();
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn an_s3_endpoint_that_never_answers_fails_within_the_deadline() {
    let env = platform_testkit::silent_s3().await;
    let storage = ObjectStorage::connect(&StorageSettings::from_env(&env).unwrap()).unwrap();

    let started = Instant::now();
    let put = storage.put("originals/m1", Bytes::from_static(b"x")).await;
    assert!(matches!(put, Err(StorageError::Timeout { .. })), "{put:?}");
    let get = storage.get("originals/m1").await;
    assert!(matches!(get, Err(StorageError::Timeout { .. })), "{get:?}");
    let upload = storage.upload("originals/m2").await;
    assert!(
        matches!(upload, Err(StorageError::Timeout { .. })),
        "{upload:?}"
    );
    assert!(storage.check().await.is_err());
    // Four calls of 300 ms each; far less than a hang, with room for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
