-- Only the latest month: a quick look while the full history is not needed.
CREATE OR REPLACE TABLE sales_latest AS
SELECT * FROM read_csv('data/sales-2026-03.csv', header = true, columns = {
  'date': 'DATE', 'region': 'VARCHAR', 'product': 'VARCHAR', 'units': 'INTEGER', 'unit_price': 'DOUBLE'
});
SELECT count(*) AS rows FROM sales_latest;
