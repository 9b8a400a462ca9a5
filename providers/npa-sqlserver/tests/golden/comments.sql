-- scenario: comments
-- provider: mssql (mssql+pyodbc://app:***@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server)

-- Adding column 'note'
ALTER TABLE products ADD note NVARCHAR(50) NULL
GO
execute sp_addextendedproperty 'MS_Description', N'a ''note''', 'schema', dbo, 'table', products, 'column', note
GO
-- Altering column 'note' of 'products'
execute sp_dropextendedproperty 'MS_Description', 'schema', dbo, 'table', products, 'column', note
GO
execute sp_addextendedproperty 'MS_Description', N'changed', 'schema', dbo, 'table', products, 'column', note
GO
execute sp_dropextendedproperty 'MS_Description', 'schema', dbo, 'table', products, 'column', note
GO
