-- npa:up
CREATE TABLE "semi;colon" ("it's" VARCHAR2(10), "x y" NUMBER DEFAULT 1);
DECLARE
  n NUMBER;
BEGIN
  SELECT COUNT(*) INTO n FROM "semi;colon";
  IF n = 0 THEN
    INSERT INTO "semi;colon" ("it's") VALUES ('a;b');
  END IF;
END;
/
INSERT INTO "semi;colon" ("it's", "x y") VALUES (q'[it's]', 2);
-- npa:down
DROP TABLE "semi;colon";
