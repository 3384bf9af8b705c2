-- Counters of the rate-limiting plugin's `cluster` policy: one row per plugin scope (route and
-- service, the nil UUID when unset), identifier and window. Times are seconds since the epoch
-- (UTC); a row is garbage once `expire_at`, the end of its window, has passed.

CREATE TABLE IF NOT EXISTS ratelimiting_metrics (
    route_id    uuid   NOT NULL,
    service_id  uuid   NOT NULL,
    identifier  text   NOT NULL,
    period      text   NOT NULL,
    period_date bigint NOT NULL,
    value       bigint NOT NULL,
    expire_at   bigint NOT NULL,
    PRIMARY KEY (route_id, service_id, identifier, period, period_date)
);

CREATE INDEX IF NOT EXISTS ratelimiting_metrics_expire_at_idx ON ratelimiting_metrics (expire_at);
