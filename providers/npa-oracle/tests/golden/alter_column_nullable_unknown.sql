-- scenario alter_column_nullable_unknown: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Altering column 'name' of 'products'
BEGIN
  EXECUTE IMMEDIATE 'ALTER TABLE products MODIFY (name NOT NULL)';
EXCEPTION
  WHEN OTHERS THEN
    IF SQLCODE != -1442 THEN
      RAISE;
    END IF;
END;
/
-- Altering column 'code' of 'products'
BEGIN
  EXECUTE IMMEDIATE 'ALTER TABLE products MODIFY (code NULL)';
EXCEPTION
  WHEN OTHERS THEN
    IF SQLCODE != -1451 THEN
      RAISE;
    END IF;
END;
/
