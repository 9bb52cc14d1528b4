-- Rollups behind the dashboard, kept by the database itself so that every writer of "User"
-- and "EventLog" (this portal, the ingestion API, other services through Prisma, bulk COPY)
-- keeps them exact. Statement-level triggers over transition tables append per-statement
-- deltas instead of updating one hot row per cell; the portal folds the appended rows
-- together from time to time (portal_compact_activity_rollups).
--
-- Days are local days in the portal's time zone (PORTAL_TIMEZONE). The zone the rollups were
-- built in is recorded in "ActivityRollupState"; when the portal runs with another zone it
-- rebuilds them once (portal_rebuild_activity_rollups).
--
-- Staff actions ("eventType" ADMIN_* or SESSION_REVOKED, CONTRACT §2) and failed sign-ins
-- (LOGIN_FAILED: anyone who knows a phone number can cause one) are no user's
-- activity and are left out of every figure here.

CREATE TABLE IF NOT EXISTS "ActivityRollupState" (
    "id" INTEGER NOT NULL,
    "timeZone" TEXT NOT NULL,
    "rebuiltAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ActivityRollupState_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ActivityRollupState_id_check" CHECK ("id" = 1)
);

-- Sign-ups per local day of "User"."createdAt" and registration source.
CREATE TABLE IF NOT EXISTS "UserSignupDelta" (
    "id" BIGSERIAL NOT NULL,
    "day" DATE NOT NULL,
    "registrationSource" "RegistrationSource" NOT NULL,
    "delta" BIGINT NOT NULL,
    CONSTRAINT "UserSignupDelta_pkey" PRIMARY KEY ("id")
);
CREATE INDEX IF NOT EXISTS "UserSignupDelta_day_idx" ON "UserSignupDelta"("day");

-- Events per local day, platform and type (staff actions excluded).
CREATE TABLE IF NOT EXISTS "EventCountDelta" (
    "id" BIGSERIAL NOT NULL,
    "day" DATE NOT NULL,
    "platform" "RegistrationSource" NOT NULL,
    "eventType" TEXT NOT NULL,
    "delta" BIGINT NOT NULL,
    CONSTRAINT "EventCountDelta_pkey" PRIMARY KEY ("id")
);
CREATE INDEX IF NOT EXISTS "EventCountDelta_day_idx" ON "EventCountDelta"("day");

-- Distinct active users. Summing daily figures would count a person once per day, so the
-- database keeps, per person and scope (a platform's name, or ALL for any platform), the
-- last local day on which they did anything, and a histogram of those last days. The
-- number of people active on or after day D (DAU/WAU/MAU, windows ending today) is then the
-- histogram's sum over days >= D: a few thousand small rows, whatever the number of users.
-- A late event with an older "createdAt" moves nobody's last day back, and is counted.
CREATE TABLE IF NOT EXISTS "UserLastActive" (
    "userId" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "lastDay" DATE NOT NULL,
    "prevDay" DATE,
    CONSTRAINT "UserLastActive_pkey" PRIMARY KEY ("userId", "scope")
);

CREATE TABLE IF NOT EXISTS "ActiveUserDelta" (
    "id" BIGSERIAL NOT NULL,
    "scope" TEXT NOT NULL,
    "lastDay" DATE NOT NULL,
    "delta" BIGINT NOT NULL,
    CONSTRAINT "ActiveUserDelta_pkey" PRIMARY KEY ("id")
);
CREATE INDEX IF NOT EXISTS "ActiveUserDelta_lastDay_idx" ON "ActiveUserDelta"("lastDay");

CREATE OR REPLACE FUNCTION portal_is_not_activity(t TEXT) RETURNS BOOLEAN
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT starts_with(t, 'ADMIN_') OR t IN ('SESSION_REVOKED', 'LOGIN_FAILED') $$;

-- The local day of a UTC "TIMESTAMP(3)" in zone tz.
CREATE OR REPLACE FUNCTION portal_local_day(t TIMESTAMP, tz TEXT) RETURNS DATE
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT ((t AT TIME ZONE 'UTC') AT TIME ZONE tz)::date $$;

CREATE OR REPLACE FUNCTION portal_rollup_timezone() RETURNS TEXT
    LANGUAGE sql STABLE
    AS $$ SELECT COALESCE((SELECT "timeZone" FROM "ActivityRollupState" WHERE "id" = 1), 'Asia/Tashkent') $$;

-- ---------------------------------------------------------------------------------------
-- "User": sign-ups per day

CREATE OR REPLACE FUNCTION portal_signup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tz TEXT := portal_rollup_timezone();
BEGIN
    INSERT INTO "UserSignupDelta" ("day", "registrationSource", "delta")
    SELECT portal_local_day("createdAt", tz), "registrationSource", count(*) FROM portal_new GROUP BY 1, 2;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_signup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tz TEXT := portal_rollup_timezone();
BEGIN
    INSERT INTO "UserSignupDelta" ("day", "registrationSource", "delta")
    SELECT portal_local_day("createdAt", tz), "registrationSource", -count(*) FROM portal_old GROUP BY 1, 2;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_signup_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tz TEXT := portal_rollup_timezone();
BEGIN
    INSERT INTO "UserSignupDelta" ("day", "registrationSource", "delta")
    SELECT d, s, sum(n) FROM (
        SELECT portal_local_day("createdAt", tz) AS d, "registrationSource" AS s, -1 AS n FROM portal_old
        UNION ALL
        SELECT portal_local_day("createdAt", tz), "registrationSource", 1 FROM portal_new
    ) changes
    GROUP BY 1, 2 HAVING sum(n) <> 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_signup_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM "UserSignupDelta";
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS "User_signup_insert" ON "User";
DROP TRIGGER IF EXISTS "User_signup_delete" ON "User";
DROP TRIGGER IF EXISTS "User_signup_update" ON "User";
DROP TRIGGER IF EXISTS "User_signup_truncate" ON "User";
CREATE TRIGGER "User_signup_insert" AFTER INSERT ON "User"
    REFERENCING NEW TABLE AS portal_new FOR EACH STATEMENT EXECUTE FUNCTION portal_signup_insert();
CREATE TRIGGER "User_signup_delete" AFTER DELETE ON "User"
    REFERENCING OLD TABLE AS portal_old FOR EACH STATEMENT EXECUTE FUNCTION portal_signup_delete();
CREATE TRIGGER "User_signup_update" AFTER UPDATE ON "User"
    REFERENCING OLD TABLE AS portal_old NEW TABLE AS portal_new
    FOR EACH STATEMENT EXECUTE FUNCTION portal_signup_update();
CREATE TRIGGER "User_signup_truncate" AFTER TRUNCATE ON "User"
    FOR EACH STATEMENT EXECUTE FUNCTION portal_signup_truncate();

-- ---------------------------------------------------------------------------------------
-- "EventLog": events per day and last active days

-- Recomputes the last active days of some people from "EventLog" (after their events were
-- deleted or changed), through "EventLog_userId_createdAt_idx".
CREATE OR REPLACE FUNCTION portal_recompute_last_active(users TEXT[], tz TEXT) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF users IS NULL OR cardinality(users) = 0 THEN
        RETURN;
    END IF;
    -- Two writers recomputing one person would both delete, then both insert the same key:
    -- take each person's lock first, in one order so two batches cannot deadlock.
    PERFORM pg_advisory_xact_lock(hashtextextended(u, 0))
    FROM (SELECT DISTINCT unnest(users) AS u ORDER BY 1) s;
    WITH gone AS (
        DELETE FROM "UserLastActive" WHERE "userId" = ANY (users) RETURNING "scope", "lastDay"
    )
    INSERT INTO "ActiveUserDelta" ("scope", "lastDay", "delta")
    SELECT "scope", "lastDay", -count(*) FROM gone GROUP BY 1, 2;

    WITH last AS (
        SELECT "userId", "platform"::text AS p, max("createdAt") AS t
        FROM "EventLog"
        WHERE "userId" = ANY (users) AND NOT portal_is_not_activity("eventType")
        GROUP BY 1, 2
    ), fresh AS (
        INSERT INTO "UserLastActive" ("userId", "scope", "lastDay")
        SELECT "userId", p, portal_local_day(t, tz) FROM last
        UNION ALL
        SELECT "userId", 'ALL', portal_local_day(max(t), tz) FROM last GROUP BY 1
        RETURNING "scope", "lastDay"
    )
    INSERT INTO "ActiveUserDelta" ("scope", "lastDay", "delta")
    SELECT "scope", "lastDay", count(*) FROM fresh GROUP BY 1, 2;
END
$$;

CREATE OR REPLACE FUNCTION portal_event_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tz TEXT := portal_rollup_timezone();
BEGIN
    INSERT INTO "EventCountDelta" ("day", "platform", "eventType", "delta")
    SELECT portal_local_day("createdAt", tz), "platform", "eventType", count(*)
    FROM portal_new WHERE NOT portal_is_not_activity("eventType")
    GROUP BY 1, 2, 3;

    -- Each person's newest day per scope in this statement; a row moves only forward, and
    -- keeps the day it left in "prevDay" so the histogram can move the person along.
    -- Rows are taken in key order so that concurrent batches lock them in the same order.
    WITH last AS (
        SELECT "userId", "platform"::text AS p, max("createdAt") AS t
        FROM portal_new WHERE NOT portal_is_not_activity("eventType")
        GROUP BY 1, 2
    ), wanted AS (
        SELECT "userId", p AS "scope", portal_local_day(t, tz) AS d FROM last
        UNION ALL
        SELECT "userId", 'ALL', portal_local_day(max(t), tz) FROM last GROUP BY 1
    ), moved AS (
        INSERT INTO "UserLastActive" AS u ("userId", "scope", "lastDay", "prevDay")
        SELECT "userId", "scope", d, NULL FROM wanted ORDER BY "userId", "scope"
        ON CONFLICT ("userId", "scope") DO UPDATE
            SET "prevDay" = u."lastDay", "lastDay" = EXCLUDED."lastDay"
            WHERE u."lastDay" < EXCLUDED."lastDay"
        RETURNING u."scope", u."lastDay", u."prevDay"
    )
    INSERT INTO "ActiveUserDelta" ("scope", "lastDay", "delta")
    SELECT s, d, sum(n) FROM (
        SELECT "scope" AS s, "lastDay" AS d, 1 AS n FROM moved
        UNION ALL
        SELECT "scope", "prevDay", -1 FROM moved WHERE "prevDay" IS NOT NULL
    ) changes
    GROUP BY 1, 2 HAVING sum(n) <> 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_event_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tz TEXT := portal_rollup_timezone();
BEGIN
    INSERT INTO "EventCountDelta" ("day", "platform", "eventType", "delta")
    SELECT portal_local_day("createdAt", tz), "platform", "eventType", -count(*)
    FROM portal_old WHERE NOT portal_is_not_activity("eventType")
    GROUP BY 1, 2, 3;
    PERFORM portal_recompute_last_active(
        ARRAY(SELECT DISTINCT "userId" FROM portal_old WHERE NOT portal_is_not_activity("eventType")),
        tz);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_event_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tz TEXT := portal_rollup_timezone();
BEGIN
    INSERT INTO "EventCountDelta" ("day", "platform", "eventType", "delta")
    SELECT d, p, t, sum(n) FROM (
        SELECT portal_local_day("createdAt", tz) AS d, "platform" AS p, "eventType" AS t, -1 AS n
        FROM portal_old WHERE NOT portal_is_not_activity("eventType")
        UNION ALL
        SELECT portal_local_day("createdAt", tz), "platform", "eventType", 1
        FROM portal_new WHERE NOT portal_is_not_activity("eventType")
    ) changes
    GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    -- Only people whose rows changed in a way that matters (not a metadata edit).
    PERFORM portal_recompute_last_active(ARRAY(
        SELECT DISTINCT "userId" FROM (
            (SELECT "id", "userId", "eventType", "platform", "createdAt" FROM portal_old
             EXCEPT SELECT "id", "userId", "eventType", "platform", "createdAt" FROM portal_new)
            UNION ALL
            (SELECT "id", "userId", "eventType", "platform", "createdAt" FROM portal_new
             EXCEPT SELECT "id", "userId", "eventType", "platform", "createdAt" FROM portal_old)
        ) changed), tz);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION portal_event_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM "EventCountDelta";
    DELETE FROM "UserLastActive";
    DELETE FROM "ActiveUserDelta";
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS "EventLog_rollup_insert" ON "EventLog";
DROP TRIGGER IF EXISTS "EventLog_rollup_delete" ON "EventLog";
DROP TRIGGER IF EXISTS "EventLog_rollup_update" ON "EventLog";
DROP TRIGGER IF EXISTS "EventLog_rollup_truncate" ON "EventLog";
CREATE TRIGGER "EventLog_rollup_insert" AFTER INSERT ON "EventLog"
    REFERENCING NEW TABLE AS portal_new FOR EACH STATEMENT EXECUTE FUNCTION portal_event_insert();
CREATE TRIGGER "EventLog_rollup_delete" AFTER DELETE ON "EventLog"
    REFERENCING OLD TABLE AS portal_old FOR EACH STATEMENT EXECUTE FUNCTION portal_event_delete();
CREATE TRIGGER "EventLog_rollup_update" AFTER UPDATE ON "EventLog"
    REFERENCING OLD TABLE AS portal_old NEW TABLE AS portal_new
    FOR EACH STATEMENT EXECUTE FUNCTION portal_event_update();
CREATE TRIGGER "EventLog_rollup_truncate" AFTER TRUNCATE ON "EventLog"
    FOR EACH STATEMENT EXECUTE FUNCTION portal_event_truncate();

-- ---------------------------------------------------------------------------------------
-- Rebuild and compaction

-- Recounts every rollup from "User" and "EventLog" in zone tz. Writers of the two tables
-- wait meanwhile, so nothing is counted twice or missed. Returns false when the rollups
-- were built in tz already and force is false.
CREATE OR REPLACE FUNCTION portal_rebuild_activity_rollups(tz TEXT, force BOOLEAN DEFAULT true)
    RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    PERFORM now() AT TIME ZONE tz; -- an unknown zone fails here, before anything changes
    LOCK TABLE "User", "EventLog" IN SHARE MODE;
    IF NOT force AND EXISTS (SELECT 1 FROM "ActivityRollupState" WHERE "id" = 1 AND "timeZone" = tz) THEN
        RETURN false;
    END IF;
    INSERT INTO "ActivityRollupState" ("id", "timeZone", "rebuiltAt")
    VALUES (1, tz, now() AT TIME ZONE 'UTC')
    ON CONFLICT ("id") DO UPDATE SET "timeZone" = EXCLUDED."timeZone", "rebuiltAt" = EXCLUDED."rebuiltAt";
    TRUNCATE "UserSignupDelta", "EventCountDelta", "UserLastActive", "ActiveUserDelta";

    INSERT INTO "UserSignupDelta" ("day", "registrationSource", "delta")
    SELECT portal_local_day("createdAt", tz), "registrationSource", count(*) FROM "User" GROUP BY 1, 2;

    INSERT INTO "EventCountDelta" ("day", "platform", "eventType", "delta")
    SELECT portal_local_day("createdAt", tz), "platform", "eventType", count(*)
    FROM "EventLog" WHERE NOT portal_is_not_activity("eventType")
    GROUP BY 1, 2, 3;

    WITH last AS (
        SELECT "userId", "platform"::text AS p, max("createdAt") AS t
        FROM "EventLog" WHERE NOT portal_is_not_activity("eventType")
        GROUP BY 1, 2
    )
    INSERT INTO "UserLastActive" ("userId", "scope", "lastDay")
    SELECT "userId", p, portal_local_day(t, tz) FROM last
    UNION ALL
    SELECT "userId", 'ALL', portal_local_day(max(t), tz) FROM last GROUP BY 1;

    INSERT INTO "ActiveUserDelta" ("scope", "lastDay", "delta")
    SELECT "scope", "lastDay", count(*) FROM "UserLastActive" GROUP BY 1, 2;
    RETURN true;
END
$$;

-- Folds the appended deltas into one row per cell. Rows appended meanwhile are not in the
-- statements' snapshots and stay for the next run.
CREATE OR REPLACE FUNCTION portal_compact_activity_rollups() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (DELETE FROM "UserSignupDelta" RETURNING "day", "registrationSource", "delta")
    INSERT INTO "UserSignupDelta" ("day", "registrationSource", "delta")
    SELECT "day", "registrationSource", sum("delta") FROM gone GROUP BY 1, 2 HAVING sum("delta") <> 0;

    WITH gone AS (DELETE FROM "EventCountDelta" RETURNING "day", "platform", "eventType", "delta")
    INSERT INTO "EventCountDelta" ("day", "platform", "eventType", "delta")
    SELECT "day", "platform", "eventType", sum("delta") FROM gone GROUP BY 1, 2, 3 HAVING sum("delta") <> 0;

    WITH gone AS (DELETE FROM "ActiveUserDelta" RETURNING "scope", "lastDay", "delta")
    INSERT INTO "ActiveUserDelta" ("scope", "lastDay", "delta")
    SELECT "scope", "lastDay", sum("delta") FROM gone GROUP BY 1, 2 HAVING sum("delta") <> 0;
END
$$;

-- The rows already there (a database with data, or a re-run), counted once, in the zone
-- recorded before or else the default one; the portal rebuilds once more if it runs with
-- another zone.
SELECT portal_rebuild_activity_rollups(portal_rollup_timezone());
