-- A user's page lists the staff actions taken on them: EventLog rows of the staff member
-- whose metadata names the user as targetUserId.
CREATE INDEX IF NOT EXISTS "EventLog_targetUserId_createdAt_idx"
    ON "EventLog" (("metadata" ->> 'targetUserId'), "createdAt" DESC)
    WHERE "metadata" ? 'targetUserId';
