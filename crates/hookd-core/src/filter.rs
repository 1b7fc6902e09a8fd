//! Which endpoints a message goes to: event-type and channel filters, as Svix defines them.

/// An endpoint with no event types listed takes every event type; one with channels listed
/// takes only messages that share at least one channel with it.
pub fn endpoint_wants(
    endpoint_event_types: Option<&[String]>,
    endpoint_channels: Option<&[String]>,
    event_type: &str,
    message_channels: Option<&[String]>,
) -> bool {
    let type_ok = match endpoint_event_types {
        None | Some([]) => true,
        Some(types) => types.iter().any(|t| t == event_type),
    };
    let channel_ok = match endpoint_channels {
        None | Some([]) => true,
        Some(wanted) => message_channels
            .unwrap_or_default()
            .iter()
            .any(|c| wanted.contains(c)),
    };
    type_ok && channel_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_endpoint_without_filters_takes_everything() {
        assert!(endpoint_wants(None, None, "a", None));
        assert!(endpoint_wants(None, None, "a", Some(&v(&["c"]))));
    }

    #[test]
    fn event_type_filter_takes_only_listed_types() {
        let types = v(&["invoice.paid"]);
        assert!(endpoint_wants(Some(&types), None, "invoice.paid", None));
        assert!(!endpoint_wants(Some(&types), None, "invoice.void", None));
    }

    #[test]
    fn channel_filter_needs_a_shared_channel() {
        let chans = v(&["p1", "p2"]);
        assert!(endpoint_wants(
            None,
            Some(&chans),
            "a",
            Some(&v(&["x", "p2"]))
        ));
        assert!(!endpoint_wants(None, Some(&chans), "a", Some(&v(&["x"]))));
        assert!(!endpoint_wants(None, Some(&chans), "a", None));
    }
}
