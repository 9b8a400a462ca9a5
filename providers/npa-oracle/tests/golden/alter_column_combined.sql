-- scenario alter_column_combined: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Altering column 'qty' of 'products'
ALTER TABLE sales.products MODIFY (qty NUMBER(19) DEFAULT 0 NOT NULL);
ALTER TABLE sales.products RENAME COLUMN qty TO quantity;
-- Altering column 'note' of 'products'
ALTER TABLE products MODIFY (note VARCHAR2(50 CHAR));
BEGIN
  EXECUTE IMMEDIATE 'ALTER TABLE products MODIFY (note NULL)';
EXCEPTION
  WHEN OTHERS THEN
    IF SQLCODE != -1451 THEN
      RAISE;
    END IF;
END;
/
