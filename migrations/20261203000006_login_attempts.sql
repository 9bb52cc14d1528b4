-- Failed password sign-ins per (phone, client address), shared by every portal instance.
-- The key is a digest, so the table holds neither phones nor addresses.
CREATE TABLE IF NOT EXISTS "LoginAttempt" (
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "LoginAttempt_pkey" PRIMARY KEY ("key")
);
CREATE INDEX IF NOT EXISTS "LoginAttempt_updatedAt_idx" ON "LoginAttempt"("updatedAt");
