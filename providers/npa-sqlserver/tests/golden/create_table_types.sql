-- scenario: create_table_types
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Creating table 'everything'
CREATE TABLE sales.everything (
	id BIGINT NOT NULL IDENTITY(1000,10), 
	code NVARCHAR(10) NOT NULL, 
	plain_varchar VARCHAR(30) NULL, 
	unicode NVARCHAR(30) NULL, 
	unbounded NVARCHAR(max) NULL, 
	legacy_datetime DATETIME NULL, 
	moment DATETIMEOFFSET NULL, 
	day DATE NULL, 
	clock TIME NULL, 
	guid UNIQUEIDENTIFIER NULL, 
	blob VARBINARY(max) NULL, 
	ratio FLOAT NULL, 
	small SMALLINT NULL, 
	money NUMERIC(19, 4) NULL, 
	status NVARCHAR(9) NULL, 
	payload NVARCHAR(max) NULL, 
	binary_name NVARCHAR(20) COLLATE Latin1_General_BIN2 NULL, 
	PRIMARY KEY (id, code)
)
GO
