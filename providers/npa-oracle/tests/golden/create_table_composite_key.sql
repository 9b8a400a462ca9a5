-- scenario create_table_composite_key: rendered by npa-oracle for oracle+oracledb://app:***@db.example.com:1521/?service_name=FREEPDB1

-- Creating table 'user_roles'
CREATE TABLE user_roles (
	user_id INTEGER NOT NULL, 
	role VARCHAR2(50 CHAR) NOT NULL, 
	CONSTRAINT pk_user_roles PRIMARY KEY (user_id, role)
);
