-- In the shape of the Flink SQL documentation's ticker queries: a rise of
-- three or more rows, each above the row before (PREV), then a row more
-- than 10% below the peak. AFTER MATCH SKIP TO NEXT ROW looks for a match
-- from every row, also inside the previous match.
-- ACME prices 10 11 12 13 14 12 20 21 22 23 21: from 10, the rise 11-14
-- and the fall to 12 (below 12.6): a match; from 11, the rise 12-14 and
-- the same fall: a second match; from 12, only two rises. From 12 (the
-- fall row), the rise 20-23 and 21: not below 20.7, no match; from 20,
-- likewise.
SELECT *
FROM Ticker
    MATCH_RECOGNIZE (
        PARTITION BY symbol
        ORDER BY rowtime
        MEASURES
            FIRST(UP.rowtime) AS rise_start,
            LAST(UP.price) AS peak,
            FALL.price AS after_peak
        ONE ROW PER MATCH
        AFTER MATCH SKIP TO NEXT ROW
        PATTERN (START_ROW UP{3,} FALL)
        DEFINE
            UP AS UP.price > PREV(UP.price),
            FALL AS FALL.price < 0.9 * LAST(UP.price)
    ) MR;
