-- ´ (U+00B4) is one of the apostrophes the fold drops (../shared/search-folding.md), but NFKC
-- turns it into a space and a combining acute before the fold looks for it, so "O´tkir"
-- folded to "otkir ́" and could not be found as Otkir, Oʻtkir or Ўткир. It is now dropped
-- before NFKC; otherwise the fold is unchanged.
CREATE OR REPLACE FUNCTION portal_fold(input TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $fold$ SELECT replace(replace(replace(replace(replace(translate(replace(replace(replace(replace(replace(replace(replace(translate(lower(translate(normalize(replace(input, '´', ''), NFKC), 'АБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУЎҮҰФХҲЦЧШЩЪЫЬЭЮЯӘІ', 'абвгғдеёжзийкқлмнңоөпрстуўүұфхҳцчшщъыьэюяәі')), 'ʻʼ''‘’`´ъь', ''), 'ё', 'yo'), 'ц', 'ts'), 'ч', 'ch'), 'ш', 'sh'), 'щ', 'sh'), 'ю', 'yu'), 'я', 'ya'), 'абвгғдежзийкқлмнңоөпрстуўүұфхҳыэәі', 'abvggdejziykqlmnnooprstuouufhhieai'), 'kh', 'h'), 'gh', 'g'), 'zh', 'j'), 'x', 'h'), 'q', 'k') $fold$;

-- A stored generated column is computed when its row is written, not when its function
-- changes: rewriting the rows that hold a ´ recomputes their "searchText".
UPDATE "User" SET "firstName" = "firstName"
WHERE strpos("firstName", '´') > 0 OR strpos("lastName", '´') > 0 OR strpos("telegramUsername", '´') > 0;
