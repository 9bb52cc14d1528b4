-- Enum types named and spelled the way Prisma Migrate creates them. A legacy database may
-- already hold "UserRole" with fewer values, so types are created only when missing and
-- values are added one by one. New values are first *used* by later migrations: PostgreSQL
-- refuses a value in the transaction that added it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'UserRole') THEN
        CREATE TYPE "UserRole" AS ENUM ('USER', 'SUPPORT', 'ADMIN', 'SUPER_ADMIN');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'RegistrationSource') THEN
        CREATE TYPE "RegistrationSource" AS ENUM ('WEB', 'TELEGRAM', 'MOBILE_APP');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'Region') THEN
        CREATE TYPE "Region" AS ENUM ('UZ', 'KZ', 'KG', 'TJ', 'TM', 'RU', 'OTHER');
    END IF;
END
$$;

ALTER TYPE "UserRole" ADD VALUE IF NOT EXISTS 'USER';
ALTER TYPE "UserRole" ADD VALUE IF NOT EXISTS 'SUPPORT';
ALTER TYPE "UserRole" ADD VALUE IF NOT EXISTS 'ADMIN';
ALTER TYPE "UserRole" ADD VALUE IF NOT EXISTS 'SUPER_ADMIN';
