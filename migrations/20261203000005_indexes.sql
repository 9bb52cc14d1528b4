-- What the pages and sign-in need to be fast, named the Prisma way.
-- Users list: newest first within a source/region filter, and over everyone.
CREATE INDEX IF NOT EXISTS "User_createdAt_id_idx" ON "User"("createdAt" DESC, "id" DESC);
CREATE INDEX IF NOT EXISTS "User_registrationSource_region_createdAt_id_idx"
    ON "User"("registrationSource", "region", "createdAt" DESC, "id" DESC);
CREATE INDEX IF NOT EXISTS "User_region_createdAt_id_idx" ON "User"("region", "createdAt" DESC, "id" DESC);
CREATE INDEX IF NOT EXISTS "User_role_idx" ON "User"("role");
-- Sessions of a user (account page, revocation) and the expiry sweep.
CREATE INDEX IF NOT EXISTS "Session_userId_idx" ON "Session"("userId");
CREATE INDEX IF NOT EXISTS "Session_expiresAt_idx" ON "Session"("expiresAt");
-- A user's timeline, newest first with a stable tiebreak.
CREATE INDEX IF NOT EXISTS "EventLog_userId_createdAt_idx" ON "EventLog"("userId", "createdAt" DESC, "id" DESC);
-- The events explorer: everything, or one type / platform, newest first.
CREATE INDEX IF NOT EXISTS "EventLog_createdAt_idx" ON "EventLog"("createdAt" DESC, "id" DESC);
CREATE INDEX IF NOT EXISTS "EventLog_eventType_createdAt_idx" ON "EventLog"("eventType", "createdAt" DESC, "id" DESC);
CREATE INDEX IF NOT EXISTS "EventLog_platform_createdAt_idx" ON "EventLog"("platform", "createdAt" DESC, "id" DESC);
