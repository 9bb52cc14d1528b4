-- A staff action is a row of the portal's own staff types: ADMIN_* and SESSION_REVOKED. Any
-- writer of "EventLog" (the events API included) may put a targetUserId in its metadata, so
-- that alone no longer makes a row one; the audit log's partial index follows, and queries
-- repeat this predicate word for word so the planner can use it.
CREATE INDEX IF NOT EXISTS "EventLog_staffActionType_createdAt_idx"
    ON "EventLog" ("createdAt" DESC, "id" DESC)
    WHERE starts_with("eventType", 'ADMIN_') OR "eventType" = 'SESSION_REVOKED';
DROP INDEX IF EXISTS "EventLog_staffAction_createdAt_idx";
