-- Seed step 1 "Add Fields": the Telegram identity and the system metadata on "User",
-- plus the portal's password hash (argon2id PHC string, nullable).
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "telegramId" BIGINT;
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "telegramUsername" TEXT;
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "telegramPhotoUrl" TEXT;
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "registrationSource" "RegistrationSource" NOT NULL DEFAULT 'WEB';
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "region" "Region" NOT NULL DEFAULT 'UZ';
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "language" TEXT NOT NULL DEFAULT 'uz';
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "passwordHash" TEXT;

-- Seed step 3 "Indexes": telegramId is how every Telegram sign-in finds its user.
CREATE UNIQUE INDEX IF NOT EXISTS "User_telegramId_key" ON "User"("telegramId");
