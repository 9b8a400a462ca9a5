-- scenario: alter_column_rename
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Altering column 'name' of 'products'
-- executed as: EXEC sp_rename @objname = ?, @newname = ?, @objtype = 'COLUMN'
-- with parameters: ('products.name', 'title')
EXEC sp_rename @objname = N'products.name', @newname = N'title', @objtype = 'COLUMN'
GO
