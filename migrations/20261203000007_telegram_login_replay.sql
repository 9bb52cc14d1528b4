-- Widget sign-in data opens at most one session: the digest of every used payload is kept
-- until the payload itself would be too old to accept.
CREATE TABLE IF NOT EXISTS "TelegramLoginReplay" (
    "digest" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TelegramLoginReplay_pkey" PRIMARY KEY ("digest")
);
CREATE INDEX IF NOT EXISTS "TelegramLoginReplay_expiresAt_idx" ON "TelegramLoginReplay"("expiresAt");
