-- Flink SQL documentation, "Detecting Patterns in Tables", introductory
-- example: a ticker's price falls (PRICE_DOWN+) from a start row, then
-- rises again (PRICE_UP). One change: the documentation's PRICE_UP reads
-- LAST(PRICE_DOWN.price, 1), the row before the last PRICE_DOWN, which the
-- pattern language cannot reach (the import refuses it, naming it; see
-- sql_import_test's FlinkPriceDropAsDocumentedIsRefused); here it compares
-- with the last PRICE_DOWN row, the bottom. The documentation's result,
-- the same for both: ACME from 10:00:04 (25) down to 10:00:07 (14), up at
-- 10:00:08 (24).
SELECT *
FROM Ticker
    MATCH_RECOGNIZE (
        PARTITION BY symbol
        ORDER BY rowtime
        MEASURES
            START_ROW.rowtime AS start_tstamp,
            LAST(PRICE_DOWN.rowtime) AS bottom_tstamp,
            LAST(PRICE_UP.rowtime) AS end_tstamp
        ONE ROW PER MATCH
        AFTER MATCH SKIP TO LAST PRICE_UP
        PATTERN (START_ROW PRICE_DOWN+ PRICE_UP)
        DEFINE
            PRICE_DOWN AS
                (LAST(PRICE_DOWN.price, 1) IS NULL AND PRICE_DOWN.price < START_ROW.price) OR
                    PRICE_DOWN.price < LAST(PRICE_DOWN.price, 1),
            PRICE_UP AS
                PRICE_UP.price > LAST(PRICE_DOWN.price)
    ) MR;
