-- One person, one identity: what staff need to block, erase and merge people, to find
-- probable duplicates, and to read the audit log fast. Every column is nullable or
-- defaulted, so Prisma clients of the same table keep working.

-- A blocked person cannot sign in by any route; the reason is what staff wrote.
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "blockedAt" TIMESTAMP(3);
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "blockedReason" TEXT;
-- Set when the person's personal data was erased on request; the row stays, anonymous, so
-- event counts stay true.
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "erasedAt" TIMESTAMP(3);
-- The password was set by a SUPER_ADMIN for one use: the next sign-in must replace it.
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "passwordChangeRequired" BOOLEAN NOT NULL DEFAULT false;

-- The folded full name (../shared/search-folding.md) that two records of one person share,
-- whatever apostrophes, script or spacing each was typed with. NULL when there is no name.
CREATE OR REPLACE FUNCTION portal_name_key(first TEXT, last TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(btrim(regexp_replace(portal_fold(COALESCE(first, '') || ' ' || COALESCE(last, '')), '\s+', ' ', 'g')), '') $$;

-- Possible duplicates: the same phone digits however they were written, the same folded
-- name in the same region, a Telegram username equal to another record's handle.
CREATE INDEX IF NOT EXISTS "User_phoneDigits_idx"
    ON "User" ((regexp_replace("phone", '[^0-9]', '', 'g')))
    WHERE "phone" IS NOT NULL;
CREATE INDEX IF NOT EXISTS "User_nameKey_region_idx"
    ON "User" ((portal_name_key("firstName", "lastName")), "region")
    WHERE portal_name_key("firstName", "lastName") IS NOT NULL;
CREATE INDEX IF NOT EXISTS "User_telegramUsername_lower_idx"
    ON "User" ((lower("telegramUsername")))
    WHERE "telegramUsername" IS NOT NULL;

-- The audit log: staff actions newest first. A staff action is an ADMIN_* row, a
-- SESSION_REVOKED row, or any row naming a target user; queries repeat this predicate
-- word for word so the planner can use the partial index.
CREATE INDEX IF NOT EXISTS "EventLog_staffAction_createdAt_idx"
    ON "EventLog" ("createdAt" DESC, "id" DESC)
    WHERE starts_with("eventType", 'ADMIN_') OR "eventType" = 'SESSION_REVOKED' OR "metadata" ? 'targetUserId';
