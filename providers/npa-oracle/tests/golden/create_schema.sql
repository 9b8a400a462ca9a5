-- scenario create_schema: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Creating schema 'sales'
DECLARE
  ts VARCHAR2(128);
BEGIN
  SELECT default_tablespace INTO ts FROM user_users;
  EXECUTE IMMEDIATE 'CREATE USER sales NO AUTHENTICATION'
    || ' DEFAULT TABLESPACE "' || ts || '"'
    || ' QUOTA UNLIMITED ON "' || ts || '"';
END;
/
