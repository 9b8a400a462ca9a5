-- scenario create_table_no_autoincrement: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Creating table 'lookup'
CREATE TABLE lookup (
	id INTEGER NOT NULL, 
	label VARCHAR2(30 CHAR) NOT NULL, 
	PRIMARY KEY (id)
);
