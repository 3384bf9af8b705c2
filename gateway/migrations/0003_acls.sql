-- ACL group memberships (the `acl` plugin's `acls`): a consumer belongs to a group at most
-- once, and its memberships go with it. `group` is an SQL keyword, hence the quotes.

CREATE TABLE acls (
    id          uuid PRIMARY KEY,
    seq         bigserial NOT NULL,
    data        jsonb NOT NULL,
    "group"     text GENERATED ALWAYS AS (data->>'group') STORED,
    consumer_id uuid GENERATED ALWAYS AS ((data->'consumer'->>'id')::uuid) STORED,
    CONSTRAINT acls_group_key UNIQUE (consumer_id, "group"),
    CONSTRAINT acls_consumer_fkey FOREIGN KEY (consumer_id)
        REFERENCES consumers (id) ON DELETE CASCADE
);

CREATE TRIGGER acls_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON acls
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_config_changed();
