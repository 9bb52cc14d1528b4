-- pgbench: the SQL transaction of one Telegram widget sign-in, as the portal runs it
-- (upsert the user, claim the payload, open the session, log the event).
\set tid random(1000000000, 1000100000)
BEGIN;
INSERT INTO "User" ("id", "telegramId", "firstName", "lastName", "telegramUsername",
                    "telegramPhotoUrl", "registrationSource", "language", "updatedAt")
VALUES (gen_random_uuid()::text, :tid, 'Bench', 'User', 'bench_user', NULL, 'TELEGRAM', 'uz', now() AT TIME ZONE 'UTC')
ON CONFLICT ("telegramId") DO UPDATE SET
    "telegramUsername" = EXCLUDED."telegramUsername",
    "telegramPhotoUrl" = EXCLUDED."telegramPhotoUrl",
    "firstName" = COALESCE(NULLIF("User"."firstName", ''), EXCLUDED."firstName"),
    "lastName" = COALESCE(NULLIF("User"."lastName", ''), EXCLUDED."lastName"),
    "updatedAt" = EXCLUDED."updatedAt"
RETURNING "id" AS uid \gset
INSERT INTO "TelegramLoginReplay" ("digest", "userId", "expiresAt")
VALUES (md5(random()::text) || md5(random()::text), :uid, now() AT TIME ZONE 'UTC' + interval '1 day')
ON CONFLICT ("digest") DO NOTHING;
INSERT INTO "Session" ("id", "userId", "token", "platform", "deviceInfo", "expiresAt")
VALUES (gen_random_uuid()::text, :uid, md5(random()::text) || md5(random()::text), 'TELEGRAM', 'wrk', now() AT TIME ZONE 'UTC' + interval '7 days');
INSERT INTO "EventLog" ("id", "userId", "eventType", "platform", "metadata", "ipAddress", "userAgent")
VALUES (gen_random_uuid()::text, :uid, 'LOGIN', 'TELEGRAM', '{"method": "telegram_widget_redirect", "isNewUser": false}', '127.0.0.1', 'wrk');
COMMIT;
