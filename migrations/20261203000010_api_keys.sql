-- Credentials of the other platforms (the Telegram bot, the mobile app …) for the event
-- ingestion API (CONTRACT §2). The key itself is shown once and never stored: "keyHash" is
-- the SHA-256 (hex) of the whole key string, unique so that lookup goes through the index.
CREATE TABLE IF NOT EXISTS "ApiKey" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "platform" "RegistrationSource" NOT NULL,
    "keyHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX IF NOT EXISTS "ApiKey_keyHash_key" ON "ApiKey"("keyHash");
