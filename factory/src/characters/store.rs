//! Characters in PostgreSQL, per project: made from a seed and locks, listed and searched by
//! name, rerolled (a new seed, the same locks) or relocked (the same seed, changed locks),
//! duplicated and deleted. Each row keeps the sheet as it was made, so a later generator
//! version never changes a saved character; regenerating one uses the current generator.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{generate, Character, CharacterError, Locks, GENERATOR_VERSION};

pub use super::MAX_SEED;

/// A seed for a new character.
pub fn new_seed() -> u64 {
    rand::random::<u64>() & MAX_SEED
}

pub fn check_seed(seed: u64) -> Result<u64, CharacterError> {
    if seed > MAX_SEED {
        return Err(CharacterError::Invalid(format!(
            "A seed is a whole number from 0 to {MAX_SEED}; {seed} is too large."
        )));
    }
    Ok(seed)
}

/// Saves a party of `size` made from `seed` (see [`super::party`]), each member its own row.
pub async fn create_party(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    seed: Option<u64>,
    size: usize,
    locks: &Locks,
) -> Result<Vec<Saved>, CharacterError> {
    let seed = check_seed(seed.unwrap_or_else(new_seed))?;
    let members = super::party_plan(seed, size, locks)?;
    // All or none: a failure part-way leaves no half party behind.
    conn.transaction(async |conn| {
        let mut saved = Vec::with_capacity(members.len());
        for (seed, locks) in &members {
            saved.push(create(conn, project_id, Some(*seed), locks).await?);
        }
        Ok(saved)
    })
    .await
}

/// A saved character.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub id: i64,
    pub project_id: i64,
    pub seed: u64,
    pub locks: Locks,
    pub sheet: Character,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    project_id: i64,
    #[diesel(sql_type = BigInt)]
    seed: i64,
    #[diesel(sql_type = Jsonb)]
    locks: serde_json::Value,
    #[diesel(sql_type = Jsonb)]
    sheet: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
}

impl Row {
    fn saved(self) -> Result<Saved, CharacterError> {
        let broken = |e: serde_json::Error| {
            CharacterError::Database(diesel::result::Error::DeserializationError(e.into()))
        };
        Ok(Saved {
            id: self.id,
            project_id: self.project_id,
            seed: self.seed as u64,
            locks: serde_json::from_value(self.locks).map_err(broken)?,
            sheet: serde_json::from_value(self.sheet).map_err(broken)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// One line of a project's list.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Summary {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Integer)]
    pub level: i32,
    #[diesel(sql_type = Text)]
    pub ancestry: String,
    #[diesel(sql_type = Text)]
    pub class: String,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, project_id, seed, locks, sheet, created_at, updated_at";

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("characters serialise")
}

fn missing(id: i64) -> impl Fn(diesel::result::Error) -> CharacterError {
    move |e| match e {
        diesel::result::Error::NotFound => CharacterError::NotFound(id),
        e => e.into(),
    }
}

/// Makes the character of `seed` (a new one when `None`) with `locks`, and saves it.
pub async fn create(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    seed: Option<u64>,
    locks: &Locks,
) -> Result<Saved, CharacterError> {
    let seed = check_seed(seed.unwrap_or_else(new_seed))?;
    let sheet = generate(seed, locks)?;
    match insert(conn, project_id, seed, locks, &sheet).await {
        Err(CharacterError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        ))) => Err(CharacterError::NoProject(project_id)),
        other => other,
    }
}

async fn insert(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    seed: u64,
    locks: &Locks,
    sheet: &Character,
) -> Result<Saved, CharacterError> {
    sql_query(format!(
        "INSERT INTO characters (project_id, name, seed, locks, sheet, generator)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind::<BigInt, _>(project_id)
    .bind::<Text, _>(&sheet.name)
    .bind::<BigInt, _>(seed as i64)
    .bind::<Jsonb, _>(json(locks))
    .bind::<Jsonb, _>(json(sheet))
    .bind::<Integer, _>(sheet.generator as i32)
    .get_result::<Row>(conn)
    .await?
    .saved()
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Saved, CharacterError> {
    sql_query(format!("SELECT {COLUMNS} FROM characters WHERE id = $1"))
        .bind::<BigInt, _>(id)
        .get_result::<Row>(conn)
        .await
        .map_err(missing(id))?
        .saved()
}

/// A project's characters, newest first; with `search`, those whose name holds it (any case).
/// At most `limit` (1 to 500).
pub async fn list(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    search: Option<&str>,
    limit: i64,
) -> Result<Vec<Summary>, CharacterError> {
    let pattern = search.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        format!(
            "%{}%",
            s.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    Ok(sql_query(
        "SELECT id, name, (sheet->>'level')::integer AS level, sheet->>'ancestry_name' AS ancestry,
                sheet->>'class_name' AS class, updated_at
         FROM characters
         WHERE project_id = $1 AND ($2::text IS NULL OR lower(name) LIKE $2)
         ORDER BY id DESC LIMIT $3",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<Nullable<Text>, _>(pattern)
    .bind::<BigInt, _>(limit.clamp(1, 500))
    .load(conn)
    .await?)
}

/// Makes the character again from `seed` and `locks` (a reroll: a new seed; a changed lock:
/// the same seed) and saves it over the old sheet, in one statement.
pub async fn regenerate(
    conn: &mut AsyncPgConnection,
    id: i64,
    seed: u64,
    locks: &Locks,
) -> Result<Saved, CharacterError> {
    let seed = check_seed(seed)?;
    let sheet = generate(seed, locks)?;
    sql_query(format!(
        "UPDATE characters SET name = $2, seed = $3, locks = $4, sheet = $5, generator = $6,
             updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(&sheet.name)
    .bind::<BigInt, _>(seed as i64)
    .bind::<Jsonb, _>(json(locks))
    .bind::<Jsonb, _>(json(&sheet))
    .bind::<Integer, _>(GENERATOR_VERSION as i32)
    .get_result::<Row>(conn)
    .await
    .map_err(missing(id))?
    .saved()
}

/// A copy in the same project, named "… (copy)" (the name locked, so rerolling the copy keeps
/// it); everything else as it is.
pub async fn duplicate(conn: &mut AsyncPgConnection, id: i64) -> Result<Saved, CharacterError> {
    let original = get(conn, id).await?;
    let name: String = format!("{} (copy)", original.sheet.name)
        .chars()
        .take(60)
        .collect();
    let mut sheet = original.sheet.clone();
    sheet.name = name.clone();
    let locks = Locks {
        name: Some(name),
        ..original.locks.clone()
    };
    insert(conn, original.project_id, original.seed, &locks, &sheet).await
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), CharacterError> {
    let gone = sql_query("DELETE FROM characters WHERE id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    if gone == 0 {
        return Err(CharacterError::NotFound(id));
    }
    Ok(())
}
