-- Recomputing the last active day of many people at once (a bulk DELETE or UPDATE of
-- "EventLog") took one advisory lock per person and failed with "out of shared memory"
-- once they outgrew the lock table (64 × 100 entries by default, plus slack: 40,000 people
-- failed here); such a change now locks "UserLastActive" as a whole.
CREATE OR REPLACE FUNCTION portal_recompute_last_active(users TEXT[], tz TEXT) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF users IS NULL OR cardinality(users) = 0 THEN
        RETURN;
    END IF;
    -- Two writers recomputing one person would both delete, then both insert the same key:
    -- take each person's lock first, in one order so two batches cannot deadlock. A bulk
    -- change (a DELETE over many people) takes the table instead: one lock per person ran
    -- out of lock memory ("out of shared memory") for tens of thousands of people.
    IF cardinality(users) > 1000 THEN
        LOCK TABLE "UserLastActive" IN SHARE ROW EXCLUSIVE MODE;
    ELSE
        PERFORM pg_advisory_xact_lock(hashtextextended(u, 0))
        FROM (SELECT DISTINCT unnest(users) AS u ORDER BY 1) s;
    END IF;
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
