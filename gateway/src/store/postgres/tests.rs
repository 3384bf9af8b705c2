use super::constraint_field;

#[test]
fn constraint_names_map_to_entity_fields() {
    let cases = [
        ("services", "services_name_key", "name"),
        ("services", "services_pkey", "id"),
        ("consumers", "consumers_username_key", "username"),
        ("consumers", "consumers_custom_id_key", "custom_id"),
        // The field is itself called `key`: only one suffix comes off.
        ("keyauth_credentials", "keyauth_credentials_key_key", "key"),
        (
            "keyauth_credentials",
            "keyauth_credentials_consumer_fkey",
            "consumer",
        ),
        ("targets", "targets_target_key", "target"),
        ("acls", "acls_group_key", "group"),
        ("acls", "acls_consumer_fkey", "consumer"),
        ("plugins", "plugins_instance_name_key", "instance_name"),
        ("plugins", "plugins_scope_key", "scope"),
        ("routes", "routes_service_fkey", "service"),
        ("routes", "unrelated", "unrelated"),
    ];
    for (table, constraint, field) in cases {
        assert_eq!(constraint_field(table, constraint), field, "{constraint}");
    }
}
