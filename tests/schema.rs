//! The schema as Prisma would have made it, and the migrations over a legacy database.

use sqlx::PgPool;

async fn rows(pool: &PgPool, sql: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(sql)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn migrations_keep_a_legacy_user_table_and_its_rows(pool: PgPool) {
    // An older Prisma schema: a smaller role enum, an extra column, any text ids, and a
    // table that references "User".
    sqlx::raw_sql(
        r#"
        CREATE TYPE "UserRole" AS ENUM ('USER', 'ADMIN');
        CREATE TABLE "User" (
            "id" TEXT NOT NULL,
            "firstName" TEXT,
            "lastName" TEXT,
            "phone" TEXT,
            "email" TEXT,
            "role" "UserRole" NOT NULL DEFAULT 'USER',
            "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updatedAt" TIMESTAMP(3) NOT NULL,
            CONSTRAINT "User_pkey" PRIMARY KEY ("id")
        );
        CREATE UNIQUE INDEX "User_phone_key" ON "User"("phone");
        CREATE TABLE "Order" (
            "id" SERIAL PRIMARY KEY,
            "userId" TEXT NOT NULL REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
            "total" INTEGER NOT NULL
        );
        INSERT INTO "User" ("id", "firstName", "lastName", "phone", "email", "role", "createdAt", "updatedAt") VALUES
            ('ckv9legacy0001', 'Gʻulom', 'Qodirov', '+998901234567', 'g@example.uz', 'ADMIN', '2021-03-04 05:06:07.123', '2022-01-01 00:00:00'),
            ('42', 'Анна', NULL, NULL, NULL, 'USER', '2020-01-01 00:00:00', '2020-01-01 00:00:00'),
            ('plain text id with spaces', NULL, NULL, '+998935554433', 'x@y.z', 'USER', '2023-07-08 09:10:11.5', '2023-07-08 09:10:11.5');
        INSERT INTO "Order" ("userId", "total") VALUES ('42', 100), ('ckv9legacy0001', 250);
        "#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let snapshot = r#"SELECT string_agg(concat_ws('|', "id", "firstName", "lastName", "phone", "email", "role"::text,
                             "createdAt"::text, "updatedAt"::text), E'\n' ORDER BY "id") FROM "User""#;
    let before: String = sqlx::query_scalar(snapshot).fetch_one(&pool).await.unwrap();
    let orders_before: String = sqlx::query_scalar(r#"SELECT string_agg(concat_ws('|', "id", "userId", "total"), ',' ORDER BY "id") FROM "Order""#)
        .fetch_one(&pool)
        .await
        .unwrap();

    unified_portal::db::migrate(&pool).await.unwrap();
    unified_portal::db::migrate(&pool).await.unwrap();

    let after: String = sqlx::query_scalar(snapshot).fetch_one(&pool).await.unwrap();
    assert_eq!(before, after, "every legacy row and column value is kept");
    let orders_after: String = sqlx::query_scalar(r#"SELECT string_agg(concat_ws('|', "id", "userId", "total"), ',' ORDER BY "id") FROM "Order""#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(orders_before, orders_after);
    // New columns take their defaults on old rows.
    let defaults = rows(
        &pool,
        r#"SELECT concat_ws('|', "registrationSource"::text, "region"::text, "language", coalesce("telegramId"::text, 'null'))
           FROM "User" ORDER BY "id""#,
    )
    .await;
    assert_eq!(defaults, vec!["WEB|UZ|uz|null"; 3]);
    let roles = rows(
        &pool,
        r#"SELECT unnest(enum_range(NULL::"UserRole"))::text"#,
    )
    .await;
    for r in ["USER", "SUPPORT", "ADMIN", "SUPER_ADMIN"] {
        assert!(
            roles.contains(&r.to_string()),
            "{r} added to the legacy enum"
        );
    }
    // The extended schema is usable on the legacy table.
    sqlx::query(
        r#"UPDATE "User" SET "role" = 'SUPER_ADMIN', "telegramId" = 5000000001 WHERE "id" = '42'"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(r#"INSERT INTO "EventLog" ("id", "userId", "eventType", "platform") VALUES ('e1', 'plain text id with spaces', 'LOGIN', 'WEB')"#)
        .execute(&pool)
        .await
        .unwrap();
}

#[sqlx::test]
async fn the_live_schema_matches_the_contract(pool: PgPool) {
    let columns = rows(
        &pool,
        r#"SELECT concat_ws(' ', table_name, column_name,
                   CASE WHEN data_type = 'USER-DEFINED' THEN udt_name
                        WHEN data_type LIKE 'timestamp%' THEN 'timestamp(' || datetime_precision || ')'
                        ELSE data_type END,
                   CASE WHEN is_nullable = 'YES' THEN 'null' ELSE 'not-null' END,
                   coalesce(column_default, '-'))
           FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name IN ('User', 'Session', 'EventLog')
           ORDER BY table_name, column_name"#,
    )
    .await;
    let expected = [
        r#"EventLog createdAt timestamp(3) not-null CURRENT_TIMESTAMP"#,
        r#"EventLog eventType text not-null -"#,
        r#"EventLog id text not-null -"#,
        r#"EventLog ipAddress text null -"#,
        r#"EventLog metadata jsonb null -"#,
        r#"EventLog platform RegistrationSource not-null -"#,
        r#"EventLog userAgent text null -"#,
        r#"EventLog userId text not-null -"#,
        r#"Session createdAt timestamp(3) not-null CURRENT_TIMESTAMP"#,
        r#"Session data jsonb not-null '{}'::jsonb"#,
        r#"Session deviceInfo text null -"#,
        r#"Session expiresAt timestamp(3) not-null -"#,
        r#"Session id text not-null -"#,
        r#"Session platform RegistrationSource not-null -"#,
        r#"Session token text not-null -"#,
        r#"Session userId text not-null -"#,
        // Blocking by staff (issue 8).
        r#"User blockedAt timestamp(3) null -"#,
        r#"User blockedReason text null -"#,
        r#"User createdAt timestamp(3) not-null CURRENT_TIMESTAMP"#,
        // Set when personal data was erased on request.
        r#"User erasedAt timestamp(3) null -"#,
        r#"User firstName text null -"#,
        r#"User id text not-null -"#,
        r#"User language text not-null 'uz'::text"#,
        r#"User lastName text null -"#,
        // A one-time password set by a SUPER_ADMIN must be replaced at the next sign-in.
        r#"User passwordChangeRequired boolean not-null false"#,
        r#"User passwordHash text null -"#,
        r#"User phone text null -"#,
        r#"User region Region not-null 'UZ'::"Region""#,
        r#"User registrationSource RegistrationSource not-null 'WEB'::"RegistrationSource""#,
        r#"User role UserRole not-null 'USER'::"UserRole""#,
        // Generated from the names, handle and phone for search (never written directly).
        r#"User searchText text null -"#,
        r#"User telegramId bigint null -"#,
        r#"User telegramPhotoUrl text null -"#,
        r#"User telegramUsername text null -"#,
        r#"User updatedAt timestamp(3) not-null -"#,
    ];
    assert_eq!(columns, expected);

    let enums = rows(
        &pool,
        r#"SELECT t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
           FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname ORDER BY t.typname"#,
    )
    .await;
    assert_eq!(
        enums,
        vec![
            "Region UZ,KZ,KG,TJ,TM,RU,OTHER",
            "RegistrationSource WEB,TELEGRAM,MOBILE_APP",
            "UserRole USER,SUPPORT,ADMIN,SUPER_ADMIN",
        ]
    );

    let constraints = rows(
        &pool,
        r#"SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text ||
                  CASE WHEN contype = 'f' THEN ' ' || confdeltype::text || confupdtype::text ELSE '' END
           FROM pg_constraint WHERE conrelid::regclass::text IN ('"User"', '"Session"', '"EventLog"')
           ORDER BY 1"#,
    )
    .await;
    assert_eq!(
        constraints,
        vec![
            r#""EventLog" EventLog_pkey p"#,
            r#""EventLog" EventLog_userId_fkey f rc"#,
            r#""Session" Session_pkey p"#,
            r#""Session" Session_userId_fkey f rc"#,
            r#""User" User_pkey p"#,
        ]
    );

    let unique = rows(
        &pool,
        r#"SELECT indexrelid::regclass::text FROM pg_index
           WHERE indisunique AND NOT indisprimary
             AND indrelid::regclass::text IN ('"User"', '"Session"', '"EventLog"') ORDER BY 1"#,
    )
    .await;
    assert_eq!(
        unique,
        vec![
            r#""Session_token_key""#,
            r#""User_phone_key""#,
            r#""User_telegramId_key""#
        ]
    );
    let indexes = rows(
        &pool,
        r#"SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
             AND tablename IN ('User', 'Session', 'EventLog') ORDER BY 1"#,
    )
    .await;
    for name in &indexes {
        assert!(
            name.ends_with("_pkey") || name.ends_with("_key") || name.ends_with("_idx"),
            "{name} is not named the Prisma way"
        );
    }
    assert!(indexes.contains(&"EventLog_userId_createdAt_idx".to_string()));
}
