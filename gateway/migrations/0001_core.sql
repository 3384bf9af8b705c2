-- Core entities. Each row keeps the canonical JSON of one entity in `data`; the columns that
-- PostgreSQL must enforce (unique fields, foreign keys) are generated from it, so the JSON
-- stays the single source and the constraints cannot drift from it.

CREATE TABLE IF NOT EXISTS config_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO config_version (id, version) VALUES (1, 1) ON CONFLICT (id) DO NOTHING;

CREATE TABLE services (
    id   uuid PRIMARY KEY,
    seq  bigserial NOT NULL,
    data jsonb NOT NULL,
    name text GENERATED ALWAYS AS (data->>'name') STORED,
    CONSTRAINT services_name_key UNIQUE (name)
);

CREATE TABLE routes (
    id         uuid PRIMARY KEY,
    seq        bigserial NOT NULL,
    data       jsonb NOT NULL,
    name       text GENERATED ALWAYS AS (data->>'name') STORED,
    service_id uuid GENERATED ALWAYS AS ((data->'service'->>'id')::uuid) STORED,
    CONSTRAINT routes_name_key UNIQUE (name),
    CONSTRAINT routes_service_fkey FOREIGN KEY (service_id) REFERENCES services (id)
);
CREATE INDEX routes_service_idx ON routes (service_id);

CREATE TABLE consumers (
    id        uuid PRIMARY KEY,
    seq       bigserial NOT NULL,
    data      jsonb NOT NULL,
    username  text GENERATED ALWAYS AS (data->>'username') STORED,
    custom_id text GENERATED ALWAYS AS (data->>'custom_id') STORED,
    CONSTRAINT consumers_username_key UNIQUE (username),
    CONSTRAINT consumers_custom_id_key UNIQUE (custom_id)
);

CREATE TABLE keyauth_credentials (
    id          uuid PRIMARY KEY,
    seq         bigserial NOT NULL,
    data        jsonb NOT NULL,
    key         text GENERATED ALWAYS AS (data->>'key') STORED,
    consumer_id uuid GENERATED ALWAYS AS ((data->'consumer'->>'id')::uuid) STORED,
    CONSTRAINT keyauth_credentials_key_key UNIQUE (key),
    CONSTRAINT keyauth_credentials_consumer_fkey FOREIGN KEY (consumer_id)
        REFERENCES consumers (id) ON DELETE CASCADE
);
CREATE INDEX keyauth_credentials_consumer_idx ON keyauth_credentials (consumer_id);

CREATE TABLE upstreams (
    id   uuid PRIMARY KEY,
    seq  bigserial NOT NULL,
    data jsonb NOT NULL,
    name text GENERATED ALWAYS AS (data->>'name') STORED,
    CONSTRAINT upstreams_name_key UNIQUE (name)
);

CREATE TABLE targets (
    id          uuid PRIMARY KEY,
    seq         bigserial NOT NULL,
    data        jsonb NOT NULL,
    target      text GENERATED ALWAYS AS (data->>'target') STORED,
    upstream_id uuid GENERATED ALWAYS AS ((data->'upstream'->>'id')::uuid) STORED,
    CONSTRAINT targets_target_key UNIQUE (upstream_id, target),
    CONSTRAINT targets_upstream_fkey FOREIGN KEY (upstream_id)
        REFERENCES upstreams (id) ON DELETE CASCADE
);

CREATE TABLE plugins (
    id            uuid PRIMARY KEY,
    seq           bigserial NOT NULL,
    data          jsonb NOT NULL,
    name          text GENERATED ALWAYS AS (data->>'name') STORED,
    instance_name text GENERATED ALWAYS AS (data->>'instance_name') STORED,
    service_id    uuid GENERATED ALWAYS AS ((data->'service'->>'id')::uuid) STORED,
    route_id      uuid GENERATED ALWAYS AS ((data->'route'->>'id')::uuid) STORED,
    consumer_id   uuid GENERATED ALWAYS AS ((data->'consumer'->>'id')::uuid) STORED,
    CONSTRAINT plugins_instance_name_key UNIQUE (instance_name),
    CONSTRAINT plugins_service_fkey FOREIGN KEY (service_id)
        REFERENCES services (id) ON DELETE CASCADE,
    CONSTRAINT plugins_route_fkey FOREIGN KEY (route_id)
        REFERENCES routes (id) ON DELETE CASCADE,
    CONSTRAINT plugins_consumer_fkey FOREIGN KEY (consumer_id)
        REFERENCES consumers (id) ON DELETE CASCADE
);
-- One instance of a plugin per scope, as Kong's cache key (name, route, service, consumer).
CREATE UNIQUE INDEX plugins_scope_key ON plugins (
    name,
    coalesce(route_id, '00000000-0000-0000-0000-000000000000'),
    coalesce(service_id, '00000000-0000-0000-0000-000000000000'),
    coalesce(consumer_id, '00000000-0000-0000-0000-000000000000')
);

-- Every change bumps the version and tells listening nodes, whoever made it (Admin API, sync,
-- or a hand-written SQL statement).
CREATE FUNCTION gateway_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    UPDATE config_version SET version = version + 1 WHERE id = 1 RETURNING version INTO v;
    PERFORM pg_notify('gateway_config', v::text);
    RETURN NULL;
END;
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['services', 'routes', 'consumers', 'keyauth_credentials',
                             'upstreams', 'targets', 'plugins']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION gateway_config_changed()',
                       t || '_changed', t);
    END LOOP;
END;
$$;
