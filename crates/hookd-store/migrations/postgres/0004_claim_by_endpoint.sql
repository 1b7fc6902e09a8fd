-- The claim under a per-endpoint cap counted over all nodes: a loose index scan lists the
-- endpoints with pending rows, one seek each, and takes each one's oldest due rows, so that
-- it never reads the backlog of an endpoint at its cap. Recording an outcome also checks here
-- whether the endpoint has pending rows that wait for room.
CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at)
    WHERE status = 1;
