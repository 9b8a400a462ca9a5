-- scenario: rename_table
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Renaming table 'products' to 'articles'
-- executed as: EXEC sp_rename @objname = ?, @newname = ?
-- with parameters: ('products', 'articles')
EXEC sp_rename @objname = N'products', @newname = N'articles'
GO
-- Renaming table 'everything' to 'all_things'
-- executed as: EXEC sp_rename @objname = ?, @newname = ?
-- with parameters: ('sales.everything', 'all_things')
EXEC sp_rename @objname = N'sales.everything', @newname = N'all_things'
GO
