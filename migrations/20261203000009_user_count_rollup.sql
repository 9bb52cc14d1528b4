-- Exact user counts per registration source x region without scanning "User": every
-- statement that changes "User" appends its net change here (statement-level triggers over
-- transition tables, so services writing "User" directly are counted too). Appending,
-- rather than updating one row per cell, keeps concurrent sign-ups from queueing on a hot
-- row; the portal folds the appended rows together from time to time.
CREATE TABLE IF NOT EXISTS "UserCountDelta" (
    "id" BIGSERIAL NOT NULL,
    "registrationSource" "RegistrationSource" NOT NULL,
    "region" "Region" NOT NULL,
    "delta" BIGINT NOT NULL,
    CONSTRAINT "UserCountDelta_pkey" PRIMARY KEY ("id")
);

CREATE OR REPLACE FUNCTION portal_user_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "UserCountDelta" ("registrationSource", "region", "delta")
    SELECT "registrationSource", "region", count(*) FROM portal_new GROUP BY 1, 2;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_user_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "UserCountDelta" ("registrationSource", "region", "delta")
    SELECT "registrationSource", "region", -count(*) FROM portal_old GROUP BY 1, 2;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_user_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "UserCountDelta" ("registrationSource", "region", "delta")
    SELECT s, r, sum(d) FROM (
        SELECT "registrationSource" AS s, "region" AS r, -1 AS d FROM portal_old
        UNION ALL
        SELECT "registrationSource", "region", 1 FROM portal_new
    ) changes
    GROUP BY 1, 2 HAVING sum(d) <> 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_user_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM "UserCountDelta";
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS "User_count_insert" ON "User";
DROP TRIGGER IF EXISTS "User_count_delete" ON "User";
DROP TRIGGER IF EXISTS "User_count_update" ON "User";
DROP TRIGGER IF EXISTS "User_count_truncate" ON "User";
CREATE TRIGGER "User_count_insert" AFTER INSERT ON "User"
    REFERENCING NEW TABLE AS portal_new FOR EACH STATEMENT EXECUTE FUNCTION portal_user_count_insert();
CREATE TRIGGER "User_count_delete" AFTER DELETE ON "User"
    REFERENCING OLD TABLE AS portal_old FOR EACH STATEMENT EXECUTE FUNCTION portal_user_count_delete();
CREATE TRIGGER "User_count_update" AFTER UPDATE ON "User"
    REFERENCING OLD TABLE AS portal_old NEW TABLE AS portal_new
    FOR EACH STATEMENT EXECUTE FUNCTION portal_user_count_update();
CREATE TRIGGER "User_count_truncate" AFTER TRUNCATE ON "User"
    FOR EACH STATEMENT EXECUTE FUNCTION portal_user_count_truncate();

-- The rows already there (a legacy table, or a re-run), counted once.
DELETE FROM "UserCountDelta";
INSERT INTO "UserCountDelta" ("registrationSource", "region", "delta")
SELECT "registrationSource", "region", count(*) FROM "User" GROUP BY 1, 2;
