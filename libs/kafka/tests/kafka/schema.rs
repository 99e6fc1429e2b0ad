//! The tables of `libs/kafka/sql/` exist once here, and as copies in the migrations of every
//! service that publishes or consumes (sqlx applies one folder per database, so a service
//! cannot share a migration file). Each copy must still make the table the library's SQL
//! makes, or the relay and `first_delivery` would meet a table they were not written for.
//! Compared after migrating: columns (type, nullability, default) and indexes.

use std::path::{Path, PathBuf};

use platform_testkit::TestDatabase;
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::helpers::MIGRATOR;

/// The tables this library owns.
const TABLES: [&str; 2] = ["outbox", "processed_events"];

#[tokio::test]
async fn every_service_copy_of_the_event_tables_makes_the_librarys_tables() {
    let library = TestDatabase::create(&MIGRATOR).await;
    let library = PgPool::connect(library.url()).await.unwrap();
    let mut copies = 0;
    for folder in service_migration_folders() {
        let migrator = Migrator::new(folder.as_path())
            .await
            .unwrap_or_else(|e| panic!("reading {}: {e}", folder.display()));
        let service = TestDatabase::create(&migrator).await;
        let service = PgPool::connect(service.url()).await.unwrap();
        for table in TABLES {
            let copy = shape(&service, table).await;
            if copy.is_empty() {
                continue; // this service does not use the table
            }
            assert_eq!(
                copy,
                shape(&library, table).await,
                "{table} as {} makes it differs from libs/kafka/sql",
                folder.display()
            );
            copies += 1;
        }
    }
    // auth's and media's outbox, media's and user's processed_events at least.
    assert!(
        copies >= 4,
        "only {copies} copies found: is the migrations folder where it was?"
    );
}

/// `migrations/*`, each a service's (or a service group's) folder.
fn service_migration_folders() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("reading {}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    folders
}

/// One line per column and per index of `table`, in a stable order; empty when there is no
/// such table.
async fn shape(pool: &PgPool, table: &str) -> Vec<String> {
    let queries = [
        "select column_name || ' ' || data_type || ' nullable=' || is_nullable
                || ' default=' || coalesce(column_default, '-')
           from information_schema.columns
          where table_schema = 'public' and table_name = $1
          order by column_name",
        "select indexdef from pg_indexes
          where schemaname = 'public' and tablename = $1
          order by indexname",
    ];
    let mut lines = Vec::new();
    for query in queries {
        let found: Vec<String> = sqlx::query_scalar(query)
            .bind(table)
            .fetch_all(pool)
            .await
            .unwrap();
        lines.extend(found);
    }
    lines
}
