-- scenario: schemas
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Creating schema 'sales'
CREATE SCHEMA sales
GO
-- Dropping schema 'archive'
DROP SCHEMA archive
GO
