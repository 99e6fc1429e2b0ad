-- Which broker acknowledged each published row (platform-kafka): its cluster id. A relay that
-- finds itself talking to another cluster (a broker that lost its log: the embedded broker
-- after a restart, a cluster rebuilt from scratch) publishes again every row it still keeps
-- that the new cluster has not seen. '' = unknown (rows from before this column): never
-- replayed.
alter table outbox add column sent_to text not null default '';
