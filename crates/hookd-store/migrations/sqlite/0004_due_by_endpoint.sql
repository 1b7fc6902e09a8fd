-- Pending deliveries by endpoint, oldest due first: lets a claim that must pass over busy
-- endpoints jump from one endpoint to the next instead of reading every row of the busy ones.
CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at)
    WHERE status = 1;
