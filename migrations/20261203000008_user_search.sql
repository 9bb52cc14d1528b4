-- Name search the way staff type (../shared/search-folding.md): a fold of names, handles
-- and phone digits kept in a generated column, so every writer of "User" (Prisma services
-- included) keeps it right without knowing about it, and a trigram index finds substrings.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- NFKC; Cyrillic capitals lowered explicitly (lower() alone depends on the database's
-- ctype); apostrophe-like marks and the hard and soft signs dropped; Cyrillic to Latin;
-- then the spellings that stand for one sound made one (kh/x -> h, gh -> g, zh -> j, q -> k).
CREATE OR REPLACE FUNCTION portal_fold(input TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $fold$ SELECT replace(replace(replace(replace(replace(translate(replace(replace(replace(replace(replace(replace(replace(translate(lower(translate(normalize(input, NFKC), 'АБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУЎҮҰФХҲЦЧШЩЪЫЬЭЮЯӘІ', 'абвгғдеёжзийкқлмнңоөпрстуўүұфхҳцчшщъыьэюяәі')), 'ʻʼ''‘’`´ъь', ''), 'ё', 'yo'), 'ц', 'ts'), 'ч', 'ch'), 'ш', 'sh'), 'щ', 'sh'), 'ю', 'yu'), 'я', 'ya'), 'абвгғдежзийкқлмнңоөпрстуўүұфхҳыэәі', 'abvggdejziykqlmnnooprstuouufhhieai'), 'kh', 'h'), 'gh', 'g'), 'zh', 'j'), 'x', 'h'), 'q', 'k') $fold$;

ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "searchText" TEXT GENERATED ALWAYS AS (
    portal_fold(COALESCE("firstName", '') || ' ' || COALESCE("lastName", ''))
    || ' ' || portal_fold(COALESCE("telegramUsername", ''))
    || ' ' || regexp_replace(COALESCE("phone", ''), '[^0-9]', '', 'g')
) STORED;

CREATE INDEX IF NOT EXISTS "User_searchText_trgm_idx" ON "User" USING gin ("searchText" gin_trgm_ops);
-- Sorting by name: the fold starts with the name, so Cyrillic and Latin spellings sort together.
CREATE INDEX IF NOT EXISTS "User_searchText_id_idx" ON "User"("searchText", "id");
CREATE INDEX IF NOT EXISTS "User_telegramUsername_idx" ON "User"("telegramUsername");
