//! The GCRA script may only use what Redis 6.2 has (managed Redis 6): Redis 6.2 commands
//! named as literals, the option words they took in 6.2, no `redis.*` function added later.

#[test]
fn the_script_uses_only_redis_6_2_commands_and_options() {
    let script = include_str!("../src/gcra.lua");
    assert_eq!(
        platform_redis::redis_6_2_violations(script),
        Vec::<String>::new()
    );
}
