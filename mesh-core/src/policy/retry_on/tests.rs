use super::{Condition, RetryOn};

#[test]
fn every_subset_round_trips_through_display() {
    // 12 conditions: all 4096 subsets are cheap to check exhaustively.
    for bits in 0u16..1 << Condition::ALL.len() {
        let set: RetryOn = Condition::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect();
        let text = set.to_string();
        assert_eq!(RetryOn::parse(&text), Ok(set), "{text:?}");
        assert_eq!(set.iter().count(), bits.count_ones() as usize);
    }
}

#[test]
fn display_is_canonical_whatever_the_order_written() {
    let on = RetryOn::parse(" unavailable ,reset,5xx,reset ").unwrap();
    assert_eq!(on.to_string(), "5xx,reset,unavailable");
    assert_eq!(format!("{on:?}"), "RetryOn(5xx,reset,unavailable)");
    assert_eq!(RetryOn::parse("5xx,,reset"), RetryOn::parse("5xx,reset"));
    assert_eq!(RetryOn::parse(""), Ok(RetryOn::NONE));
    assert!(RetryOn::NONE.is_empty() && RetryOn::NONE.to_string().is_empty());
    assert_eq!(
        "gateway-error".parse::<RetryOn>(),
        Ok(Condition::GatewayError.into())
    );
}

#[test]
fn contains_only_what_was_written() {
    let on = RetryOn::parse("5xx,connect-failure").unwrap();
    assert!(on.contains(Condition::FiveXx) && on.contains(Condition::ConnectFailure));
    for c in Condition::ALL {
        if !matches!(c, Condition::FiveXx | Condition::ConnectFailure) {
            assert!(!on.contains(c), "{c}");
        }
    }
    let both = on.union(RetryOn::from(Condition::Reset));
    assert_eq!(
        both.iter().collect::<Vec<_>>(),
        [Condition::FiveXx, Condition::Reset, Condition::ConnectFailure]
    );
}

#[test]
fn unknown_names_are_named_with_the_known_ones() {
    let err = RetryOn::parse("5xx,reset-before-request").unwrap_err();
    assert!(
        err.starts_with(r#""reset-before-request" is not a retry_on condition"#),
        "{err}"
    );
    for c in Condition::ALL {
        assert!(err.contains(c.name()), "{err} should list {c}");
    }
    // Names are Envoy's, exactly: no case folding, no underscores.
    assert!(RetryOn::parse("5XX").is_err());
    assert!(RetryOn::parse("connect_failure").is_err());
}

#[test]
fn names_and_grpc_statuses_map_both_ways() {
    for c in Condition::ALL {
        assert_eq!(Condition::from_name(c.name()), Some(c));
        if let Some(code) = c.grpc_status() {
            assert_eq!(Condition::from_grpc_status(code), Some(c));
        }
    }
    assert_eq!(Condition::Unavailable.grpc_status(), Some(14));
    assert_eq!(Condition::FiveXx.grpc_status(), None);
    assert_eq!(Condition::from_grpc_status(0), None);
}

#[test]
fn serializes_as_the_comma_list() {
    let on = RetryOn::parse("reset,5xx").unwrap();
    assert_eq!(serde_json::to_string(&on).unwrap(), r#""5xx,reset""#);
}
