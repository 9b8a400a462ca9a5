-- scenario create_primary_key: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Adding primary key 'pk_lookup'
ALTER TABLE lookup ADD CONSTRAINT pk_lookup PRIMARY KEY (id);
-- Adding primary key 'pk_audit'
ALTER TABLE sales.audit ADD CONSTRAINT pk_audit PRIMARY KEY (id, at);
